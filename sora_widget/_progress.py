"""One-line text views of a running job and of a batch, for terminals and plain-text frontends."""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
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


# -- batches --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchTally:
    """Where a batch stands: items whose work has ended, and how."""

    total: int
    completed: int = 0  # saved clips
    failed: int = 0  # ended without a clip: FAILED, EXPIRED, timed out, not saved
    unknown: int = 0  # submit outcome unknown: may be running and billed
    running: int = 0  # being worked on now

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.unknown

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else (100 * self.done) // self.total

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "done": self.done,
            "completed": self.completed,
            "failed": self.failed,
            "unknown": self.unknown,
            "running": self.running,
        }


def tally(records: Sequence[Generation], finished: Collection[str], active: Collection[str]) -> BatchTally:
    """Count a batch's records; `finished` and `active` hold the ids of records whose
    work has ended, or is going on now, in this call."""
    completed = failed = unknown = running = 0
    for record in records:
        if record.id in finished:
            if record.status == "COMPLETED" and record.video_path:
                completed += 1
            elif record.status == "UNKNOWN":
                unknown += 1
            else:
                failed += 1
        elif record.id in active:
            running += 1
    return BatchTally(len(records), completed, failed, unknown, running)


def batch_line(t: BatchTally, elapsed: float, width: int = 20) -> str:
    """`[########------------] 12/30 · 11 completed · 1 failed · 4 running · 0:42`"""
    filled = 0 if t.total == 0 else (width * t.done) // t.total
    parts = [f"[{'#' * filled}{'-' * (width - filled)}] {t.done}/{t.total}", f"{t.completed} completed"]
    if t.failed:
        parts.append(f"{t.failed} failed")
    if t.unknown:
        parts.append(f"{t.unknown} unknown (may be billed)")
    if t.running:
        parts.append(f"{t.running} running")
    parts.append(format_duration(elapsed))
    return " · ".join(parts)


class BatchProgressLine:
    """A batch's bar: rewritten in place on a terminal; elsewhere (logs, CI) one line per
    tenth of the batch done, so a thousand items do not print a thousand lines."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_text = ""
        self._last_tenth = -1

    def show(self, t: BatchTally, elapsed: float) -> None:
        text = batch_line(t, elapsed)
        if self.live:
            if text != self._last_text:
                pad = max(0, len(self._last_text) - len(text))
                self.stream.write("\r" + text + " " * pad)
                self.stream.flush()
        else:
            tenth = t.percent // 10
            if tenth != self._last_tenth and t.done < t.total:  # the last line is close()'s
                self.stream.write(text + "\n")
                self.stream.flush()
                self._last_tenth = tenth
        self._last_text = text

    def close(self, t: BatchTally, elapsed: float) -> None:
        """The final line (always printed once) and a newline after a live bar."""
        text = batch_line(t, elapsed)
        if self.live:
            pad = max(0, len(self._last_text) - len(text))
            self.stream.write("\r" + text + " " * pad + "\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._last_text = ""
