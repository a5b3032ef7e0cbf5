"""Test order: fast pure tests first, browser tests last.

Playwright's sync API keeps an event loop running on the main thread for as long as
its browser lives (a session fixture); asyncio tests after it could not start their
own loop. So every browser test runs after every other test.
"""

from __future__ import annotations

import pytest

_ORDER = ("unit", "emulator", "integration", "untrusted", "faults", "kernel", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        parts = item.nodeid.split("/")
        folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
        return _ORDER.index(folder) if folder in _ORDER else len(_ORDER)

    items.sort(key=rank)  # stable: keeps the order within each folder
