"""Reading the ledger of sora-widget before 0.2: `ledger.jsonl`, one JSON line per event,
each holding the whole record as it stood. Imported once into the database.

A line may be torn (a crash mid-write: cut short, or cut inside a UTF-8 character); such
lines are counted and skipped — never an exception that would stop a paid job.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import Generation, merge

OLD_NAME = "ledger.jsonl"
IMPORTED_SUFFIX = ".imported"


@dataclass
class OldLedger:
    #: each generation folded to its latest known state (a terminal status wins)
    records: dict[str, Generation] = field(default_factory=dict)
    #: (generation id, event, at, status, request id), in file order
    events: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    #: lines that could not be read (torn, not JSON, not a record)
    skipped: int = 0


def find(folder: Path) -> Path | None:
    """The old ledger in `folder`, if it is a regular file (never through a symlink)."""
    path = folder / OLD_NAME
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return path if stat.S_ISREG(info.st_mode) else None


def read(path: Path) -> OldLedger:
    found = OldLedger()
    with open(path, "rb") as f:
        for raw in f:
            entry = _entry(raw)
            if entry is None:
                found.skipped += 1
                continue
            try:
                record = Generation.from_dict(entry["record"])
            except (ValueError, TypeError, KeyError):
                found.skipped += 1
                continue
            known = found.records.get(record.id)
            found.records[record.id] = record if known is None else merge(known, record)
            at = entry["at"] if isinstance(entry.get("at"), str) else record.updated_at
            event = str(entry.get("event", "imported"))
            found.events.append((record.id, event, at, record.status, record.request_id))
    return found


def _entry(raw: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(entry, dict) and isinstance(entry.get("record"), dict):
        return entry
    return None


def retire(path: Path) -> None:
    """Keep the imported file beside the database, renamed, for whoever wants it."""
    with contextlib.suppress(FileNotFoundError):  # another process imported it meanwhile
        os.replace(path, path.with_name(path.name + IMPORTED_SUFFIX))
