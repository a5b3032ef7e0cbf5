"""The write-ahead ledger: one JSON line per event of every generation, never rewritten.

An entry is written *before* the submit is sent and another the moment the request id
is known, so a crash, a closed laptop or a kernel restart never loses a job that was
paid for: `pending()` finds it and `resume()` finishes it. Each line holds the whole
record as it stood, so reading back is a merge of snapshots (`records.merge`).

Lines are flushed and fsync'd, and appended under a file lock, so tasks, threads and
processes can share one ledger. A torn last line (a crash mid-write) is skipped; a line
that did not fit on a full disk is cut off again, so the ledger stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from .records import Generation, merge, parse_time, utcnow

log = logging.getLogger(__name__)

LEDGER_NAME = "ledger.jsonl"
#: results are kept for an hour after completion; a job is worth resuming this long after submit
RESUMABLE_FOR = timedelta(hours=1, minutes=30)


#: called with (event, record) after the event is durable in the ledger
Observer = Callable[[str, Generation], None]


class Ledger:
    """The journal every writer of job events goes through: `log` writes the event
    durably, then tells this ledger's `observers` (the notebook's metadata mirror, in a
    kernel). An observer that fails is logged and never breaks a paid job."""

    def __init__(self, path: str | os.PathLike[str], observers: Iterable[Observer] = ()) -> None:
        self.path = Path(path)
        self.observers: list[Observer] = list(observers)
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(self.path) + ".lock")

    @classmethod
    def in_dir(cls, output_dir: str | os.PathLike[str], observers: Iterable[Observer] = ()) -> Ledger:
        return cls(Path(output_dir) / LEDGER_NAME, observers)

    async def log(self, event: str, record: Generation) -> None:
        """Write `event` with the record as it stands (off the loop), then tell observers."""
        await asyncio.to_thread(self.append, event, record.to_dict())
        for observe in list(self.observers):
            try:
                observe(event, record)
            except Exception:
                log.exception("record observer %r failed", observe)

    def append(self, event: str, record: Generation | dict[str, Any]) -> None:
        """Write one event with the record as it stands now; durable when this returns.

        Pass `record.to_dict()` when writing from another thread than the record's owner.
        """
        snapshot = record.to_dict() if isinstance(record, Generation) else record
        line = json.dumps(
            {"event": event, "at": utcnow(), "record": snapshot},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = memoryview((line + "\n").encode("utf-8"))
        with self._thread_lock, self._file_lock:
            # Plain os.write: no buffer that could write the rest of a failed line later.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                end = os.lseek(fd, 0, os.SEEK_END)
                try:
                    while data:
                        data = data[os.write(fd, data) :]
                    os.fsync(fd)
                except OSError:
                    # A full disk may take part of the line. Cut it off: the next entry
                    # would otherwise be glued to it, and both would be unreadable.
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, end)
                    raise
            finally:
                os.close(fd)

    def events(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn line from a crash mid-write
                if isinstance(entry, dict) and isinstance(entry.get("record"), dict):
                    yield entry

    def records(self) -> dict[str, Generation]:
        """Every generation in the ledger, each folded to its latest known state."""
        folded: dict[str, Generation] = {}
        for entry in self.events():
            try:
                record = Generation.from_dict(entry["record"])
            except (ValueError, TypeError, KeyError):
                continue
            record.sources = ["ledger"]
            known = folded.get(record.id)
            folded[record.id] = record if known is None else merge(known, record)
        return folded

    def get(self, key: str) -> Generation | None:
        """A record by local id or request id."""
        for record in self.records().values():
            if key in (record.id, record.request_id):
                return record
        return None

    def pending(self, now: datetime | None = None) -> list[Generation]:
        """Jobs the server accepted that we have not seen finish, still within retention."""
        now = now or datetime.now(timezone.utc)
        found = []
        for record in self.records().values():
            if not needs_finishing(record) or record.submitted_at is None:
                continue
            if now - parse_time(record.submitted_at) <= RESUMABLE_FOR:
                found.append(record)
        return sorted(found, key=lambda r: r.submitted_at or "")

    def unknown(self) -> list[Generation]:
        """Submits whose outcome is unknown: possibly running and billed, with no request id."""
        return [r for r in self.records().values() if r.status == "UNKNOWN"]


def needs_finishing(record: Generation) -> bool:
    """Accepted by the server, and either unfinished or finished without a saved file."""
    if not record.request_id:
        return False
    if record.status == "COMPLETED":
        return record.video_path is None
    return not record.done
