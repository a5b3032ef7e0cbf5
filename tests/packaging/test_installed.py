"""The venv the tests run in holds sora-widget as users get it: the wheel in dist/, installed
(not editable, no `jupyter labextension develop` link), its notebook extension found and enabled
by Jupyter, and kernels importing the installed package — not this source tree.

(The pytest process itself imports sora_widget from the tree: pytest puts the rootdir on
sys.path. Servers and kernels are other processes, started outside the tree.)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import httpx
from jupyter_core.paths import jupyter_path

from ..kernels import KernelSession
from .conftest import DATA, LABEXTENSION, ROOT

SITE_PACKAGES = Path(sysconfig.get_path("purelib")).resolve()
DATA_ROOT = Path(sysconfig.get_path("data")).resolve()
INSTALLED_EXTENSION = DATA_ROOT / LABEXTENSION
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PAGE_CONFIG = re.compile(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', re.DOTALL)


def _jupyter_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("JUPYTER_CONFIG_DIR", None)
    return env


def test_the_venv_holds_the_wheel_from_dist_not_an_editable_install(wheel_path: Path) -> None:
    dist = metadata.distribution("sora-widget")
    direct_url = json.loads(dist.read_text("direct_url.json") or "{}")
    assert "dir_info" not in direct_url, f"sora-widget is installed from a folder (editable?): {direct_url}"
    assert direct_url["url"] == wheel_path.as_uri(), direct_url
    digest = hashlib.sha256(wheel_path.read_bytes()).hexdigest()
    archive = direct_url["archive_info"]
    recorded = archive.get("hashes", {}).get("sha256") or archive.get("hash", "").removeprefix("sha256=")
    assert recorded == digest, "installed from an older wheel"
    assert not [f for f in dist.files or [] if str(f).endswith(".pth")], "an editable finder is installed"


def test_every_file_of_the_wheel_is_installed_unchanged(wheel: zipfile.ZipFile) -> None:
    """site-packages/sora_widget and <prefix>/share/jupyter/labextensions/sora-widget are
    byte for byte the wheel's (no symlink into the source tree, nothing stale)."""
    checked = 0
    for name in wheel.namelist():
        if ".dist-info/" in name:
            continue
        path = DATA_ROOT / name.removeprefix(DATA) if name.startswith(DATA) else SITE_PACKAGES / name
        assert path.is_file(), f"{name} is not installed at {path}"
        assert not path.is_symlink()
        assert path.read_bytes() == wheel.read(name), f"{path} differs from the wheel's {name}"
        checked += 1
    assert checked > 40
    # not a link into the source tree (what `jupyter labextension develop` leaves)
    assert INSTALLED_EXTENSION.resolve() == INSTALLED_EXTENSION
    assert ROOT / "sora_widget" not in INSTALLED_EXTENSION.resolve().parents


def test_jupyter_finds_the_notebook_extension_once_in_this_venv() -> None:
    candidates = [Path(folder) / "sora-widget" for folder in jupyter_path("labextensions")]
    found = [path for path in candidates if path.exists()]
    assert found == [INSTALLED_EXTENSION], found


def test_jupyter_labextension_list_shows_it_enabled_and_ok(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        cwd=tmp_path,
        env=_jupyter_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    listing = ANSI.sub("", run.stdout + run.stderr)
    section = listing.split(str(DATA_ROOT / "share" / "jupyter" / "labextensions"), 1)
    assert len(section) == 2, listing
    version = metadata.version("sora-widget")
    line = re.search(r"^\s*sora-widget v(\S+) (\S+) (\S+)(.*)$", section[1], re.MULTILINE)
    assert line, listing
    assert line.group(1) == version and line.group(2) == "enabled" and line.group(3) == "OK", line.group(0)
    assert "(python, sora-widget)" in line.group(4), line.group(0)  # install.json: pip owns it


def test_jupyterlab_serves_the_wheels_extension_and_its_manager_lists_it_enabled(
    tmp_path: Path, wheel: zipfile.ZipFile
) -> None:
    from ..e2e.harness import JupyterServer

    (tmp_path / "root").mkdir()
    server = JupyterServer("lab", tmp_path / "root", env=_jupyter_env()).start()
    try:
        params = {"token": server.token}
        extensions = httpx.get(f"{server.base_url}/lab/api/extensions", params=params, timeout=30).json()
        ours = [e for e in extensions if e["name"] == "sora-widget"]
        assert len(ours) == 1, [e["name"] for e in extensions]
        (entry,) = ours
        assert entry["enabled"] and entry["installed"] and entry["status"] == "ok", entry
        assert entry["pkg_type"] == "prebuilt"
        assert entry["installed_version"] == metadata.version("sora-widget")
        assert entry["install"]["packageName"] == "sora-widget"

        # the page JupyterLab serves loads the remote entry the wheel carries, byte for byte
        package = json.loads(wheel.read(DATA + LABEXTENSION + "package.json"))
        load = package["jupyterlab"]["_build"]["load"]
        page = httpx.get(f"{server.base_url}/lab", params=params, timeout=30).text
        config = json.loads(PAGE_CONFIG.search(page)[1])  # type: ignore[index]
        federated = {e["name"]: e for e in config["federated_extensions"]}
        assert federated["sora-widget"]["load"] == load, federated.get("sora-widget")
        served = httpx.get(f"{server.base_url}/lab/extensions/sora-widget/{load}", params=params, timeout=30)
        assert served.status_code == 200
        assert served.content == wheel.read(DATA + LABEXTENSION + load)
    finally:
        server.stop()


def test_a_kernel_started_in_the_repository_imports_the_installed_package() -> None:
    """Kernels start where the notebook is: nbval's in notebooks/, the browser tests' in a
    temporary folder. Neither may pick up the source tree."""
    with KernelSession(env={}, cwd=ROOT / "notebooks") as kernel:
        (cell,) = kernel.run_all(
            [
                "import sys, importlib.metadata as m, pathlib, sora_widget\n"
                "package = pathlib.Path(sora_widget.__file__).resolve().parent\n"
                "print(package)\n"
                "print((package / 'static' / 'widget.js').is_file())\n"
                "print(m.version('sora-widget'), sora_widget.__version__)\n"
                "print(sys.executable)"
            ]
        )
    assert cell.status == "ok", cell.text
    package, has_view, versions, executable = cell.text.split("\n")[:4]
    assert Path(package) == SITE_PACKAGES / "sora_widget", package
    assert has_view == "True"
    assert versions.split() == [metadata.version("sora-widget")] * 2
    assert Path(executable).resolve() == Path(sys.executable).resolve()


def test_the_console_script_is_the_wheels(tmp_path: Path) -> None:
    script = Path(sysconfig.get_path("scripts")) / "sora-widget"
    assert script.is_file(), script
    run = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "emulator" in run.stdout
