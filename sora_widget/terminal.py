"""A running job in a terminal: one live line, rewritten in place on a tty and printed
once per status change elsewhere (logs, CI). The CLI and the magics outside a notebook
frontend both show a job this way (`follow`)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from ._sync import run_blocking
from ._text import format_duration, terminal_safe
from ._waiting import Watch
from .checks import check_job
from .client import AsyncSoraClient
from .params import Request
from .records import Generation


def progress_line(record: Generation, elapsed: float, expected: float) -> str:
    """`PROCESSING  1:23 / ~3:00 · 8s 720x1280 · request 7f3a…`: status, time against
    the typical time, parameters and request id."""
    timing = format_duration(elapsed) + (f" / ~{format_duration(expected)}" if expected > 0 else "")
    parts = [f"{record.status:<10}", timing]
    parts.append(f"{record.params.duration}s {record.params.shape}")
    if record.request_id:
        parts.append(f"request {terminal_safe(record.request_id)}")  # the server's words
    if record.synthetic:
        parts.append("synthetic (emulator)")
    return " · ".join(parts)


class ProgressLine:
    """Rewrites one line on a terminal; prints a line per change elsewhere (logs, CI)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_status: str | None = None
        self._width = 0

    def show(self, record: Generation, elapsed: float, expected: float) -> None:
        text = progress_line(record, elapsed, expected)
        if self.live:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
            self.stream.flush()
        elif record.status != self._last_status:
            self.stream.write(text + "\n")
            self.stream.flush()
        self._last_status = record.status

    def close(self) -> None:
        if self.live and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def run_job(
    make_client: Callable[[], AsyncSoraClient],
    request: Request | str,
    *,
    timeout: float,
    save_to: str | None = None,
    watch: Watch | None = None,
    stream: TextIO | None = None,
    reuse: bool = True,
    **arguments: Any,
) -> Generation:
    """Submit, follow the job on one live line (its status and time against the typical
    time, refreshed every second), save it; returns the completed record. Blocks.
    `reuse`: an identical request made before answers this one (its clip, or its running
    job) — the record's `note` says so.

    Errors are raised as they come (a `SoraError` carries the record); an interrupt
    raises `WaitInterrupted`, and `watch` then holds the job as it stood. The client is
    closed at the end — after any submit under way has its answer."""
    check_job(timeout=timeout, save_to=save_to)  # before anything is sent (and paid for)
    watch = watch or Watch()
    progress = ProgressLine(stream)

    async def run() -> Generation:
        async with make_client() as client:

            def show(record: Generation) -> None:
                watch.seen(record)
                progress.show(record, record.elapsed_s(time.time()), client.expected_seconds(record))

            record = client.prepare(request, check_budget=not reuse, **arguments)
            if reuse:  # an identical request made before answers this one (a new take never is)
                answered = await client.answer_from_earlier(
                    record, timeout=timeout, on_update=show, save_to=save_to
                )
                if answered is not None:
                    return answered
            if record.note:
                print(f"sora-widget: {record.note}", file=progress.stream)
            await client.submit_prepared(record, on_update=show)
            ticker = asyncio.ensure_future(_every_second(show, record))
            try:
                return await client.wait(record, timeout=timeout, save_to=save_to, on_update=show)
            finally:
                ticker.cancel()

    try:
        return run_blocking(run(), explain=watch.explain)
    finally:
        progress.close()


async def _every_second(show: Callable[[Generation], None], record: Generation) -> None:
    while True:
        show(record)
        await asyncio.sleep(1.0)
