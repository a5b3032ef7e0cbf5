"""Fixtures for tests that talk real HTTP to the emulator on 127.0.0.1.

`emulator(**options)` starts one in-process (each on its own thread and port) and
stops it after the test. Renders go to a directory shared by the whole run
(`emulator_cache_dir`, tests/conftest.py), so a clip with the same parameters is encoded
once however many tests ask for it; pass
`data_dir=None` for an emulator with a private, temporary cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sora_widget.emulator import Emulator, start

KEY = "test-key"
_UNSET: Any = object()


@pytest.fixture
def emulator(emulator_cache_dir: Path) -> Iterator[Callable[..., Emulator]]:
    handles: list[Emulator] = []

    def launch(data_dir: Path | None = _UNSET, **options: Any) -> Emulator:
        options.setdefault("latency", 0.2)
        options["data_dir"] = emulator_cache_dir if data_dir is _UNSET else data_dir
        handle = start(**options)
        handles.append(handle)
        return handle

    yield launch
    for handle in handles:
        handle.stop()


@pytest.fixture
def finish_job() -> Callable[..., Awaitable[httpx.Response]]:
    """Poll a status URL until the job is COMPLETED or FAILED; the last response."""

    async def finish(
        client: httpx.AsyncClient, status_url: str, *, interval: float = 0.05, timeout: float = 30.0
    ) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while True:
            response = await client.get(status_url)
            if response.json().get("status") in ("COMPLETED", "FAILED") or response.status_code == 404:
                return response
            if time.monotonic() > deadline:
                raise AssertionError(f"job still {response.json().get('status')} after {timeout} s")
            await asyncio.sleep(interval)

    return finish
