"""Interrupting a real kernel (the ■ button sends SIGINT) during a blocking `sw.generate`:
the cell stops waiting and says what goes on running on the server, the job is in
`sw.pending()`, and the next cells run normally."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sora_widget.emulator import start as start_emulator

from ..kernels import KernelSession
from .conftest import open_kernel

WATCHED = (
    "import sora_widget as sw\n"
    "clip = sw.generate('a slow clip', duration=4, on_update=lambda r: print('status', r.status, flush=True))"
)


@pytest.fixture
def slow_emulator() -> Iterator[Any]:
    with start_emulator(latency=60.0) as handle:
        yield handle


@pytest.fixture
def fresh_kernel(
    kernel_version: str, slow_emulator: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[KernelSession]:
    session = open_kernel(kernel_version, tmp_path, slow_emulator, request)
    yield session
    session.__exit__()


def test_interrupt_while_waiting_says_the_job_goes_on_and_pending_lists_it(
    fresh_kernel: KernelSession,
) -> None:
    (blocking,) = fresh_kernel.submit([WATCHED])
    fresh_kernel.wait_for_output(blocking, "status QUEUED")
    fresh_kernel.interrupt()
    fresh_kernel.collect([blocking], timeout=30)
    assert blocking.status == "error"
    assert "WaitInterrupted" in blocking.text
    assert "Stopped waiting." in blocking.text
    assert "still QUEUED on the server and will be billed" in blocking.text
    request_id = blocking.text.split("sw.resume('")[1].split("'")[0]

    pending, after = fresh_kernel.run_all(
        ["print('pending:', [r.request_id for r in sw.pending()])", "print('next cell ran', 6 * 7)"]
    )
    assert pending.status == after.status == "ok"
    assert f"pending: ['{request_id}']" in pending.text
    assert "next cell ran 42" in after.text


def test_interrupt_during_the_submit_lets_it_finish_and_record_its_request_id(
    fresh_kernel: KernelSession, slow_emulator: Any
) -> None:
    # the emulator holds every submit for 3 s before creating its job
    slow_emulator.configure(chaos_delay=3.0, chaos_endpoints=("submit",))
    (blocking,) = fresh_kernel.submit([WATCHED])
    fresh_kernel.wait_for_output(blocking, "status SUBMITTING")
    fresh_kernel.interrupt()
    fresh_kernel.collect([blocking], timeout=30)
    assert blocking.status == "error"
    assert "was being submitted: the submit finishes in the background" in blocking.text

    # the kernel's loop runs during a top-level await: the shielded submit gets its answer
    (pending,) = fresh_kernel.run_all(
        [
            "import asyncio\nawait asyncio.sleep(4)\n"
            "print('pending:', [(r.status, bool(r.request_id)) for r in sw.pending()])"
        ]
    )
    assert pending.status == "ok", pending.text
    assert "pending: [('QUEUED', True)]" in pending.text
    assert slow_emulator.stats()["requests"]["submit"] == 1
