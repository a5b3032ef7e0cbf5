"""A ledger someone sent (a `sora-outputs/` that came with a clone) is untrusted input:
the commands that only read open it read-only and leave it exactly as it was; any ledger
whose schema is not the one sora-widget creates (a view, a trigger, a table of another
shape) is refused when it is opened, before a query could run its code; no query runs
away (a deadline), and Ctrl-C stops a long one. Real SQLite files, real commands."""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import sora_widget as sw
from sora_widget import cli
from sora_widget.errors import ConfigurationError
from sora_widget.ledger import Ledger, _db
from sora_widget.ledger._store import _put, _row
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

from .corpus import good_record, notebook_with, write

ROOT = Path(__file__).resolve().parents[2]

#: a query that never ends (each row leads to the next; none is ever returned)
ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r WHERE n < 0"


def pending_job(id_: str = "job1") -> Generation:
    g = Generation(id=id_, params=GenerationParams("a fox", 4), request_id=f"req-{id_}")
    g.submitted_at = g.updated_at
    g.set_status("QUEUED")
    return g


def received_ledger(folder: Path, *statements: str, journal: str = "delete") -> Path:
    """A ledger as another machine left it: schema v1 with one queued job (not in WAL
    mode: a filesystem without shared memory), then `statements` (a planted object)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ledger.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA journal_mode = {journal}")
    for statement in _db._statements(_db._SCHEMA_V1):
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {_db.SCHEMA_VERSION}")
    _put(db, _row(pending_job().to_dict()))
    for statement in statements:
        db.execute(statement)
    db.close()
    return path


def contents(folder: Path) -> dict[str, str]:
    """Every file below `folder` and the digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`sora-widget ARGS` in a process of its own (this tree's code), bounded in time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("SORA_WIDGET_OUTPUT_DIR", "SEGMIND_BASE_URL", "SEGMIND_API_KEY"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "sora_widget.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- the commands that only read leave the ledger as it was ------------------------------------


def test_the_commands_that_only_read_leave_a_received_ledger_untouched(project, capsys):
    received = project / "received"
    outputs = received / "sora-outputs"
    received_ledger(outputs)
    notebook = write(received, notebook_with(good_record(status="QUEUED", video_path=None, sha256=None)))
    before = contents(outputs)

    assert cli.main(["records", str(notebook)]) == 0
    assert cli.main(["verify", str(notebook)]) == 0
    assert cli.main(["export", str(notebook), "-o", str(project / "page.html")]) == 0
    assert cli.main(["embed", str(notebook)]) == 0
    assert cli.main(["pending", "--output-dir", str(outputs)]) == 0
    assert cli.main(["ledger", "stats", "--output-dir", str(outputs)]) == 0
    assert cli.main(["ledger", "export", "--output-dir", str(outputs), "-o", str(project / "l.jsonl")]) == 0
    assert [r.id for r in sw.pending(outputs)] == ["job1"]
    assert [r.id for r in sw.read_records(notebook)] == ["g1"]

    out = capsys.readouterr().out
    assert "req-job1" in out  # pending read the received ledger
    assert contents(outputs) == before  # no WAL switch, no migration, no journal files left
    raw = sqlite3.connect(f"file:{outputs / 'ledger.sqlite'}?mode=ro", uri=True)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    raw.close()


def test_pending_reads_an_old_jsonl_ledger_without_importing_or_renaming_it(project):
    outputs = project / "old-outputs"
    outputs.mkdir()
    line = {"event": "submitted", "at": pending_job().updated_at, "record": pending_job().to_dict()}
    (outputs / "ledger.jsonl").write_text(json.dumps(line) + "\n")
    before = contents(outputs)

    assert [r.id for r in sw.pending(outputs)] == ["job1"]
    assert contents(outputs) == before  # no ledger.sqlite made, the old file not renamed
    assert sw.pending(project / "no-outputs-yet") == []
    assert not (project / "no-outputs-yet").exists()  # reading creates nothing


# -- a ledger of another schema is refused when it is opened -----------------------------------

#: the column list of `generations`, for a view standing in for it
_COLUMNS = (
    "NULL AS id, NULL AS request_id, 'QUEUED' AS status, NULL AS api_host, NULL AS model, "
    "NULL AS duration, NULL AS size, NULL AS batch_id, NULL AS batch_index, NULL AS identity, "
    "'analysis.ipynb' AS notebook_name, NULL AS submitted_at, '' AS updated_at, "
    "NULL AS completed_at, NULL AS finish_s, 0 AS saved, NULL AS writer, '{}' AS record"
)
RECURSIVE_VIEW = (
    "DROP TABLE generations",
    "CREATE VIEW generations AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
    f"SELECT {_COLUMNS} FROM r WHERE n < 0",
)

CRAFTED = {
    "recursive-view-for-generations": (RECURSIVE_VIEW, "'generations' is a view"),
    "after-insert-trigger": (
        (
            "CREATE TRIGGER planted AFTER INSERT ON events BEGIN "
            "INSERT INTO meta (key, value) VALUES ('ran', 'yes'); END",
        ),
        "a trigger 'planted'",
    ),
    "randomblob-trigger": (
        (
            "CREATE TRIGGER big AFTER INSERT ON generations BEGIN "
            "INSERT INTO refs (sha256, data) VALUES (hex(randomblob(16)), randomblob(1e9)); END",
        ),
        "a trigger 'big'",
    ),
    "extra-view": (("CREATE VIEW everything AS SELECT * FROM generations",), "a view 'everything'"),
    "extra-table": (("CREATE TABLE notes (x)",), "a table 'notes'"),
    "table-of-another-shape": (
        ("DROP TABLE refs", "CREATE TABLE refs (sha256 TEXT PRIMARY KEY, data TEXT NOT NULL, x)"),
        "the table 'refs' has another shape",
    ),
    "index-missing": (("DROP INDEX generations_identity",), "the index 'generations_identity' is missing"),
}


@pytest.mark.parametrize("case", CRAFTED)
@pytest.mark.parametrize("read_only", [True, False], ids=["reading", "writing"])
def test_a_ledger_of_another_schema_is_refused_naming_the_file_and_what_is_wrong(tmp_path, case, read_only):
    statements, said = CRAFTED[case]
    path = received_ledger(tmp_path / "out", *statements)
    book = Ledger(path, read_only=True) if read_only else Ledger(path)
    with pytest.raises(ConfigurationError) as refused:
        book.pending() if read_only else book.append("submitting", pending_job("mine"))
    assert str(path) in str(refused.value) and said in str(refused.value), str(refused.value)
    assert "not opened" in str(refused.value)
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0  # nothing was written
    raw.close()


def test_a_trigger_planted_in_a_received_ledger_never_runs(tmp_path):
    statements, _said = CRAFTED["after-insert-trigger"]
    path = received_ledger(tmp_path / "out", *statements)
    with pytest.raises(ConfigurationError, match="a trigger 'planted'"):
        Ledger(path).append("submitting", pending_job("mine"))
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT COUNT(*) FROM meta WHERE key = 'ran'").fetchone()[0] == 0
    raw.close()


def test_a_recursive_view_in_place_of_generations_is_refused_at_once(project):
    received = project / "received"
    received_ledger(received / "sora-outputs", *RECURSIVE_VIEW)
    notebook = write(received, notebook_with(good_record(status="QUEUED", video_path=None, sha256=None)))

    run = run_cli("records", str(notebook), cwd=project, timeout=60)  # it ran for 10 minutes

    assert run.returncode == 2, run.stderr
    assert "skipped: the ledger" in run.stderr and "'generations' is a view" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_ledger_of_an_unknown_old_schema_is_refused_not_migrated(tmp_path):
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE generations (id TEXT)")  # user_version 0, yet not empty
    db.close()
    with pytest.raises(ConfigurationError, match="a table 'generations'"):
        Ledger(path).append("submitting", pending_job())


# -- no query runs away; Ctrl-C stops one ------------------------------------------------------


def test_a_runaway_query_is_stopped_at_its_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(_db, "QUERY_DEADLINE_S", 0.2)
    book = Ledger(received_ledger(tmp_path / "out"), read_only=True)
    assert [r.id for r in book.pending()] == ["job1"]
    # without a deadline the query below never ends: stop it after a while so that this
    # test fails (rather than hangs) where there is none
    watchdog = threading.Timer(30, lambda: book._connection and book._connection.interrupt())
    watchdog.start()
    try:
        with pytest.raises(ConfigurationError, match=r"longer than 0\.2 s") as stopped:
            book._rows(ENDLESS)
    finally:
        watchdog.cancel()
    assert str(book.path) in str(stopped.value)
    assert [r.id for r in book.pending()] == ["job1"]  # the connection is still usable


SIGINT_CHILD = textwrap.dedent(
    """
    import sys
    from sora_widget.ledger import Ledger, _db

    checked = _db.Deadline.__call__

    def watched(self):
        if not said:  # the query is running: the parent may press Ctrl-C
            said.append(True)
            print("running", flush=True)
        return checked(self)

    said = []
    _db.Deadline.__call__ = watched
    book = Ledger(sys.argv[1], read_only=True)
    try:
        book._rows(sys.argv[2])
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


def test_ctrl_c_stops_a_long_query(tmp_path):
    path = received_ledger(tmp_path / "out")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", SIGINT_CHILD, str(path), ENDLESS],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert select.select([child.stdout], [], [], 30)[0], "the query never started"
        assert child.stdout is not None and child.stdout.readline().strip() == "running"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert out.strip() == "interrupted"


def test_reading_a_wal_ledger_leaves_no_journal_files_and_sees_a_writers_rows(tmp_path):
    folder = tmp_path / "out"
    path = received_ledger(folder, journal="wal")
    before = contents(folder)
    assert [r.id for r in Ledger(path, read_only=True).pending()] == ["job1"]
    assert contents(folder) == before  # no -wal, no -shm made beside it

    writer = Ledger(path)
    writer.append("submitted", pending_job("job2"))  # committed in the -wal, still open
    assert [r.id for r in Ledger(path, read_only=True).pending()] == ["job1", "job2"]
    writer.close()


# -- an old ledger.jsonl is read within bounds -------------------------------------------------


def old_line(g: Generation, **extra: object) -> bytes:
    record = {**g.to_dict(), **extra}
    return (json.dumps({"event": "submitted", "at": g.updated_at, "record": record}) + "\n").encode()


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"x": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "line",
    [b"[" * 100_000 + b"\n", old_line(pending_job("deep"), metrics=nested(600))],
    ids=["100000-brackets", "record-600-deep"],
)
@pytest.mark.parametrize("read_only", [True, False], ids=["reading", "writing"])
def test_a_deeply_nested_old_ledger_line_is_skipped_not_a_recursion_error(tmp_path, line, read_only):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "ledger.jsonl").write_bytes(old_line(pending_job()) + line)
    book = Ledger.in_dir(folder, read_only=True) if read_only else Ledger.in_dir(folder)
    if not read_only:
        book.append("submitting", pending_job("mine"))  # what sw.generate does first
    assert "job1" in book.records() and "deep" not in book.records()


def test_a_huge_old_ledger_line_is_skipped_without_being_read_whole(tmp_path):
    import tracemalloc

    folder = tmp_path / "out"
    folder.mkdir()
    with open(folder / "ledger.jsonl", "wb") as f:
        f.write(b'{"event": "submitted", "record": "')
        f.truncate(120 * 1024 * 1024)  # a 120 MB line (sparse: it costs no disk)
        f.seek(0, os.SEEK_END)
        f.write(b'"}\n' + old_line(pending_job()))
    tracemalloc.start()
    try:
        found = Ledger.in_dir(folder, read_only=True).pending()
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.id for r in found] == ["job1"]  # the line after it is read
    assert peak < 40 * 1024 * 1024, peak  # never the whole line in memory


def test_an_old_ledger_is_read_only_up_to_its_size_limit(tmp_path, monkeypatch, caplog):
    from sora_widget.ledger import _jsonl

    folder = tmp_path / "out"
    folder.mkdir()
    first = old_line(pending_job("first"))
    (folder / "ledger.jsonl").write_bytes(first + old_line(pending_job("second")) * 3)
    monkeypatch.setattr(_jsonl, "MAX_FILE_BYTES", len(first) + 10)
    read = _jsonl.read(folder / "ledger.jsonl")
    assert list(read.records) == ["first"] and read.truncated
    Ledger.in_dir(folder).append("submitting", pending_job("mine"))
    assert "only its first" in caplog.text
