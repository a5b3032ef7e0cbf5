# make demo · make test · make lint · make bench · make dist — each bootstraps .venv by itself.
#
# The wheel is the product: `make test` builds it (and the sdist) from this tree once, installs
# it into .venv as a user would (not editable, no `jupyter labextension develop`), and the
# browser tests, the kernels and the example notebooks run on that installation. Sources newer
# than the wheel rebuild it; nothing else does.
SHELL := /bin/bash
PYTHON ?= python3
# the notebook extension's build calls `jupyter labextension build` from the venv; the example
# notebooks call `sora-widget`
export PATH := $(CURDIR)/.venv/bin:$(PATH)
VENV := .venv
BIN := $(VENV)/bin
UV := $(VENV)/tools/bin/uv
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' sora_widget/_version.py)
WHEEL := dist/sora_widget-$(VERSION)-py3-none-any.whl
SDIST := dist/sora_widget-$(VERSION).tar.gz
NOTEBOOKS := quickstart.ipynb magics.ipynb reference-image.ipynb batch.ipynb reproducibility.ipynb cost.ipynb storyboard.ipynb
# pytest-xdist workers: two take the browser tests, a flavour each (then the example notebooks),
# the others take the rest module by module (see tests/conftest.py)
TEST_WORKERS ?= 5
# A key in your environment is never used by tests; bytecode is cached during the run (the
# venv's and the source tree's modules and pytest's rewritten tests, compiled once rather than
# by every kernel, server and command a test starts: where PYTHONDONTWRITEBYTECODE is set, as
# on CI's machines, a kernel took twice the CPU to start, a Jupyter server 1.5 times)
TEST_ENV := env -u SEGMIND_API_KEY -u SEGMIND_BASE_URL -u SORA_WIDGET_OUTPUT_DIR -u PYTHONDONTWRITEBYTECODE

# what the wheel is made of
PY_SOURCES := $(shell find sora_widget -path sora_widget/static -prune -o -path sora_widget/labextension -prune \
	-o -type f \( -name '*.py' -o -name '*.json' \) -print)
WIDGET_SOURCES := $(shell find js/src -type f) js/build.mjs js/package.json js/tsconfig.json
LAB_SOURCES := $(shell find js/lab/src js/lab/style -type f) js/lab/package.json js/lab/tsconfig.json
PACKAGE_FILES := pyproject.toml install.json LICENSE README.md
JS_FILES := $(shell find js -name node_modules -prune -o -path js/lab/lib -prune -o -name '*.tsbuildinfo' -o -type f -print)
TOOLS := $(VENV)/.build-tools
DEPS := $(VENV)/.deps
INSTALLED := $(VENV)/.wheel-installed

.PHONY: demo test test-js test-py install lint bench js notebooks dist clean screenshots protocol

# The venv without pip (ensurepip byte-compiles pip itself: 9 s of CPU alone, twice that in
# CI's first minute), then uv by whichever pip is at hand: Python's own (a few seconds), else
# the venv's through ensurepip. uv then installs pip into the venv, for the wheel.
$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

# (the Python the venv was made from, named by the venv itself: `python3` is the venv's here)
$(UV): | $(BIN)/python
	"$$($(BIN)/python -c 'import sys; print(sys._base_executable)')" -m pip install -q \
		--disable-pip-version-check --target $(VENV)/tools uv 2>/dev/null \
		|| { $(BIN)/python -m ensurepip > /dev/null && $(BIN)/python -m pip install -q --target $(VENV)/tools uv; }

# What building the wheel needs (jupyterlab for `jupyter labextension build` too), then
# everything else the dev extra names, read from pyproject.toml: the notebook extension builds
# while the second install runs, and npm installs beside both under make -j. uv installs them
# (parallel downloads and installs: seconds, where pip took nearly two minutes of CI's eight);
# the wheel itself is installed by pip, as users install it. Not compiled to bytecode here:
# compiling all 7,000 modules took 46 CPU-s of setup, and the test run caches the bytecode of
# the modules it imports instead (TEST_ENV), once, however many kernels and servers import them.
$(TOOLS): $(BIN)/python $(UV) pyproject.toml tests/packaging/requirements.py
	$(BIN)/python tests/packaging/requirements.py --build > $(VENV)/requirements-build.txt
	$(UV) pip install -q --python $(BIN)/python -r $(VENV)/requirements-build.txt pip
	touch $@

$(DEPS): $(TOOLS)
	$(BIN)/python tests/packaging/requirements.py dev > $(VENV)/requirements-dev.txt
	$(UV) pip install -q --python $(BIN)/python -r $(VENV)/requirements-dev.txt
	touch $@

# --prefer-offline: a package already in npm's cache is not asked about again (a third of npm's
# CPU with a warm cache; a cold one fetches as before). js/lab's one install script prints
# Font Awesome's attribution, so it does not run.
js/node_modules/.package-lock.json: js/package.json js/package-lock.json
	cd js && npm ci --prefer-offline --no-audit --no-fund --loglevel=error

js/lab/node_modules/.package-lock.json: js/lab/package.json js/lab/package-lock.json $(wildcard js/lab/build-stubs/*/package.json)
	cd js/lab && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error

# The widget's view (esbuild) and the notebook extension (tsc + jupyter labextension build).
# The wheel's build hook uses these outputs as they are; make keeps them current.
sora_widget/static/widget.js: js/node_modules/.package-lock.json $(WIDGET_SOURCES)
	cd js && npm run --silent build:widget
	touch $@

sora_widget/labextension/package.json: js/lab/node_modules/.package-lock.json $(LAB_SOURCES) $(TOOLS)
	rm -rf sora_widget/labextension
	cd js/lab && npm run --silent build
	touch $@

# python -m build, quiet unless it fails
define build
	rm -f $@
	$(BIN)/python -m build --no-isolation $(1) --outdir dist . > $(VENV)/build$(1).log 2>&1 \
		|| { cat $(VENV)/build$(1).log; exit 1; }
	@echo "built $@"
endef

js: sora_widget/static/widget.js sora_widget/labextension/package.json

install: $(INSTALLED)

$(WHEEL): $(TOOLS) sora_widget/static/widget.js sora_widget/labextension/package.json $(PY_SOURCES) $(PACKAGE_FILES)
	$(call build,--wheel)

# sources only: no npm here (the wheel's build hook runs npm when a wheel is built from it);
# after the wheel, so that under make -j it never walks the tree while js/ is being built
$(SDIST): $(TOOLS) $(PY_SOURCES) $(PACKAGE_FILES) $(JS_FILES) $(wildcard notebooks/*.ipynb) | $(WHEEL)
	$(call build,--sdist)

# Installed as a user installs it. An older setup's `jupyter labextension develop` link would
# route the wheel's extension files into the source tree: it goes first. Whatever installed
# sora-widget since (an editable install, say) leaves a newer RECORD: the wheel goes back in.
$(INSTALLED): $(WHEEL) $(DEPS) $(wildcard $(VENV)/lib/python*/site-packages/sora_widget-*.dist-info/RECORD)
	if [ -L $(VENV)/share/jupyter/labextensions/sora-widget ]; then rm $(VENV)/share/jupyter/labextensions/sora-widget; fi
	$(BIN)/pip install -q --no-deps --force-reinstall $(WHEEL)
	$(BIN)/pip check
	touch $@

DEMO := import pathlib, sys, sora_widget.demo as demo; demo.NOTEBOOKS = pathlib.Path.cwd(); sys.exit(demo.main())
# The notebooks folder is the demo's root: started from there, nothing puts the source tree on
# the path, so the demo runs the installed wheel (demo.py looks for notebooks/ beside the package
# it was imported from, which a wheel does not have: hence NOTEBOOKS).
demo: $(INSTALLED)
	cd notebooks && ../$(BIN)/python -c "$(DEMO)"

# The notebooks run on the embedded emulator: a key in your environment is never used by tests.
test: test-js test-py

# its report comes in one piece. Under make -j it runs beside the setup and pytest, niced: the
# setup's longest path (js/lab's install, the extension's build, the wheel) is what pytest waits
# for, and this only needs the cores' spare time. The notebook extension's types are checked by
# its build (tsc), which the wheel needs: here only the widget's (`make lint` checks both).
test-js: js/node_modules/.package-lock.json
	@log=$$(mktemp); (cd js && nice -n 10 npm run --silent typecheck:widget && nice -n 10 npm test --silent) > $$log 2>&1; \
		status=$$?; cat $$log; rm -f $$log; exit $$status

test-py: $(INSTALLED) $(SDIST)
	$(TEST_ENV) $(BIN)/python -m pytest tests notebooks -n $(TEST_WORKERS) \
		--nbval --nbval-sanitize-with notebooks/sanitize.cfg --durations=15

# The README's pictures (docs/screenshots), taken by the browser tests in JupyterLab
screenshots: $(INSTALLED)
	SCREENSHOTS=1 $(TEST_ENV) $(BIN)/python -m pytest -p no:cacheprovider tests/e2e -k "lab and (landscape or storyboard_runs or panel_lists)"

# What is written from the Python side: the view's protocol types (protocol.py), the options its
# tests run on (the catalogue) and the record schema's enums (the catalogue, the statuses). Tests
# fail when any is stale.
protocol: $(DEPS)
	$(BIN)/python tools/protocol_ts.py
	$(BIN)/python tools/view_options_json.py
	$(BIN)/python tools/record_schema.py

lint: $(DEPS) js/node_modules/.package-lock.json js/lab/node_modules/.package-lock.json
	$(BIN)/ruff check sora_widget tests bench
	$(BIN)/ruff format --check sora_widget tests bench
	$(BIN)/mypy
	cd js && npm run typecheck

bench: $(INSTALLED)
	$(BIN)/python -m bench

# Re-run the example notebooks and store their outputs (offline: on the embedded emulator),
# each on an empty output folder as nbval runs them (notebooks/conftest.py).
notebooks: $(INSTALLED)
	cd notebooks && for nb in $(NOTEBOOKS); do \
		rm -rf sora-outputs scratch; \
		env -u SEGMIND_API_KEY -u SEGMIND_BASE_URL -u SORA_WIDGET_OUTPUT_DIR ../$(BIN)/jupyter nbconvert \
			--to notebook --execute --inplace --ExecutePreprocessor.timeout=300 \
			--ExecutePreprocessor.store_widget_state=False $$nb || exit 1; \
	done

# What a release uploads, built the way a user's pip builds: in isolation, the wheel from the
# sdist (npm runs there, from the lockfiles); then checked like make test's artefacts.
dist: $(DEPS)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	$(TEST_ENV) $(BIN)/python -m pytest -p no:cacheprovider tests/packaging/test_artifacts.py -q

clean:
	rm -rf $(VENV) dist js/node_modules js/lab/node_modules js/lab/lib sora_widget/static sora_widget/labextension
