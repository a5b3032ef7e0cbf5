# make demo · make test · make lint · make bench — each bootstraps .venv by itself.
SHELL := /bin/bash
PYTHON ?= python3
# the notebook extension's build calls `jupyter labextension build` from the venv
export PATH := $(CURDIR)/.venv/bin:$(PATH)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := quickstart.ipynb magics.ipynb reference-image.ipynb batch.ipynb reproducibility.ipynb storyboard.ipynb

.PHONY: demo test lint bench js notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

# Installing the package builds js/ (hatch-jupyter-builder runs npm install + npm run build).
$(STAMP): $(BIN)/python pyproject.toml js/package.json js/package-lock.json
	$(BIN)/pip install -q -e ".[dev]"
	# an editable install does not place the notebook extension: link it into the venv
	$(BIN)/jupyter labextension develop --overwrite . >/dev/null
	touch $(STAMP)

js: $(STAMP)
	cd js && npm install --no-audit --no-fund && npm run build

demo: $(STAMP) js
	$(BIN)/python -m sora_widget.demo

# The notebooks run on the embedded emulator: a key in your environment is never used by tests.
test: $(STAMP) js
	cd js && npm run typecheck && npm test
	env -u SEGMIND_API_KEY -u SEGMIND_BASE_URL -u SORA_WIDGET_OUTPUT_DIR $(BIN)/python -m pytest tests notebooks \
		--nbval --nbval-sanitize-with notebooks/sanitize.cfg --durations=15

lint: $(STAMP)
	$(BIN)/ruff check sora_widget tests bench
	$(BIN)/ruff format --check sora_widget tests bench
	$(BIN)/mypy
	cd js && npm run typecheck

bench: $(STAMP) js
	$(BIN)/python -m bench

# Re-run the example notebooks and store their outputs (offline: on the embedded emulator).
notebooks: $(STAMP) js
	cd notebooks && env -u SEGMIND_API_KEY -u SEGMIND_BASE_URL ../$(BIN)/jupyter nbconvert --to notebook \
		--execute --inplace --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.store_widget_state=False \
		$(NOTEBOOKS)

clean:
	rm -rf $(VENV) js/node_modules sora_widget/static sora_widget/labextension
