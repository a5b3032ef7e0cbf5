"""How a running batch shows itself: where it runs decides.

- a notebook frontend: a `BatchView` (a progress header over every item's status, a
  clip played when chosen), displayed at once with its record output, both updated as
  items advance, at a bounded pace;
- headless execution (nbclient, papermill, nbval): nobody watches, and some runners do
  not apply display updates, so the finished view and record output are shown once at
  the end — the saved notebook holds the final records, as with the magics;
- a terminal or a script: a text progress bar on stderr, then a summary line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, Protocol, TextIO

import traitlets

from .. import params
from .._text import format_duration
from ..client import AsyncSoraClient
from ..environment import frontend_has_widgets, is_headless
from ..records import Generation
from ..views import ClipView
from .tally import BatchTally, tally


class Reporter(Protocol):
    def update(self, record: Generation, *, active: bool = False, finished: bool = False) -> None: ...

    def close(self, elapsed: float) -> None: ...


def reporter_for(
    show: bool, batch_id: str, records: list[Generation], client: AsyncSoraClient, finished: set[str]
) -> Reporter:
    """`finished`: the ids of records already ended before this call (nothing to do)."""
    if not show:
        return Silent()
    if frontend_has_widgets():
        return WidgetReporter(batch_id, records, client, finished, live=not is_headless())
    return TextReporter(records, finished)


class Silent:
    def update(self, record: Generation, *, active: bool = False, finished: bool = False) -> None:
        pass

    def close(self, elapsed: float) -> None:
        pass


class _States:
    """Which records are being worked on now and which have ended in this call."""

    def __init__(self, records: list[Generation], finished: set[str]) -> None:
        self.records = records
        self.active: set[str] = set()
        self.finished = set(finished)

    def note(self, record: Generation, *, active: bool, finished: bool) -> bool:
        """Returns whether an item has just ended."""
        if finished:
            self.active.discard(record.id)
            ended = record.id not in self.finished
            self.finished.add(record.id)
            return ended
        if active:
            self.active.add(record.id)
        return False

    def tally(self) -> BatchTally:
        return tally(self.records, self.finished, self.active)


# -- in a terminal ---------------------------------------------------------------------------


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


class TextReporter:
    #: seconds between redraws of the bar, unless an item has just ended
    INTERVAL = 0.5

    def __init__(self, records: list[Generation], finished: set[str], stream: TextIO | None = None) -> None:
        self.states = _States(records, finished)
        self.stream = stream or sys.stderr
        self.line = BatchProgressLine(self.stream)
        self.started = time.monotonic()
        self._drawn = 0.0

    def update(self, record: Generation, *, active: bool = False, finished: bool = False) -> None:
        ended = self.states.note(record, active=active, finished=finished)
        now = time.monotonic()
        if ended or now - self._drawn >= self.INTERVAL:  # a tally is a pass over every item
            self._drawn = now
            self.line.show(self.states.tally(), now - self.started)

    def close(self, elapsed: float) -> None:
        self.line.close(self.states.tally(), elapsed)


# -- in a notebook ---------------------------------------------------------------------------


class BatchView(ClipView):
    """A batch's items in order: a progress header counted by the kernel, and every
    item's status in a gallery (a clip is fetched only when chosen: a batch may hold a
    thousand). Driven by `generate_many` through `track`, shown at a bounded pace."""

    mode = traitlets.Unicode("batch", help='always "batch": the view shows a header and a gallery').tag(
        sync=True
    )
    batch = traitlets.Dict(help="protocol.BatchProgress: the batch id and where it stands").tag(sync=True)

    def __init__(
        self,
        batch_id: str,
        records: list[Generation],
        finished: set[str],
        client: AsyncSoraClient | None = None,
    ) -> None:
        """`finished` holds the ids of items already ended before the batch started."""
        super().__init__()
        self._client = client
        self._batch_id = batch_id
        self._states = _States(records, finished)
        for record in records:
            self._records[record.id] = record
        self._publish_handle: asyncio.TimerHandle | None = None
        self._publish()

    def __repr__(self) -> str:
        # also the view's text/plain: its items are fixed, so it stays true once saved
        return f"SoraWidget(mode='batch', items={len(self._records)})"

    def track(self, record: Generation, *, active: bool = False, finished: bool = False) -> None:
        """Show an item's record as it stands: being worked on now (`active`), or its work
        ended (`finished`). Shown at a bounded pace; `flush()` shows it now."""
        self._records[record.id] = record
        if active and not finished:
            self._states.active.add(record.id)
        else:
            self._states.active.discard(record.id)
        if finished:
            self._states.finished.add(record.id)
        self._publish_soon()

    def flush(self) -> None:
        """Show every change now (the batch has ended)."""
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
        self._publish()

    def close(self) -> None:
        if self._publish_handle is not None:
            self._publish_handle.cancel()
        super().close()

    def _publish(self) -> None:
        counts = self._states.tally()
        self.batch = {"id": self._batch_id, **counts.to_dict()}
        super()._publish()

    def _job_state(self, record: Generation) -> dict[str, Any]:
        # an item not sent yet shows as PENDING
        return {"waiting": record.id in self._states.active, "queued_in_batch": True}

    def _expected(self, record: Generation) -> float:
        if self._client is None:
            return params.PRIOR_LATENCY_S
        return self._client.expected_seconds(record)

    def _publish_soon(self) -> None:
        if self._publish_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._publish()
            return
        # Each publish sends every item to the view and rewrites the record output: pace
        # them by the batch's size (0.25 s for a few items, about 1 s for a thousand).
        delay = 0.25 + 0.00075 * len(self._records)
        self._publish_handle = loop.call_later(delay, self._publish_due)

    def _publish_due(self) -> None:
        self._publish_handle = None
        self._publish()


class WidgetReporter:
    def __init__(
        self,
        batch_id: str,
        records: list[Generation],
        client: AsyncSoraClient,
        finished: set[str],
        *,
        live: bool,
    ) -> None:
        self.view = BatchView(batch_id, records, finished, client=client)
        self.live = live
        if live:
            self.view._ipython_display_()

    def update(self, record: Generation, *, active: bool = False, finished: bool = False) -> None:
        self.view.track(record, active=active, finished=finished)

    def close(self, elapsed: float) -> None:
        self.view.flush()
        if not self.live:
            self.view._ipython_display_()


__all__ = ["BatchProgressLine", "BatchView", "Reporter", "TextReporter", "batch_line", "reporter_for"]
