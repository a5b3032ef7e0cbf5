"""Test order, and how pytest-xdist shares the tests among workers (`make test` runs `-n 5`).

The browser tests (tests/e2e) hold Playwright, whose sync API keeps an asyncio loop set as
running on the main thread for as long as it lives; asyncio tests could not start their own
loop beside it. Its fixtures are package-scoped (tests/e2e/conftest.py): a process leaving
tests/e2e stops it, and can run anything after. Without xdist the browser tests run last.

With xdist (see BrowserApart) the browser tests are two units, one per flavour (JupyterLab,
Notebook 7); the tests of other hosts (Voilà, marimo) join one each (HOST_FLAVOURS). With
BOTH_FLAVOURS_APART workers or more (make test's 5), each flavour goes to a
worker (a Chromium and a Jupyter server) of its own at the start, as the longest units of the
run; with fewer, one browser worker takes both. Every other unit is a module (module fixtures,
kernels and emulators, start once), except the example notebooks, which are one, and workers
take them in _ORDER: the folders whose modules take longest first, so that the last units to
start, when the browser workers join in, are short ones and the workers end together.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from sora_widget.emulator.config import FPS_VARIABLE

#: folders by how long their modules take (integration's take 10-90 s of a worker, unit's a
#: second or two); the browser tests are last without xdist (see above)
_ORDER = ("notebooks", "integration", "kernel", "packaging", "faults", "untrusted", "emulator", "unit", "e2e")
#: the units that take a worker 50-140 s (measured in full runs), started before all others:
#: one of them left until the workers' other units are done would run on alone (one started
#: when the browser workers joined in ended the run 40 s after the rest)
_LONG = (
    "notebooks",
    "tests/integration/test_magics.py",
    "tests/integration/test_reproducibility.py",
    "tests/integration/test_shots.py",
    "tests/kernel/test_run_all.py",
    "tests/integration/test_emulator_api.py",
    "tests/integration/test_client.py",
    "tests/integration/test_batch.py",
)
BROWSER = "tests/e2e"
#: the browser units: every browser test runs in each flavour (tests/e2e/conftest.py `jupyter`)
FLAVOURS = ("lab", "notebook7")
#: with this many xdist workers or more, each flavour gets a worker of its own
BOTH_FLAVOURS_APART = 5
#: the browser tests of other hosts (a server each, started by the module) go with a flavour's
#: unit, on its worker's Chromium: one each, so that neither worker takes both (marimo's, the
#: longer, 14 s of a worker and 8 CPU-s; Voilà's 10 s and 7 CPU-s)
HOST_FLAVOURS = {"tests/e2e/test_marimo.py": "lab", "tests/e2e/test_voila.py": "notebook7"}
NOTEBOOKS = "notebooks"
#: the emulators' frame rate in tests (see pytest_runtest_setup)
TEST_FPS = 8


def pytest_configure(config: pytest.Config) -> None:
    # A run started in the background by a non-interactive shell (`make test &`, some CI
    # runners) inherits SIGINT ignored, and so would every process a test starts: the tests
    # that press Ctrl-C in a child would see it ignored, as no terminal user ever does. A
    # handled signal is reset to its default in the children, so handling it here is enough.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Every emulator of the tests (in the workers, the kernels, the Jupyter servers' kernels
    and the commands the tests start, all of which inherit this) renders 8 frames a second,
    not 24: encoding was a quarter of the run's CPU, and a clip's size, length, determinism
    and playback do not depend on the rate. Tests of the default rate ask for it; the example
    notebooks run as users run them (notebooks/conftest.py), so this is set again before each
    test (before its fixtures start anything), not once: a worker may have run one since."""
    os.environ[FPS_VARIABLE] = str(TEST_FPS)


@pytest.fixture(scope="session")
def emulator_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One render cache for the whole run, shared by the xdist workers (each has its basetemp
    inside the run's): a clip with the same parameters is encoded once, whichever emulator
    asks. Renders are written atomically, so emulators in several processes may share it."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "emulator-cache"
    path.mkdir(exist_ok=True)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> tuple[bool, int, int]:
        path = item.nodeid.split("::")[0]
        parts = path.split("/")
        folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0]
        long = next((i for i, unit in enumerate(_LONG) if path == unit or folder == unit), len(_LONG))
        return folder == "e2e", long, _ORDER.index(folder) if folder in _ORDER else len(_ORDER)

    items.sort(key=rank)  # stable: keeps the order within each module and folder


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class BrowserApart(LoadScopeScheduling):  # type: ignore[misc]
        """xdist's loadscope (a module is one unit, given out in collection order), except that
        the browser tests of each flavour are one unit, handed at once to a worker of its own,
        which afterwards takes whatever is left. Without enough workers a browser unit keeps
        its place (last), as without xdist."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.browser_nodes: dict[Any, str] = {}  # worker → the browser unit it holds
            # a second Chromium and server cost CPU: the flavours share one worker unless
            # there are workers to spare
            workers = config.getoption("numprocesses")
            self.browser_workers = 2 if isinstance(workers, int) and workers >= BOTH_FLAVOURS_APART else 1

        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER + "/"):
                flavour = HOST_FLAVOURS.get(nodeid.split("::")[0]) or next(
                    (f for f in FLAVOURS if f"[{f}" in nodeid or f"-{f}" in nodeid), FLAVOURS[0]
                )
                return f"{BROWSER}[{flavour}]"
            # the example notebooks share notebooks/sora-outputs and scratch/, each emptied
            # before an example starts (notebooks/conftest.py): one unit, run in turn
            if nodeid.startswith(NOTEBOOKS + "/"):
                return NOTEBOOKS
            return super()._split_scope(nodeid)

        def _pick(self, node: Any) -> str | None:
            scopes = list(self.workqueue)
            browser = [s for s in scopes if s.startswith(BROWSER)]
            if node in self.browser_nodes:
                # the other flavour (one browser worker), else anything: once this worker's
                # browser tests are done their fixtures are stopped (package scope, see above)
                return (browser + scopes or [None])[0]
            # browser workers, while one worker at least is left for the rest
            if (
                browser
                and len(self.browser_nodes) < self.browser_workers
                and len(self.nodes) > len(self.browser_nodes) + 1
            ):
                self.browser_nodes[node] = browser[0]
                return browser[0]
            others = [s for s in scopes if not s.startswith(BROWSER)]
            return others[0] if others else (browser[0] if browser else None)

        def remove_node(self, node: Any) -> str | None:
            self.browser_nodes.pop(node, None)  # crashed: whoever takes its unit again owns it
            return super().remove_node(node)  # type: ignore[no-any-return]

        def _assign_work_unit(self, node: Any) -> None:
            scope = self._pick(node)
            if scope is None:
                # nothing more for this worker: it runs what it holds and stops (a worker keeps
                # its last test back until it hears whether more will come)
                node.shutdown()
                return
            work_unit = self.workqueue.pop(scope)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            collection = self.registered_collections[node]
            node.send_runtest_some([collection.index(n) for n, done in work_unit.items() if not done])

    if config.getoption("dist") not in ("load", "loadscope"):
        return None  # an explicit --dist mode of another kind is left to xdist
    config.option.loadscopereorder = False  # keep the collection order (browser tests last)
    return BrowserApart(config, log)
