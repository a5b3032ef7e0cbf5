"""Running a coroutine to completion from synchronous code, inside a notebook or not.

In a plain script there is no running loop and `asyncio.run` does it. In a kernel the
loop is already running (ipykernel executes cells inside it), so the coroutine is run
on that same loop, re-entered: the call blocks the cell, as a blocking call should,
while every other task on the loop — widget jobs, other generations — keeps
progressing.

Re-entering needs a patched loop. ipykernel 7 runs every cell as a task in one shared
`contextvars.Context`; the archived `nest_asyncio` 1.6 ran the next queued cell's first
step inside the nested loop, where that context is already entered, so the step failed
and the cell was dropped ("Run All" lost every cell after a blocking call). Its
maintained fork `nest-asyncio2` (≥ 1.7.4) defers such steps until the nested run ends;
it is applied once, the first time a blocking call meets a running loop. Why not a
worker thread instead: the kernel's own loop would stall for the whole call, and with
it every widget job (see docs/architecture.md).

An interrupt (the kernel's ■ button, Ctrl-C) during the wait stops waiting at a safe
point — our task is cancelled, no other task on the loop is hit — and raises
`WaitInterrupted` (a KeyboardInterrupt) saying what goes on running on the server.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import warnings
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

#: says what an interrupted call leaves running (or that nothing was sent)
Explain = Callable[[], str]


class WaitInterrupted(KeyboardInterrupt):
    """A blocking call was interrupted. Jobs it started keep running (and are billed) on
    the server; the message says how to collect them."""


def run_blocking(coro: Coroutine[Any, Any, T], *, explain: Explain | None = None) -> T:
    """Run `coro` to completion and return its result, blocking the caller.

    `explain` is asked, on an interrupt, what the call leaves running."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _run_new_loop(coro, explain)
    _make_reentrant(loop)
    task = loop.create_task(coro)
    guard = _interrupts_cancel(task, loop)
    with guard:
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if not guard.fired:
                raise
    raise WaitInterrupted(_explained(explain)) from None


def _run_new_loop(coro: Coroutine[Any, Any, T], explain: Explain | None) -> T:
    # asyncio.run turns Ctrl-C into a cancellation of the main task, then re-raises it
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        raise WaitInterrupted(_explained(explain)) from None


def _explained(explain: Explain | None) -> str:
    return explain() if explain is not None else "Stopped waiting."


class _interrupts_cancel:
    """While the wait lasts, SIGINT cancels `task` (on its loop, between steps) instead
    of raising KeyboardInterrupt wherever the main thread happens to be — which could be
    inside another task's step, killing a widget job."""

    def __init__(self, task: asyncio.Task[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.task = task
        self.loop = loop
        self.previous: Any = None
        self.installed = False
        self.fired = False

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only
        self.previous = signal.signal(signal.SIGINT, self._on_sigint)
        self.installed = True

    def __exit__(self, *exc: object) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.fired = True
        self.loop.call_soon_threadsafe(self.task.cancel)


_patched_loops: set[type[Any]] = set()
_patch_lock = threading.Lock()


def _make_reentrant(loop: asyncio.AbstractEventLoop) -> None:
    """Apply nest-asyncio2 to this loop's class, once."""
    kind = type(loop)
    if kind in _patched_loops:
        return
    with _patch_lock:
        if kind in _patched_loops:
            return
        if getattr(kind, "_nest_patched", False) and not hasattr(kind, "_nest_asyncio2"):
            warnings.warn(
                "another library patched asyncio with the archived nest_asyncio; on ipykernel 7 "
                "cells queued behind a blocking sora-widget call may be dropped. "
                "Use nest-asyncio2 there too (pip install nest-asyncio2).",
                RuntimeWarning,
                stacklevel=4,
            )
        import nest_asyncio2

        nest_asyncio2.apply(loop)
        _patched_loops.add(kind)
