"""ASGI responses the emulator needs beyond Starlette's: a file slice for Range
requests, and a response that dies halfway (a dropped connection), plus the
middleware that labels every response as synthetic."""

from __future__ import annotations

import contextvars
import logging
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from .._version import __version__

HEADER = "x-sora-emulator"
CHUNK = 256 * 1024

#: set by a deliberately dropped response, read by the log filter below
_dropping: contextvars.ContextVar[bool] = contextvars.ContextVar("sora_emulator_dropping", default=False)
_UNFINISHED = "ASGI callable returned without completing response."


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """Segmind's error shape: `{"error": "..."}`."""
    headers = extra.pop("headers", None)
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


class FileSlice(Response):
    """Bytes `start`..`start+length` of a file, streamed; optionally cut off after
    `cut_after` bytes to emulate a dropped connection."""

    def __init__(
        self,
        path: Path,
        *,
        start: int,
        length: int,
        status_code: int,
        headers: dict[str, str],
        cut_after: int | None = None,
    ) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self.path, self.start, self.length, self.cut_after = path, start, length, cut_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        budget = self.length if self.cut_after is None else min(self.length, self.cut_after)
        sent = 0
        # page-cached local reads of a few hundred KB are quicker than a thread hop
        with self.path.open("rb") as file:
            file.seek(self.start)
            while sent < budget:
                chunk = file.read(min(CHUNK, budget - sent))
                if not chunk:
                    break
                sent += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if self.cut_after is not None:
            _abandon()
            return
        await send({"type": "http.response.body", "body": b""})


class Dropped(Response):
    """Another response's headers (Content-Length included) and half its body, then
    nothing: the server closes the connection and the client sees a broken transfer."""

    def __init__(self, inner: Response) -> None:
        super().__init__(status_code=inner.status_code)
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if isinstance(self.inner, FileSlice):
            self.inner.cut_after = self.inner.length // 2
            await self.inner(scope, receive, send)
            return
        body = bytes(self.inner.body)
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.inner.raw_headers}
        )
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        _abandon()


def _abandon() -> None:
    # Returning from the ASGI call without the final body message makes uvicorn close
    # the connection — the drop we want. It also logs an error for it, which for a
    # deliberate drop is noise: mark this request so the filter can drop that line.
    _dropping.set(True)


class _DeliberateDropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and record.getMessage() == _UNFINISHED)


_FILTER = _DeliberateDropFilter()


def quiet_deliberate_drops() -> None:
    """Install (once) the filter that hides uvicorn's complaint about our own drops."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


class LabelMiddleware:
    """Adds `x-sora-emulator: <version>` to every response, errors included, so a
    client can always tell a synthetic answer from a real one."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), __version__.encode())]
            await send(message)

        await self.app(scope, receive, labelled)
