"""What the wheel and the sdist hold: the notebook extension where Jupyter looks for it, the
widget's view inside the package, a licence, metadata a registry accepts; an sdist with the
sources (js/ and its lockfiles) from which the same wheel builds."""

from __future__ import annotations

import email.parser
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from .conftest import DATA, LABEXTENSION, ROOT, SDIST, VERSION, WHEEL

DIST_INFO = f"sora_widget-{VERSION}.dist-info/"


def _metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


def test_the_wheel_puts_the_notebook_extension_where_jupyter_finds_prebuilt_extensions(
    wheel: zipfile.ZipFile,
) -> None:
    prefix = DATA + LABEXTENSION
    shared = {name.removeprefix(prefix) for name in wheel.namelist() if name.startswith(prefix)}
    assert {"package.json", "install.json", "static/style.js"} <= shared, sorted(shared)

    package = json.loads(wheel.read(DATA + LABEXTENSION + "package.json"))
    assert package["name"] == "sora-widget"
    build = package["jupyterlab"]["_build"]  # written by `jupyter labextension build`: a prebuilt extension
    entry = build["load"]
    assert entry.startswith("static/remoteEntry.") and entry in shared, (entry, sorted(shared))
    assert build["mimeExtension"] and build["extension"]

    install = json.loads(wheel.read(DATA + LABEXTENSION + "install.json"))
    assert install == json.loads((ROOT / "install.json").read_text())
    assert install["packageName"] == "sora-widget"


def test_the_wheel_holds_the_package_its_view_and_the_extension_once_and_nothing_else(
    wheel: zipfile.ZipFile,
) -> None:
    names = wheel.namelist()
    view = {"sora_widget/static/widget.js", "sora_widget/static/widget.css"}
    assert {"sora_widget/__init__.py", *view} <= set(names)
    assert "sora_widget/records/generation-v1.schema.json" in names
    assert "sora_widget/emulator/__init__.py" in names and "sora_widget/client/__init__.py" in names
    # the extension ships in share/ only: no second copy inside the package
    assert not [n for n in names if n.startswith("sora_widget/labextension")]
    strays = [n for n in names if not n.startswith(("sora_widget/", DATA + LABEXTENSION, DIST_INFO))]
    assert not strays, strays
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_carries_the_licence_and_a_registry_would_take_its_metadata(wheel: zipfile.ZipFile) -> None:
    licence = wheel.read(DIST_INFO + "licenses/LICENSE").decode()
    assert licence == (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "Copyright (c) 2026 the sora-widget authors" in licence
    metadata = _metadata(wheel.read(DIST_INFO + "METADATA").decode())
    assert metadata["Name"] == "sora-widget" and metadata["Version"] == VERSION
    assert metadata["Metadata-Version"] == "2.4"
    assert metadata["License-Expression"] == "MIT" and metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "anywidget>=0.9" in metadata.get_all("Requires-Dist")
    entry_points = wheel.read(DIST_INFO + "entry_points.txt").decode()
    assert "sora-widget = sora_widget.cli:main" in entry_points


def _js_sources() -> set[str]:
    """Every file of js/ a build reads: sources, styles, configs and both lockfiles."""
    found = set()
    for path in (ROOT / "js").rglob("*"):
        parts = path.relative_to(ROOT).parts
        generated = "node_modules" in parts or parts[:3] == ("js", "lab", "lib")
        generated = generated or path.suffix == ".tsbuildinfo"
        if path.is_file() and not generated:
            found.add("/".join(parts))
    return found


def test_the_sdist_holds_the_sources_the_wheel_is_built_from(sdist_names: list[str]) -> None:
    names = set(sdist_names)
    for needed in ("pyproject.toml", "README.md", "LICENSE", "install.json", "PKG-INFO"):
        assert needed in names
    lockfiles = {"js/package.json", "js/package-lock.json", "js/lab/package.json", "js/lab/package-lock.json"}
    assert lockfiles <= names
    missing = _js_sources() - names
    assert not missing, f"js/ files a build needs are not in the sdist: {sorted(missing)}"
    python = {str(p.relative_to(ROOT)) for p in (ROOT / "sora_widget").rglob("*.py")}
    python = {p for p in python if "__pycache__" not in p}
    assert python <= names, sorted(python - names)
    assert "sora_widget/records/generation-v1.schema.json" in names
    assert {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")} <= names


def test_the_sdist_carries_no_build_outputs_and_no_installed_modules(sdist_names: list[str]) -> None:
    outputs = ("sora_widget/static/", "sora_widget/labextension/", "js/lab/lib/", "dist/", ".venv/")
    built = [n for n in sdist_names if n.startswith(outputs) or "node_modules/" in n or "__pycache__" in n]
    assert not built, built[:20]


def test_the_sdist_carries_the_licence_and_its_metadata(sdist_names: list[str]) -> None:
    with tarfile.open(SDIST) as archive:
        top = f"sora_widget-{VERSION}/"
        pkg_info = archive.extractfile(top + "PKG-INFO").read().decode()  # type: ignore[union-attr]
        licence = archive.extractfile(top + "LICENSE").read().decode()  # type: ignore[union-attr]
    assert licence == (ROOT / "LICENSE").read_text()
    metadata = _metadata(pkg_info)
    assert metadata["Metadata-Version"] == "2.4"
    assert metadata["License-Expression"] == "MIT" and metadata.get_all("License-File") == ["LICENSE"]


def test_twine_check_passes_on_both(wheel_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(WHEEL), str(SDIST)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASSED") == 2, run.stdout
