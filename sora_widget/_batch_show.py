"""How a running batch shows itself: where it runs decides.

- a notebook frontend: the widget in mode "batch" (progress header, every item's
  status), displayed at once with its record output, both updated as items advance;
- headless execution (nbclient, papermill, nbval): nobody watches, and some runners
  do not apply display updates, so the finished widget and record output are shown
  once at the end — the saved notebook holds the final records, as with the magics;
- a terminal or a script: a text progress bar on stderr, then a summary line.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from ._progress import BatchProgressLine, BatchTally, tally
from .client import AsyncSoraClient
from .records import Generation


class Reporter(Protocol):
    def update(self, record: Generation, *, active: bool = False, finished: bool = False) -> None: ...

    def close(self, elapsed: float) -> None: ...


def reporter_for(
    show: bool, batch_id: str, records: list[Generation], client: AsyncSoraClient, finished: set[str]
) -> Reporter:
    """`finished`: the ids of records already ended before this call (nothing to do)."""
    if not show:
        return Silent()
    if _frontend_has_widgets():
        from .notebook import is_headless

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
        from .widget import SoraWidget

        self.widget = SoraWidget.for_batch(batch_id, records, finished, client=client)
        self.live = live
        if live:
            self.widget._ipython_display_()

    def update(self, record: Generation, *, active: bool = False, finished: bool = False) -> None:
        self.widget.track(record, active=active, finished=finished)

    def close(self, elapsed: float) -> None:
        self.widget.flush()
        if not self.live:
            self.widget._ipython_display_()


def _frontend_has_widgets() -> bool:
    """An IPython kernel (not a terminal shell, not a script) can show widgets."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell: Any = get_ipython()
    return shell is not None and any(cls.__module__.startswith("ipykernel") for cls in type(shell).__mro__)
