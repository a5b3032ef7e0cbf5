"""The artefacts `make test` built (dist/) and the venv it installed the wheel into.

These tests fail — they do not skip — when dist/ holds no wheel of this version: everything
else in the run would then be testing something other than what users install.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
VERSION = re.search(r'__version__ = "([^"]+)"', (ROOT / "sora_widget" / "_version.py").read_text())[1]  # type: ignore[index]
WHEEL = DIST / f"sora_widget-{VERSION}-py3-none-any.whl"
SDIST = DIST / f"sora_widget-{VERSION}.tar.gz"
#: where a wheel puts files for <prefix>/share/jupyter/labextensions/sora-widget/
DATA = f"sora_widget-{VERSION}.data/data/"
LABEXTENSION = "share/jupyter/labextensions/sora-widget/"


def _built(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: `make test` builds it (or `make dist`)")
    return path


@pytest.fixture(scope="session")
def wheel_path() -> Path:
    return _built(WHEEL)


@pytest.fixture(scope="session")
def wheel(wheel_path: Path) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(wheel_path) as archive:
        yield archive


@pytest.fixture(scope="session")
def sdist_names() -> list[str]:
    """The sdist's files, relative to its top folder."""
    with tarfile.open(_built(SDIST)) as archive:
        top = f"sora_widget-{VERSION}/"
        names = [member.name for member in archive.getmembers() if member.isfile()]
    assert all(name.startswith(top) for name in names), names
    return [name.removeprefix(top) for name in names]
