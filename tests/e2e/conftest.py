"""Fixtures for browser tests: one Chromium, a Jupyter server per flavour, and the emulator
the kernels talk to over 127.0.0.1 — for as long as the browser tests run (package scope):
pytest stops them when a process moves on to other tests. Playwright's sync API keeps an
asyncio loop set as running on the main thread while it lives, where asyncio tests and
`sw.generate` could not start one; once it is stopped, the process can run anything.

Under CI=true a missing browser fails the run; elsewhere those tests are skipped with
the reason, so a laptop without Chromium can still run the rest.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, AppPage, HostPage, HostServer, JupyterServer

FAKE_KEY = "sk-e2e-FAKE-5e1f0c4d9a"
BLOCK_WORD = "forbidden"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture(scope="package")
def e2e_emulator(emulator_cache_dir: Path) -> Iterator[Any]:
    from sora_widget.emulator import start

    with start(latency=1.5, workers=8, block_words=(BLOCK_WORD,), data_dir=emulator_cache_dir) as handle:
        yield handle


@pytest.fixture(scope="package", params=["lab", "notebook"], ids=["lab", "notebook7"])
def jupyter(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, e2e_emulator: Any):
    """One server per flavour for all the browser tests (pytest runs every test of one flavour,
    then every test of the other): a server start costs seconds of both cores."""
    root = tmp_path_factory.mktemp(f"root-{request.param}")
    env = {
        "SEGMIND_API_KEY": FAKE_KEY,
        "SEGMIND_BASE_URL": e2e_emulator.base_url,
        "SORA_WIDGET_OUTPUT_DIR": "sora-outputs",
    }
    server = JupyterServer(request.param, root, env=env).start()
    yield server
    server.stop()


@pytest.fixture(scope="module", autouse=True)
def outputs_per_module(jupyter: JupyterServer) -> None:
    """Each module starts without the clips and ledger of the modules before it, as when each
    had a server of its own (the kernels of earlier tests are shut down by then)."""
    clean_outputs(jupyter.root_dir)


@pytest.fixture(scope="package")
def app_page(browser: Any, jupyter: JupyterServer) -> Iterator[AppPage]:
    """The flavour's page, kept from test to test (see AppPage)."""
    app = AppPage(browser)
    yield app
    app.close()


@pytest.fixture
def page(jupyter: JupyterServer, app_page: AppPage, request: pytest.FixtureRequest) -> Iterator[Any]:
    page = app_page.take()
    problems: list[str] = []

    def page_error(error: Any) -> None:
        problems.append(f"page error: {error}")

    def console(msg: Any) -> None:
        if msg.type == "error":
            problems.append(f"console {msg.type}: {msg.text}")

    page.on("pageerror", page_error)
    page.on("console", console)
    yield page
    page.remove_listener("pageerror", page_error)
    page.remove_listener("console", console)
    failed = getattr(request.node, "rep_call", None)
    failed = failed is not None and failed.failed
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = request.node.name.replace("/", "_")
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as error:  # the page may be gone; the log still helps
            problems.append(f"no screenshot: {error}")
        (ARTIFACTS / f"{name}.log").write_text(jupyter.log() + "\n\n" + "\n".join(problems))
    # documents close before their kernels stop: a kernel stopped under an open notebook
    # would have JupyterLab ask which kernel to start instead
    app_page.give_back(reusable=not failed)
    jupyter.shutdown_kernels()


@pytest.fixture
def host_page(browser: Any, host_server: HostServer, request: pytest.FixtureRequest) -> Iterator[HostPage]:
    """A page of another host (Voilà, marimo): the test module names its server `host_server`.
    A failed test leaves its screenshot, the server's log and the page's errors in artifacts/."""
    page = HostPage(browser)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = request.node.name.replace("/", "_")
        problems = list(page.errors)
        try:
            page.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as error:  # the page may be gone; the log still helps
            problems.append(f"no screenshot: {error}")
        (ARTIFACTS / f"{name}.log").write_text(host_server.log() + "\n\n" + "\n".join(problems))
    page.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def screenshots_dir() -> Path | None:
    """Where the README's pictures go, when `make screenshots` asks for them (SCREENSHOTS=1);
    otherwise None and the tests skip taking them: the pictures are documentation, a theme
    switch and a tall page cost every run seconds of both cores, and a run of the tests
    should not rewrite tracked files."""
    if os.environ.get("SCREENSHOTS") != "1":
        return None
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_outputs(root: Path) -> None:
    shutil.rmtree(root / "sora-outputs", ignore_errors=True)
