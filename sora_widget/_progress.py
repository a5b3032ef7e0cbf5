"""A one-line text view of a running job, for terminals and plain-text frontends."""

from __future__ import annotations

import sys
from typing import TextIO

from .records import Generation


def format_duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def progress_line(record: Generation, elapsed: float, expected: float) -> str:
    """`PROCESSING  1:23 / ~3:00 · 8s 720x1280 · request 7f3a…`: status, time against
    the typical time, parameters and request id."""
    timing = format_duration(elapsed) + (f" / ~{format_duration(expected)}" if expected > 0 else "")
    parts = [f"{record.status:<10}", timing]
    parts.append(f"{record.params.duration}s {record.params.size}")
    if record.request_id:
        parts.append(f"request {record.request_id}")
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
