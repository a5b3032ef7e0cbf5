"""Opening the ledger's SQLite database: refuse what is not ours, set it up for crash
safety, create or migrate its tables.

The database is a plain file in the output dir. A folder someone sent us may hold a
planted symlink in its place (or in place of its journal files): we never open through
one. WAL journaling where the filesystem allows it (several kernels read while one
writes); `synchronous=FULL` so a committed row is on disk before the submit it guards
is sent. Where the database cannot be opened or locked (some network filesystems),
we refuse loudly: running without the write-ahead record could lose a paid job.

A received database is code as much as data: a view runs when it is read, a trigger
when a row is written. So every database is compared, when it is opened, with the
objects this code creates (`check_schema`): an extra trigger or view, or a table of
another shape, and it is refused before any query of ours touches it. Views and
triggers never call a function SQLite does not deem harmless (`trusted_schema=OFF`),
no value grows past `MAX_VALUE_BYTES`, and every statement has a deadline
(`GuardedConnection`): a query that runs away is stopped, and Ctrl-C stops a long one.

The commands that only read (`records`, `verify`, `embed`, `export`, `pending`) open the
database read-only (`connect_read_only`): no WAL switch, no migration, no journal files
left beside it — the folder stays exactly as it came.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

#: the schema this code writes; older databases are migrated on open
SCHEMA_VERSION = 1

#: milliseconds a writer waits for another process's transaction before giving up
BUSY_TIMEOUT_MS = 15_000

#: seconds one statement may run before it is stopped: ours take milliseconds (indexed
#: reads), a whole-ledger export of 100,000 generations about a second; only a crafted
#: database's query could run longer
QUERY_DEADLINE_S = 30.0
#: SQLite calls the progress handler every this many virtual-machine steps (well under a
#: millisecond): how soon a deadline or Ctrl-C is heard
PROGRESS_STEPS = 10_000
#: the largest string or blob a statement may make or read (a data-URI reference image
#: is at most ~14 MB): `randomblob(1e9)` fails instead of allocating a gigabyte
MAX_VALUE_BYTES = 64 * 1024 * 1024

_SCHEMA_V1 = """
CREATE TABLE generations (
    id            TEXT PRIMARY KEY,
    request_id    TEXT,
    status        TEXT NOT NULL,
    api_host      TEXT,
    model         TEXT,
    duration      INTEGER,
    size          TEXT,
    batch_id      TEXT,
    batch_index   INTEGER,
    identity      TEXT,
    notebook_name TEXT,
    submitted_at  TEXT,
    updated_at    TEXT NOT NULL,
    completed_at  TEXT,
    finish_s      REAL,
    saved         INTEGER NOT NULL DEFAULT 0,
    writer        TEXT,
    record        TEXT NOT NULL
);
CREATE INDEX generations_request ON generations(request_id);
CREATE INDEX generations_status ON generations(status, submitted_at);
CREATE INDEX generations_batch ON generations(batch_id, batch_index);
CREATE INDEX generations_identity ON generations(identity, updated_at);
CREATE INDEX generations_notebook ON generations(notebook_name);
CREATE INDEX generations_latency ON generations(api_host, model, duration, size, completed_at)
    WHERE status = 'COMPLETED' AND finish_s IS NOT NULL;

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    generation_id TEXT NOT NULL,
    event         TEXT NOT NULL,
    at            TEXT NOT NULL,
    status        TEXT NOT NULL,
    request_id    TEXT
);
CREATE INDEX events_generation ON events(generation_id, seq);

-- a reference image given as a data URI, kept once however many jobs use it
CREATE TABLE refs (
    sha256 TEXT PRIMARY KEY,
    data   TEXT NOT NULL
);

-- one row per batch item attempt: two runs of the same batch race for it, one wins
CREATE TABLE claims (
    batch_id      TEXT NOT NULL,
    item          INTEGER NOT NULL,
    after         TEXT NOT NULL,
    generation_id TEXT NOT NULL,
    PRIMARY KEY (batch_id, item, after)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

#: schema version → the statements that bring a database of the version before it there
MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1}

#: what SQLite keeps beside the database; each must be ours to write, never a symlink
_COMPANIONS = ("", "-wal", "-shm", "-journal")


class Deadline:
    """The progress handler of a connection: it stops a statement once `at` has passed
    (`expired` then says why it stopped). A callable of its own, not a method of the
    connection, so that a connection is freed as soon as it is dropped."""

    def __init__(self) -> None:
        self.at = float("inf")
        self.expired = False

    def arm(self) -> None:
        self.at = time.monotonic() + QUERY_DEADLINE_S
        self.expired = False

    def __call__(self) -> bool:
        if time.monotonic() > self.at:
            self.expired = True
            return True  # stop the statement
        return False


class GuardedConnection(sqlite3.Connection):
    """A connection whose every statement has a deadline (`QUERY_DEADLINE_S`).

    SQLite calls the `Deadline` every `PROGRESS_STEPS` steps of a statement. It is
    Python code, so a Ctrl-C pressed meanwhile is raised inside it — where the sqlite3
    module swallows it and stops the statement: `stopped` turns that back into the
    KeyboardInterrupt it was."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = Deadline()
        self.set_progress_handler(self.deadline, PROGRESS_STEPS)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.deadline.arm()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        self.deadline.arm()
        return super().executemany(sql, parameters)


def stopped(connection: sqlite3.Connection | None, path: Path, error: sqlite3.Error) -> BaseException | None:
    """What to raise for `error` if it is a statement stopped by us: past its deadline
    (a ConfigurationError naming the ledger) or by Ctrl-C (KeyboardInterrupt); else None."""
    if not isinstance(error, sqlite3.OperationalError) or "interrupted" not in str(error):
        return None
    if isinstance(connection, GuardedConnection) and connection.deadline.expired:
        return ConfigurationError(
            f"a query on the ledger {path} ran longer than {QUERY_DEADLINE_S:g} s and was stopped",
            hint="A ledger sora-widget wrote answers in milliseconds: this one may be crafted. "
            "Point SORA_WIDGET_OUTPUT_DIR at another folder.",
        )
    # the progress handler itself failed: only an exception raised inside it (a signal's
    # handler: Ctrl-C) does that, and the sqlite3 module dropped it
    return KeyboardInterrupt()


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at `path`, for writing."""
    _make_folder(path.parent)
    for suffix in _COMPANIONS:
        _refuse_planted(Path(f"{path}{suffix}"))
    try:
        connection = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
            factory=GuardedConnection,
        )
    except sqlite3.Error as error:
        raise _unusable(path, error) from error
    try:
        _harden(connection)
        check_schema(connection, path)
        _set_up(connection)
        migrate(connection)
    except BaseException as error:
        connection.close()
        if isinstance(error, sqlite3.Error):
            raise (stopped(connection, path, error) or _unusable(path, error)) from error
        raise
    return connection


def connect_read_only(path: Path) -> sqlite3.Connection | None:
    """Open the database at `path` read-only, or None when there is none (nothing is
    created). A reader of a WAL database makes its `-wal` and `-shm` files and leaves
    them behind, so one no process has open (no `-wal` beside it: a writer in WAL mode
    always has one) is opened as immutable — nothing is made in a folder someone sent.
    One in use, or one with a rollback journal, is read as SQLite's readers do, seeing
    the rows committed by the process that writes it."""
    if not os.path.lexists(path):
        return None
    for suffix in _COMPANIONS:
        _refuse_planted(Path(f"{path}{suffix}"))
    idle_wal = _in_wal_mode(path) and not os.path.lexists(f"{path}-wal")
    uri = path.absolute().as_uri() + "?mode=ro" + ("&immutable=1" if idle_wal else "")
    try:
        connection = sqlite3.connect(
            uri,
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
            factory=GuardedConnection,
        )
    except sqlite3.Error as error:
        raise _unusable(path, error, reading=True) from error
    try:
        _harden(connection)
        check_schema(connection, path, creating=False)
    except BaseException as error:
        connection.close()
        if isinstance(error, sqlite3.Error):
            raise (stopped(connection, path, error) or _unusable(path, error, reading=True)) from error
        raise
    return connection


def _in_wal_mode(path: Path) -> bool:
    """Whether the database file's header says WAL (its read and write versions are 2)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False  # SQLite's own open says what is wrong
    try:
        header = os.read(fd, 20)
    finally:
        os.close(fd)
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


def in_memory() -> sqlite3.Connection:
    """An empty ledger in memory: what a reader sees where there is no database yet."""
    connection = sqlite3.connect(
        ":memory:", isolation_level=None, check_same_thread=False, factory=GuardedConnection
    )
    _harden(connection)
    migrate(connection)
    return connection


def _harden(connection: sqlite3.Connection) -> None:
    """Before anything reads the schema: no function with side effects in a view or a
    trigger, no value larger than MAX_VALUE_BYTES."""
    connection.execute("PRAGMA trusted_schema = OFF")
    if hasattr(connection, "setlimit"):  # Python 3.11+
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def check_schema(connection: sqlite3.Connection, path: Path, *, creating: bool = True) -> None:
    """Refuse a database whose objects are not exactly those this code creates (a new,
    empty one passes where `creating`: migration makes them). Read from `sqlite_master`
    before any query touches a table, so no view or trigger of it has run."""
    # one read transaction: the version and the objects of one moment (another process may
    # be creating the tables right now; read apart, it could be seen half done)
    connection.execute("BEGIN")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        found = _objects(connection)
    finally:
        connection.execute("COMMIT")
    _refuse_newer(version)
    if version == 0 and not found and creating:
        return
    problems = _differences(found, _expected_objects(version))
    if version == 0 and not found:
        problems = ["it holds no table (an empty database)"]
    if problems:
        raise ConfigurationError(
            f"the ledger {path} is not one sora-widget wrote: {'; '.join(problems[:3])}"
            + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
            + "; it is not opened (its views and triggers would run as you)",
            hint="Remove or rename it if it came from elsewhere, or point SORA_WIDGET_OUTPUT_DIR "
            "at another folder.",
        )


_Objects = dict[tuple[str, str], str]


def _objects(connection: sqlite3.Connection) -> _Objects:
    """(type, name) → the object's SQL with its spacing normalised ("" for SQLite's own
    automatic indexes)."""
    rows = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {(str(kind), str(name)): " ".join(str(sql or "").split()) for kind, name, sql in rows}


@functools.lru_cache(maxsize=4)
def _expected_objects(version: int) -> _Objects:
    """What the migrations up to `version` create, read from a database made in memory."""
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for target in range(1, version + 1):
            for statement in _statements(MIGRATIONS[target]):
                scratch.execute(statement)
        return _objects(scratch)
    finally:
        scratch.close()


def _differences(found: _Objects, expected: _Objects) -> list[str]:
    problems = []
    for (kind, name), sql in found.items():
        shown = _shown(name)
        if (kind, name) in expected:
            if sql != expected[kind, name]:
                problems.append(f"the {kind} {shown} has another shape")
            continue
        others = [k for k, n in expected if n == name]
        if others:
            problems.append(f"{shown} is a {kind}, not the {others[0]} sora-widget creates")
        else:
            problems.append(f"it has a {kind} {shown} sora-widget never creates")
    for kind, name in expected:
        if (kind, name) not in found and not any(n == name for _k, n in found):
            problems.append(f"the {kind} {_shown(name)} is missing")
    return problems


def _shown(name: str) -> str:
    """An object's name as an error shows it: quoted, and cut short."""
    return "'" + (name if len(name) <= 60 else name[:59] + "…") + "'"


def _set_up(connection: sqlite3.Connection) -> None:
    mode = _journal_mode(connection)
    if mode != "wal":
        # a filesystem without shared memory: a rollback journal still gives atomic commits
        connection.execute("PRAGMA journal_mode = DELETE")
    connection.execute("PRAGMA synchronous = FULL")
    # the write-ahead log is truncated back to this after a checkpoint (a big import, a
    # burst of jobs), instead of keeping its largest size on disk
    connection.execute(f"PRAGMA journal_size_limit = {8 * 1024 * 1024}")
    # take the write lock now, as a real write would: a filesystem that cannot lock fails
    # here, before any job depends on it
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("COMMIT")


def _journal_mode(connection: sqlite3.Connection) -> str:
    """Switch to WAL (once per database: the mode is kept in the file). Two processes
    creating the database at the same moment may see SQLITE_BUSY here, where SQLite does
    not wait on its own: wait as a busy timeout would."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            current = str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if current == "wal":
                return current
            return str(connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise ConfigurationError(
            f"the ledger was written by a newer sora-widget (schema {version}, this one knows "
            f"{SCHEMA_VERSION})",
            hint="Upgrade sora-widget, or point SORA_WIDGET_OUTPUT_DIR at another folder.",
        )


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, one version at a time, each in a transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        _refuse_newer(version)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[target]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {target}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """A migration script as separate statements (executescript would commit first)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"the output folder {folder} cannot be created ({error.strerror or error})",
            hint="Set SORA_WIDGET_OUTPUT_DIR (or output_dir=) to a folder you can write on a local disk.",
        ) from error
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"the output folder {folder} is not writable",
            hint="Set SORA_WIDGET_OUTPUT_DIR (or output_dir=) to a folder you can write on a local disk.",
        )


def _refuse_planted(path: Path) -> None:
    """A symlink (or anything but a regular file) where the ledger's files go is refused:
    writing through it would append our records to whatever it points at."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise ConfigurationError(
            f"{path} is {kind}; the ledger is never written through one",
            hint=(
                "Remove it (it did not come from sora-widget), or set SORA_WIDGET_OUTPUT_DIR to "
                "another folder."
            ),
        )


def _unusable(path: Path, error: sqlite3.Error, *, reading: bool = False) -> ConfigurationError:
    if reading:
        return ConfigurationError(
            f"the ledger {path} cannot be read ({error})",
            hint="It may be damaged, or not a ledger: sora-widget reads it only; nothing in it was changed.",
        )
    return ConfigurationError(
        f"the ledger {path} cannot be opened or locked ({error}); sora-widget will not run without "
        "its write-ahead record of paid jobs",
        hint=(
            "Set SORA_WIDGET_OUTPUT_DIR to a folder on a local disk (network filesystems often "
            "cannot lock SQLite databases)."
        ),
    )
