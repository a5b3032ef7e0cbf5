"""Running a coroutine to completion from synchronous code, inside a notebook or not.

In a plain script there is no running loop and `asyncio.run` does it. In a kernel the
loop is already running (ipykernel executes cells inside it), so the coroutine is run
on that same loop through nest_asyncio: the call blocks the cell, as a blocking call
should, while every other task on the loop — widget jobs, other generations — keeps
progressing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import nest_asyncio

    nest_asyncio.apply(loop)
    return loop.run_until_complete(coro)
