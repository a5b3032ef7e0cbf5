"""The ledger database on a local disk: migration from the old JSONL ledger, references
stored once, claims, and refusals (planted symlinks, unwritable or unlockable folders,
a newer schema). No network."""

from __future__ import annotations

import base64
import logging
import os
import sqlite3

import pytest

from sora_widget.errors import ConfigurationError
from sora_widget.ledger import Ledger, _db
from sora_widget.params import GenerationParams
from sora_widget.records import Generation


def record(id_: str, status: str = "QUEUED", request_id: str | None = "auto", **fields) -> Generation:
    g = Generation(id=id_, params=GenerationParams("a fox"), **fields)
    g.request_id = f"req-{id_}" if request_id == "auto" else request_id
    g.submitted_at = "2026-01-01T00:00:00.000Z"
    g.set_status(status, at="2026-01-01T00:00:00.000Z")
    return g


def old_line(event: str, g: Generation) -> bytes:
    import json

    return (json.dumps({"event": event, "at": g.updated_at, "record": g.to_dict()}) + "\n").encode()


def test_an_old_jsonl_ledger_is_imported_once_torn_lines_counted(tmp_path, caplog):
    first, second = record("a1"), record("b2")
    done = record("a1")
    done.set_status("COMPLETED", at="2026-01-01T00:03:00.000Z")
    done.video_path = "clip.mp4"
    torn_utf8 = old_line("status", record("c3", "PROCESSING"))
    torn_utf8 = torn_utf8[: torn_utf8.index(b"a fox")] + "é".encode()[:1] + b'"}}\n'
    (tmp_path / "ledger.jsonl").write_bytes(
        old_line("submitted", first)
        + old_line("submitted", second)
        + torn_utf8  # cut inside a UTF-8 character
        + old_line("completed", done)
        + b'{"event": "status", "record": {"id": "a1"'  # a crash mid-write, no newline
    )
    caplog.set_level(logging.WARNING)
    ledger = Ledger.in_dir(tmp_path)
    folded = ledger.records()
    assert sorted(folded) == ["a1", "b2"]
    assert folded["a1"].status == "COMPLETED" and folded["a1"].video_path == "clip.mp4"
    assert [e["event"] for e in ledger.events("a1")] == ["submitted", "completed"]
    assert "2 unreadable line(s)" in caplog.text
    assert not (tmp_path / "ledger.jsonl").exists()
    assert (tmp_path / "ledger.jsonl.imported").exists()

    # a new ledger.jsonl appearing later (an old sora-widget writing) is not imported twice over
    (tmp_path / "ledger.jsonl").write_bytes(old_line("submitted", record("late")))
    assert sorted(Ledger.in_dir(tmp_path).records()) == ["a1", "b2"]


def test_a_data_uri_reference_is_stored_once(tmp_path):
    image = base64.b64encode(os.urandom(3 * 1024 * 1024)).decode()
    reference = f"data:image/png;base64,{image}"
    ledger = Ledger.in_dir(tmp_path)
    for i in range(5):
        g = Generation(id=f"g{i}", params=GenerationParams("a fox", input_reference=reference))
        for event in ("submitting", "submitted", "status", "completed"):
            ledger.append(event, g)
    assert ledger.stats()["references"] == 1
    assert ledger.get("g3").params.input_reference == reference
    ledger.close()
    size = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert size < 2 * len(reference), size  # 20 writes of a 4 MB image: stored once


def test_a_batch_item_is_claimed_by_one_run_only(tmp_path):
    one, other = Ledger.in_dir(tmp_path), Ledger.in_dir(tmp_path)
    mine, theirs = record("mine", "SUBMITTING", None), record("theirs", "SUBMITTING", None)
    assert one.claim("batch", 3, "", mine) is None
    assert other.claim("batch", 3, "", theirs) == "mine"
    assert other.get("mine").status == "SUBMITTING"  # the winner's row came with its claim
    assert other.claim("batch", 3, "failed-before", theirs) is None  # a retry is another attempt


def test_a_planted_symlink_is_never_written_through(tmp_path):
    target = tmp_path / "bashrc"
    target.write_text("export PATH=/usr/bin\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "ledger.sqlite").symlink_to(target)
    with pytest.raises(ConfigurationError, match="symlink") as caught:
        Ledger.in_dir(out).append("submitting", record("x"))
    assert "SORA_WIDGET_OUTPUT_DIR" in caught.value.hint
    assert target.read_text() == "export PATH=/usr/bin\n"

    (out / "ledger.sqlite").unlink()
    (out / "ledger.sqlite-wal").symlink_to(target)
    with pytest.raises(ConfigurationError, match="symlink"):
        Ledger.in_dir(out).append("submitting", record("x"))
    assert target.read_text() == "export PATH=/usr/bin\n"


def test_a_symlinked_old_ledger_is_not_imported(tmp_path):
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_bytes(old_line("submitted", record("planted")))
    out = tmp_path / "out"
    out.mkdir()
    (out / "ledger.jsonl").symlink_to(elsewhere)
    assert Ledger.in_dir(out).records() == {}
    assert (out / "ledger.jsonl").is_symlink()  # left alone


def test_an_unwritable_output_dir_is_a_configuration_error(tmp_path, monkeypatch):
    out = tmp_path / "locked"
    out.mkdir()
    # what os.access says of a read-only folder for a user who is not root (tests run as root)
    monkeypatch.setattr(_db.os, "access", lambda path, mode: os.fspath(path) != os.fspath(out))
    with pytest.raises(ConfigurationError, match="not writable"):
        Ledger.in_dir(out).append("submitting", record("x"))


def test_an_output_dir_that_cannot_be_created_is_a_configuration_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError, match="cannot be created") as caught:
        Ledger.in_dir(blocker / "out").append("submitting", record("x"))
    assert "SORA_WIDGET_OUTPUT_DIR" in caught.value.hint


def test_a_database_that_cannot_be_locked_is_refused_loudly(tmp_path, monkeypatch):
    Ledger.in_dir(tmp_path).append("submitting", record("x"))
    monkeypatch.setattr(_db, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(tmp_path / "ledger.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # as a filesystem without working locks would refuse us
    try:
        with pytest.raises(ConfigurationError) as caught:
            Ledger.in_dir(tmp_path).pending()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "cannot be opened or locked" in str(caught.value)
    assert "local disk" in caught.value.hint and "SORA_WIDGET_OUTPUT_DIR" in caught.value.hint


def test_a_ledger_of_a_newer_schema_is_refused(tmp_path):
    Ledger.in_dir(tmp_path).append("submitting", record("x"))
    raw = sqlite3.connect(tmp_path / "ledger.sqlite")
    raw.execute(f"PRAGMA user_version = {_db.SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(ConfigurationError, match="newer sora-widget"):
        Ledger.in_dir(tmp_path).pending()


def test_export_writes_one_json_line_per_generation(tmp_path):
    import io
    import json

    ledger = Ledger.in_dir(tmp_path)
    for name in ("a", "b"):
        ledger.append("submitted", record(name))
    out = io.StringIO()
    assert ledger.export(out) == 2
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ["a", "b"]
    stats = ledger.stats()
    assert stats["generations"] == 2 and stats["by_status"] == {"QUEUED": 2} and stats["events"] == 2


def test_the_nesting_of_an_old_ledger_line_is_told_without_parsing_it():
    from sora_widget.ledger._jsonl import nested_within

    assert nested_within(b'{"a": [1, {"b": []}]}', 4)
    assert not nested_within(b'{"a": [1, {"b": []}]}', 3)
    assert nested_within(b'{"a": "[[[[[[[[", "b": "\\"]]]]{{{{"}', 1)  # brackets in strings
    assert nested_within(b'[[], [], [[]], {"k": {}}]' * 20, 3)  # many brackets, shallow
    assert not nested_within(b"[" * 100_000, 32)
    assert not nested_within(b"[[]" * 10, 8)  # unbalanced: not JSON


def test_ledgers_opened_at_once_on_a_new_folder_all_open(tmp_path):
    """Two jobs gathered at once on a new output dir each open the ledger: the schema check
    reads the version and the objects in one transaction, so it never sees another opener's
    tables half made (it refused its own ledger as 'not one sora-widget wrote')."""
    from concurrent.futures import ThreadPoolExecutor

    for attempt in range(60):
        folder = tmp_path / f"out{attempt}"
        with ThreadPoolExecutor(4) as pool:
            opened = [pool.submit(lambda f=folder: Ledger.in_dir(f).get("none")) for _ in range(4)]
            assert [f.result() for f in opened] == [None] * 4
