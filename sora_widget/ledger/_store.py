"""The ledger itself: see the package's docstring."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from ..records import Generation, format_time, merge, utcnow
from . import _db, _jsonl
from ._writers import submit_may_still_answer, this_writer

log = logging.getLogger(__name__)

LEDGER_NAME = "ledger.sqlite"
#: results are kept for an hour after completion; a job is worth resuming this long after submit
RESUMABLE_FOR = timedelta(hours=1, minutes=30)
#: a data-URI reference is stored once in `refs`; the record names it by this prefix + sha256
REF_PREFIX = "sora-widget-ref:sha256:"

#: called with (event, record) after the event is durable in the ledger
Observer = Callable[[str, Generation], None]

_OPEN = ("SUBMITTING", "QUEUED", "PROCESSING", "UNKNOWN")


class Ledger:
    """The journal of one output dir. Opened on first use; safe to share between tasks,
    threads and processes.

    `read_only=True` for whatever only reads (listing, verifying, exporting): the database
    is opened read-only and left exactly as it is — created nowhere, never migrated or
    switched to WAL; an old `ledger.jsonl` is read into memory, not imported or renamed;
    a write raises `LedgerWriteError`."""

    def __init__(
        self, path: str | os.PathLike[str], observers: Iterable[Observer] = (), *, read_only: bool = False
    ) -> None:
        self.path = Path(path)
        self.observers: list[Observer] = list(observers)
        self.read_only = read_only
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def in_dir(
        cls,
        output_dir: str | os.PathLike[str],
        observers: Iterable[Observer] = (),
        *,
        read_only: bool = False,
    ) -> Ledger:
        return cls(Path(output_dir) / LEDGER_NAME, observers, read_only=read_only)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- writing -------------------------------------------------------------------------------

    async def log(self, event: str, record: Generation) -> None:
        """Write `event` with the record as it stands (off the loop), then tell observers."""
        await asyncio.to_thread(self.append, event, record.to_dict())
        for observe in list(self.observers):
            try:
                observe(event, record)
            except Exception:  # an observer must never break a paid job
                log.exception("record observer %r failed", observe)

    def append(self, event: str, record: Generation | dict[str, Any]) -> None:
        """Write one event and the record as it stands now; durable when this returns.

        Pass `record.to_dict()` when writing from another thread than the record's owner.
        """
        snapshot = record.to_dict() if isinstance(record, Generation) else record
        with self._transaction() as db:
            self._write(db, event, snapshot, at=utcnow())

    def claim(self, batch_id: str, item: int, after: str, record: Generation) -> str | None:
        """Take batch item `item` for `record` (its attempt after generation `after`, ""
        for the first): None when taken, else the id of the generation that holds it.

        A unique key, not a check-then-act: of two runs of the same batch (two kernels,
        two concurrent calls) exactly one gets each item. The winner's record is written
        in the same transaction, so the loser always finds it."""
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO claims (batch_id, item, after, generation_id) VALUES (?, ?, ?, ?)",
                    (batch_id, item, after, record.id),
                )
            except sqlite3.IntegrityError:
                row = db.execute(
                    "SELECT generation_id FROM claims WHERE batch_id = ? AND item = ? AND after = ?",
                    (batch_id, item, after),
                ).fetchone()
                return str(row[0])
            self._write(db, "claimed", record.to_dict(), at=utcnow())
        return None

    def _write(self, db: sqlite3.Connection, event: str, snapshot: dict[str, Any], *, at: str) -> None:
        snapshot = self._store_reference(db, snapshot)
        found = db.execute(
            "SELECT record, writer FROM generations WHERE id = ?", (snapshot["id"],)
        ).fetchone()
        # a row this process wrote is checked already; one from elsewhere is checked now
        known = _stored(found[0], checked=found[1] != this_writer()) if found is not None else None
        if known is not None:
            # a terminal status wins, then the newer; on a tie (the same millisecond) this
            # write, the latest, wins
            snapshot = merge(Generation.from_dict(snapshot, checked=False), known).to_dict()
        _put(db, _row(snapshot))
        db.execute(
            "INSERT INTO events (generation_id, event, at, status, request_id) VALUES (?, ?, ?, ?, ?)",
            (snapshot["id"], event, at, snapshot["status"], snapshot.get("request_id")),
        )

    def _store_reference(self, db: sqlite3.Connection, snapshot: dict[str, Any]) -> dict[str, Any]:
        """A data-URI reference goes to `refs` once; the row names it by its sha256."""
        params = snapshot.get("params") or {}
        reference = params.get("input_reference")
        if not (isinstance(reference, str) and reference[:5].lower() == "data:"):
            return snapshot
        digest = hashlib.sha256(reference.encode("utf-8")).hexdigest()
        db.execute("INSERT OR IGNORE INTO refs (sha256, data) VALUES (?, ?)", (digest, reference))
        return {**snapshot, "params": {**params, "input_reference": REF_PREFIX + digest}}

    # -- reading -------------------------------------------------------------------------------

    def get(self, key: str) -> Generation | None:
        """A record by local id or request id."""
        rows = self._query(
            "SELECT record FROM generations WHERE id = ? OR request_id = ? ORDER BY updated_at DESC LIMIT 1",
            (key, key),
        )
        return rows[0] if rows else None

    def holders(self, request_ids: Iterable[str]) -> dict[str, str]:
        """Which generation holds each of these request ids (those the ledger knows): an
        indexed read, 500 ids at a time."""
        wanted = list(dict.fromkeys(request_ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for generation_id, request_id in self._rows(
                f"SELECT id, request_id FROM generations WHERE request_id IN ({marks}) ORDER BY updated_at",
                tuple(chunk),
            ):
                found[str(request_id)] = str(generation_id)
        return found

    def records(self) -> dict[str, Generation]:
        """Every generation in the ledger (an export, a scan: prefer the indexed reads)."""
        return {r.id: r for r in self._query("SELECT record FROM generations ORDER BY submitted_at, id")}

    def pending(self, now: datetime | None = None) -> list[Generation]:
        """What may still be worth collecting, within the hour results are kept: jobs the
        server accepted that we have not seen finish or saved, and submits whose outcome
        is unknown — shown as UNKNOWN, they may be running and billed (a submit cut off
        by a killed process is still SUBMITTING in its row)."""
        now = now or datetime.now(timezone.utc)
        since = format_time(now - RESUMABLE_FOR)
        found = self._query(
            "SELECT record FROM generations WHERE submitted_at >= ? AND "
            f"(status IN ({', '.join('?' for _ in _OPEN)}) OR (status = 'COMPLETED' AND saved = 0)) "
            "ORDER BY submitted_at, id",
            (since, *_OPEN),
        )
        return [_as_unknown(r) if r.status == "SUBMITTING" else r for r in found if _worth_listing(r)]

    def resumable(self, now: datetime | None = None) -> list[Generation]:
        """Of `pending()`, the jobs a request id lets us wait for."""
        return [r for r in self.pending(now) if needs_finishing(r)]

    def unknown(self) -> list[Generation]:
        """Submits whose outcome is unknown: possibly running and billed, with no request id."""
        found = self._query(
            "SELECT record FROM generations WHERE status IN ('UNKNOWN', 'SUBMITTING') "
            "ORDER BY submitted_at, id"
        )
        return [_as_unknown(r) if r.status == "SUBMITTING" else r for r in found if not r.request_id]

    def lost_submits(self, api_host: str, *, days: int = 31) -> list[Generation]:
        """Submits to `api_host` of the last `days` days with no request id whose outcome is
        UNKNOWN, or still SUBMITTING (cut off, or under way: ask `submit_cut_off`), as stored,
        oldest first: what the account's request history may settle."""
        since = format_time(datetime.now(timezone.utc) - timedelta(days=days))
        found = self._query(
            "SELECT record FROM generations WHERE status IN ('UNKNOWN', 'SUBMITTING') AND submitted_at >= ? "
            "AND api_host = ? AND request_id IS NULL ORDER BY submitted_at, id",
            (since, api_host),
        )
        return found

    def submit_cut_off(self, generation_id: str) -> bool:
        """Was the submit of `generation_id` cut off — its row still SUBMITTING while the
        process that wrote it can no longer hear the answer (it died, or its POST ended
        without a word)? Then its outcome is UNKNOWN. The writer is asked first, the row
        read after: a submit that ends in between has already written its outcome."""
        rows = self._rows("SELECT writer FROM generations WHERE id = ?", (generation_id,))
        if not rows or submit_may_still_answer(rows[0][0], generation_id):
            return False
        (status,) = self._rows("SELECT status FROM generations WHERE id = ?", (generation_id,))[0]
        return bool(status == "SUBMITTING")

    def recent(self, limit: int = 20) -> list[Generation]:
        """The latest generations, oldest first."""
        found = self._query("SELECT record FROM generations ORDER BY updated_at DESC LIMIT ?", (limit,))
        return found[::-1]

    def of_batch(self, batch_id: str) -> list[Generation]:
        return self._query(
            "SELECT record FROM generations WHERE batch_id = ? ORDER BY batch_index, updated_at", (batch_id,)
        )

    def with_identity(self, identity: str, *, answers: bool = False, limit: int = -1) -> list[Generation]:
        """Generations of one request identity, newest first; `answers`: only those that may
        answer the request again (not FAILED, EXPIRED or NOT_SUBMITTED); at most `limit` (-1: all). An
        indexed read that stops at `limit`, however often the request was made."""
        failed = " AND status NOT IN ('FAILED', 'EXPIRED', 'NOT_SUBMITTED')" if answers else ""
        return self._query(
            f"SELECT record FROM generations WHERE identity = ?{failed} ORDER BY updated_at DESC LIMIT ?",
            (identity, limit),
        )

    def has_identity(self, identity: str) -> bool:
        """Whether any generation of this request identity is recorded (one index probe)."""
        return bool(self._rows("SELECT 1 FROM generations WHERE identity = ? LIMIT 1", (identity,)))

    def of_notebook(self, ids: Iterable[str], notebook_name: str) -> list[Generation]:
        """The generations with these ids, and those run in a notebook of this file name."""
        wanted = list(dict.fromkeys(ids))
        found = self._query("SELECT record FROM generations WHERE notebook_name = ?", (notebook_name,))
        seen = {r.id for r in found}
        for start in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = [i for i in wanted[start : start + 500] if i not in seen]
            if chunk:
                found += self._query(
                    f"SELECT record FROM generations WHERE id IN ({', '.join('?' for _ in chunk)})",
                    tuple(chunk),
                )
        return found

    def last_clip(self, writer: str | None = None, *, scan: int = 50) -> Generation | None:
        """The clip (not a film) that `writer` — this process by default — saw complete and
        saved last: what `%sora --continue` continues. An indexed read of the newest
        completed rows."""
        found = self._query(
            "SELECT record FROM generations WHERE status = 'COMPLETED' AND saved = 1 AND writer = ? "
            "ORDER BY submitted_at DESC LIMIT ?",
            (writer or this_writer(), scan),
        )
        clips = [r for r in found if r.kind != "film"]
        return max(clips, key=lambda r: r.completed_at or "", default=None)

    def latencies(
        self, api_host: str, model: str, duration: int, size: str | None, limit: int = 20
    ) -> list[float]:
        """Seconds from submit to finish of the latest completed jobs of this kind on this
        API, oldest first: what the poll schedule learns from. An indexed read (`size` None:
        clips that took their first frame's shape)."""
        rows = self._rows(
            "SELECT finish_s FROM generations WHERE status = 'COMPLETED' AND finish_s IS NOT NULL "
            "AND api_host = ? AND model = ? AND duration = ? AND size IS ? "
            "ORDER BY completed_at DESC LIMIT ?",
            (api_host, model, duration, size, limit),
        )
        return [float(row[0]) for row in reversed(rows)]

    def events(self, generation_id: str | None = None) -> Iterator[dict[str, Any]]:
        """The history, oldest first (of one generation, or of all)."""
        where, args = ("WHERE generation_id = ?", (generation_id,)) if generation_id else ("", ())
        for seq, gid, event, at, status, request_id in self._rows(
            f"SELECT seq, generation_id, event, at, status, request_id FROM events {where} ORDER BY seq", args
        ):
            yield {
                "seq": seq,
                "id": gid,
                "event": event,
                "at": at,
                "status": status,
                "request_id": request_id,
            }

    def stats(self) -> dict[str, Any]:
        """What the ledger holds: counts by status, events, references, the oldest and newest."""
        by_status = dict(self._rows("SELECT status, COUNT(*) FROM generations GROUP BY status"))
        ((events,),) = self._rows("SELECT COUNT(*) FROM events")
        ((refs,),) = self._rows("SELECT COUNT(*) FROM refs")
        ((oldest, newest),) = self._rows("SELECT MIN(submitted_at), MAX(submitted_at) FROM generations")
        return {
            "path": str(self.path),
            "generations": sum(by_status.values()),
            "by_status": by_status,
            "events": events,
            "references": refs,
            "oldest": oldest,
            "newest": newest,
            "bytes": self.path.stat().st_size if self.path.exists() else 0,
        }

    def export(self, out: TextIO) -> int:
        """Every generation as one JSON line (its current record), for people and tools."""
        count = 0
        for record in self._query("SELECT record FROM generations ORDER BY submitted_at, id"):
            out.write(json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count

    # -- plumbing ------------------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Generation]:
        rows = self._rows(sql, args)
        found = []
        for (text,) in rows:
            try:
                record = Generation.from_dict(self._inflate(json.loads(text)))
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
                # a record of another schema version, or one that does not match the
                # schema (a crafted ledger in a folder someone sent): not ours to guess at
                log.warning("sora-widget: a row of the ledger %s is skipped: %s", self.path, error)
                continue
            record.sources = ["ledger"]
            found.append(record)
        return found

    def _inflate(self, data: dict[str, Any]) -> dict[str, Any]:
        reference = (data.get("params") or {}).get("input_reference")
        if isinstance(reference, str) and reference.startswith(REF_PREFIX):
            rows = self._rows("SELECT data FROM refs WHERE sha256 = ?", (reference[len(REF_PREFIX) :],))
            if rows:
                data["params"]["input_reference"] = rows[0][0]
        return data

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            db = self._open()
            try:
                return db.execute(sql, args).fetchall()
            except sqlite3.Error as error:
                failure = _db.stopped(db, self.path, error)
                raise (failure or _db._unusable(self.path, error, reading=self.read_only)) from error

    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._open_read_only() if self.read_only else self._open_for_writing()
        return self._connection

    def _open_for_writing(self) -> sqlite3.Connection:
        connection = _db.connect(self.path)
        try:
            self._import_old(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        """The database read-only; where there is none, an empty one in memory (holding
        what an old `ledger.jsonl` beside it says, if there is one)."""
        connection = _db.connect_read_only(self.path)
        if connection is not None:
            return connection
        connection = _db.in_memory()
        try:
            self._import_old(connection, keep=True)
        except BaseException:
            connection.close()
            raise
        return connection

    def _import_old(self, db: sqlite3.Connection, *, keep: bool = False) -> None:
        """Import a `ledger.jsonl` beside the database, once (whichever process gets the
        write lock first does it), then rename it `ledger.jsonl.imported` (`keep`: left
        as it is, read into a database in memory)."""
        source = _jsonl.find(self.path.parent)
        if source is None:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM meta WHERE key = 'imported_jsonl'").fetchone():
                db.execute("COMMIT")
                return
            old = _jsonl.read(source)
            for record in old.records.values():
                _put(db, _row(self._store_reference(db, record.to_dict())))
            db.executemany(
                "INSERT INTO events (generation_id, event, at, status, request_id) VALUES (?, ?, ?, ?, ?)",
                old.events,
            )
            summary = json.dumps(
                {"from": str(source), "generations": len(old.records), "skipped": old.skipped}
            )
            db.execute("INSERT INTO meta (key, value) VALUES ('imported_jsonl', ?)", (summary,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if keep:
            return
        _jsonl.retire(source)
        if old.truncated:
            log.warning(
                "sora-widget: %s is larger than any ledger sora-widget wrote; only its first %d MB "
                "were imported (the whole file is kept beside the ledger, renamed %s)",
                source,
                _jsonl.MAX_FILE_BYTES // (1024 * 1024),
                source.name + _jsonl.IMPORTED_SUFFIX,
            )
        if old.skipped:
            log.warning(
                "sora-widget: imported %d generation(s) from %s; "
                "%d unreadable line(s) (torn by a crash) skipped",
                len(old.records),
                source,
                old.skipped,
            )


class LedgerWriteError(OSError):
    """The ledger could not be written (a full disk, a read-only folder): nothing of the
    write was kept, and what was there before is intact."""


class _Transaction:
    """`with ledger._transaction() as db:` — one IMMEDIATE transaction, committed on exit
    (durable then: synchronous=FULL); on any failure rolled back, whole."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def __enter__(self) -> sqlite3.Connection:
        if self.ledger.read_only:
            raise LedgerWriteError(errno.EROFS, f"the ledger {self.ledger.path} is open read-only")
        self.ledger._lock.acquire()
        try:
            db = self.ledger._open()
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            self.ledger._lock.release()
            raise self._failed(error) from error
        except BaseException:
            self.ledger._lock.release()
            raise
        return db

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *rest: object) -> None:
        db = self.ledger._connection
        try:
            if db is None:
                return
            if kind is None:
                try:
                    db.execute("COMMIT")
                except sqlite3.Error as failed:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise self._failed(failed) from failed
                return
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise self._failed(error) from error
        finally:
            self.ledger._lock.release()

    def _failed(self, error: sqlite3.Error) -> BaseException:
        failure = _db.stopped(self.ledger._connection, self.ledger.path, error)
        if failure is not None:  # past its deadline, or Ctrl-C
            return failure
        full = "full" in str(error).lower()
        return LedgerWriteError(
            errno.ENOSPC if full else errno.EIO,
            f"the ledger {self.ledger.path} could not be written: {error}",
        )


def _stored(text: str, *, checked: bool = True) -> Generation | None:
    """The record a row holds, or None when it does not match the schema (a crafted row:
    the write replaces it rather than fail over it). `checked=False`: a row this process
    wrote itself, not checked against the schema again (~0.5 ms a write)."""
    try:
        return Generation.from_dict(json.loads(text), checked=checked)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def needs_finishing(record: Generation) -> bool:
    """Accepted by the server, and either unfinished or finished without a saved file."""
    if not record.request_id:
        return False
    if record.status == "COMPLETED":
        return record.video_path is None
    return not record.done


def _worth_listing(record: Generation) -> bool:
    return needs_finishing(record) or (not record.request_id and record.status in ("SUBMITTING", "UNKNOWN"))


def _as_unknown(record: Generation) -> Generation:
    """A row still SUBMITTING: its submit was cut off (a killed process, a lost answer)
    before the server's answer was recorded. Shown as what it is to the user: UNKNOWN."""
    shown = record.copy()
    shown.sources = record.sources
    shown.status = "UNKNOWN"
    shown.error = {
        "type": "SubmitOutcomeUnknown",
        "message": "the submit was cut off before the server answered; the job may be running and billed",
        "http_status": None,
        "request_id": None,
        "detail": None,
        "hint": (
            f"Submitted {record.submitted_at or 'at an unknown time'}. sw.pending() and sw.resume() ask "
            "Segmind's request history whether it was taken; it is never submitted again blindly."
        ),
        "retryable": False,
    }
    return shown


def _put(db: sqlite3.Connection, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT OR REPLACE INTO generations ({columns}) VALUES ({marks})", tuple(row.values()))


def _row(snapshot: dict[str, Any]) -> dict[str, Any]:
    params = snapshot.get("params") or {}
    batch = snapshot.get("batch") or {}
    notebook = snapshot.get("notebook") or {}
    timings = snapshot.get("timings") or {}
    finish = timings.get("finish_estimate_s") or snapshot.get("latency_s")
    notebook_path = notebook.get("path") if isinstance(notebook, dict) else None
    return {
        "id": snapshot["id"],
        "request_id": snapshot.get("request_id"),
        "status": snapshot["status"],
        "api_host": snapshot.get("api_host"),
        "model": snapshot.get("model"),
        "duration": params.get("duration"),
        "size": params.get("size"),
        "batch_id": batch.get("id") if isinstance(batch, dict) else None,
        "batch_index": batch.get("index") if isinstance(batch, dict) else None,
        "identity": snapshot.get("identity"),
        "notebook_name": Path(notebook_path).name if isinstance(notebook_path, str) else None,
        "submitted_at": snapshot.get("submitted_at"),
        "updated_at": snapshot.get("updated_at") or utcnow(),
        "completed_at": snapshot.get("completed_at"),
        "finish_s": finish if snapshot["status"] == "COMPLETED" and isinstance(finish, int | float) else None,
        "saved": 1 if snapshot.get("video_path") else 0,
        "writer": this_writer(),
        "record": json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")),
    }
