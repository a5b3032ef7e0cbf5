"""Test order, and how pytest-xdist shares the tests among workers (`make test` runs `-n 3`).

Playwright's sync API keeps an event loop running on the main thread for as long as its
browser lives (a session fixture); asyncio tests after it could not start their own loop in
that process. So in any one process the browser tests (tests/e2e) come after every asyncio
test: without xdist they simply run last (then the example notebooks, which start no loop).

With xdist (see BrowserApart) one worker takes every browser test as one unit from the
start — one Chromium, one Jupyter server per flavour — and afterwards only example notebooks;
the other workers take the rest module by module, so module fixtures (kernels, emulators)
start once.
"""

from __future__ import annotations

from typing import Any

import pytest

_ORDER = ("packaging", "unit", "emulator", "integration", "untrusted", "faults", "kernel", "e2e")
BROWSER = "tests/e2e"
NOTEBOOKS = "notebooks"
#: units a worker may take after the browser tests (they start no asyncio loop of their own)
AFTER_BROWSER = (NOTEBOOKS,)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        parts = item.nodeid.split("/")
        folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
        return _ORDER.index(folder) if folder in _ORDER else len(_ORDER)

    items.sort(key=rank)  # stable: keeps the order within each folder


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class BrowserApart(LoadScopeScheduling):  # type: ignore[misc]
        """xdist's loadscope (a module is one unit, given out in collection order), except that
        all of tests/e2e is one unit, handed at once to one worker that then takes nothing but
        AFTER_BROWSER units. With a single worker the browser unit keeps its place (last but
        the notebooks), as without xdist."""

        browser_node: Any = None

        def _split_scope(self, nodeid: str) -> str:
            # the example notebooks share notebooks/sora-outputs and scratch/, each emptied
            # before an example starts (notebooks/conftest.py): one unit, run in turn
            for unit in (BROWSER, NOTEBOOKS):
                if nodeid.startswith(unit + "/"):
                    return unit
            return super()._split_scope(nodeid)

        def _pick(self, node: Any) -> str | None:
            scopes = list(self.workqueue)
            if node is self.browser_node:
                return next((s for s in scopes if s.startswith(AFTER_BROWSER)), None)
            if BROWSER in self.workqueue and self.browser_node is None and len(self.nodes) > 1:
                self.browser_node = node
                return BROWSER
            others = [s for s in scopes if s != BROWSER]
            return others[0] if others else (BROWSER if self.browser_node is None else None)

        def remove_node(self, node: Any) -> str | None:
            if node is self.browser_node:  # crashed: whoever takes the unit again becomes it
                self.browser_node = None
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
