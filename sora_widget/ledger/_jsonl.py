"""Reading the ledger of sora-widget before 0.2: `ledger.jsonl`, one JSON line per event,
each holding the whole record as it stood. Imported once into the database.

A line may be torn (a crash mid-write: cut short, or cut inside a UTF-8 character); such
lines are counted and skipped — never an exception that would stop a paid job.

The file may also come from someone else, so it is read within bounds: at most
`MAX_FILE_BYTES` of it, no line longer than `MAX_LINE_BYTES` held in memory (a longer
one is skipped as it is read past), and no line nested deeper than `MAX_DEPTH` parsed
(JSON nested a few hundred deep is a RecursionError in the parser or in the code after
it; a record is five deep).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .._files import open_regular
from ..records import Generation, merge

OLD_NAME = "ledger.jsonl"
IMPORTED_SUFFIX = ".imported"

#: how much of an old ledger is read (one written by sora-widget 0.1: a few megabytes, a
#: few more per job with a reference image given as a data URI)
MAX_FILE_BYTES = 256 * 1024 * 1024
#: a longer line is skipped (a record holding a 10 MB reference image as a data URI: ~14 MB)
MAX_LINE_BYTES = 16 * 1024 * 1024
#: a line nested deeper than this is skipped unparsed (a record is five deep)
MAX_DEPTH = 32
#: a line longer than MAX_LINE_BYTES is read past in pieces this size
_CHUNK = 1024 * 1024


@dataclass
class OldLedger:
    #: each generation folded to its latest known state (a terminal status wins)
    records: dict[str, Generation] = field(default_factory=dict)
    #: (generation id, event, at, status, request id), in file order
    events: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    #: lines that could not be read (torn, not JSON, not a record, too long, too deep)
    skipped: int = 0
    #: whether the file goes on past MAX_FILE_BYTES (the rest was not read)
    truncated: bool = False


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
    with os.fdopen(open_regular(path, follow_symlinks=False), "rb") as f:
        left = MAX_FILE_BYTES
        while left > 0:
            raw = f.readline(min(MAX_LINE_BYTES + 1, left))
            if not raw:
                return found
            left -= len(raw)
            if len(raw) > MAX_LINE_BYTES:
                found.skipped += 1
                left -= _read_past_line(f, left)
            elif left > 0 or raw.endswith(b"\n") or not f.read(1):
                _fold(found, raw)
            else:  # cut by the limit
                found.truncated = True
                return found
        found.truncated = bool(f.read(1))
    return found


def _read_past_line(f: IO[bytes], left: int) -> int:
    """Read to the end of the current line (at most `left` bytes), in pieces; the count."""
    read = 0
    while read < left:
        piece = f.readline(min(_CHUNK, left - read))
        read += len(piece)
        if not piece or piece.endswith(b"\n"):
            break
    return read


def _fold(found: OldLedger, raw: bytes) -> None:
    entry = _entry(raw)
    if entry is None:
        found.skipped += 1
        return
    try:
        record = Generation.from_dict(entry["record"])
    except (ValueError, TypeError, KeyError, RecursionError):
        found.skipped += 1
        return
    known = found.records.get(record.id)
    found.records[record.id] = record if known is None else merge(known, record)
    at = entry["at"] if isinstance(entry.get("at"), str) else record.updated_at
    event = str(entry.get("event", "imported"))
    found.events.append((record.id, event, at, record.status, record.request_id))


def _entry(raw: bytes) -> dict[str, Any] | None:
    if not nested_within(raw, MAX_DEPTH):
        return None
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if isinstance(entry, dict) and isinstance(entry.get("record"), dict):
        return entry
    return None


#: a JSON string (or the rest of the line, for one never closed): its brackets do not count
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nested_within(raw: bytes, depth: int) -> bool:
    """Whether the JSON text `raw` nests arrays and objects at most `depth` deep — told
    without parsing it, in time linear in its length (C-speed passes over its brackets).
    Text whose brackets do not balance may get either answer: it is not JSON anyway. About a second
    for 16 MB of brackets or escaped quotes, the worst a line can hold."""
    if raw.count(b"[") + raw.count(b"{") <= depth:  # a record holding a long data URI: at once
        return True
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    brackets = brackets.replace(b"{", b"[").replace(b"}", b"]")
    for _ in range(depth):  # each pass removes the innermost level
        shorter = brackets.replace(b"[]", b"")
        if not shorter:
            return True
        if len(shorter) == len(brackets):
            return False  # unbalanced
        brackets = shorter
    return False


def retire(path: Path) -> None:
    """Keep the imported file beside the database, renamed, for whoever wants it."""
    with contextlib.suppress(FileNotFoundError):  # another process imported it meanwhile
        os.replace(path, path.with_name(path.name + IMPORTED_SUFFIX))
