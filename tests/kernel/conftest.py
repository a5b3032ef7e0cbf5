"""Real kernels for Run All and interrupt tests: the installed ipykernel (7.x), and the
newest 6.x put before it on the kernel's path, each talking to one emulator."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from sora_widget.emulator import start as start_emulator

from ..kernels import KernelSession

FAKE_KEY = "sk-test-FAKE-kernel-70c1"
IPYKERNEL_6 = "ipykernel>=6.29,<7"


@pytest.fixture(scope="module")
def kernel_emulator() -> Iterator[Any]:
    with start_emulator(latency=0.5, workers=8) as handle:
        yield handle


@pytest.fixture(scope="session")
def ipykernel6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The newest ipykernel 6.x in a folder of its own (its dependencies are those of the
    test venv, which 6.x accepts). Shared by the test session's workers."""
    shared = tmp_path_factory.getbasetemp().parent / "ipykernel6"
    with FileLock(str(shared) + ".lock"):
        if not (shared / "ipykernel").is_dir():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--target",
                    str(shared),
                    IPYKERNEL_6,
                ],
                check=True,
                timeout=300,
            )
    return shared


@pytest.fixture(scope="module", params=["7", "6"], ids=["ipykernel7", "ipykernel6"])
def kernel_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_kernel(
    version: str, cwd: Path, emulator: Any, request: pytest.FixtureRequest, **env: str
) -> KernelSession:
    path = [request.getfixturevalue("ipykernel6")] if version == "6" else None
    session = KernelSession(
        env={"SEGMIND_API_KEY": FAKE_KEY, "SEGMIND_BASE_URL": emulator.base_url, **env},
        cwd=cwd,
        python_path=path,
    )
    session.__enter__()
    assert session.version().startswith(f"{version}."), session.version()
    return session


@pytest.fixture(scope="module")
def kernel(
    kernel_version: str,
    kernel_emulator: Any,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[KernelSession]:
    """One kernel per module and version: every case sends its cells to it in turn."""
    session = open_kernel(kernel_version, tmp_path_factory.mktemp("kernel"), kernel_emulator, request)
    yield session
    session.__exit__()
