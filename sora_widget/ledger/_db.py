"""Opening the ledger's SQLite database: refuse what is not ours, set it up for crash
safety, create or migrate its tables.

The database is a plain file in the output dir. A folder someone sent us may hold a
planted symlink in its place (or in place of its journal files): we never open through
one. WAL journaling where the filesystem allows it (several kernels read while one
writes); `synchronous=FULL` so a committed row is on disk before the submit it guards
is sent. Where the database cannot be opened or locked (some network filesystems),
we refuse loudly: running without the write-ahead record could lose a paid job.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

from ..errors import ConfigurationError

#: the schema this code writes; older databases are migrated on open
SCHEMA_VERSION = 1

#: milliseconds a writer waits for another process's transaction before giving up
BUSY_TIMEOUT_MS = 15_000

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


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at `path`."""
    _make_folder(path.parent)
    for suffix in _COMPANIONS:
        _refuse_planted(Path(f"{path}{suffix}"))
    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise _unusable(path, error) from error
    try:
        _set_up(connection)
        migrate(connection)
    except sqlite3.Error as error:
        connection.close()
        raise _unusable(path, error) from error
    return connection


def _set_up(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
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


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, one version at a time, each in a transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"the ledger was written by a newer sora-widget (schema {version}, this one knows "
                f"{SCHEMA_VERSION})",
                hint="Upgrade sora-widget, or point SORA_WIDGET_OUTPUT_DIR at another folder.",
            )
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


def _unusable(path: Path, error: sqlite3.Error) -> ConfigurationError:
    return ConfigurationError(
        f"the ledger {path} cannot be opened or locked ({error}); sora-widget will not run without "
        "its write-ahead record of paid jobs",
        hint=(
            "Set SORA_WIDGET_OUTPUT_DIR to a folder on a local disk (network filesystems often "
            "cannot lock SQLite databases)."
        ),
    )
