import json

import pytest

from sora_widget import records
from sora_widget.params import GenerationParams
from sora_widget.records import Generation, merge


def make(status="QUEUED", at="2026-01-01T00:00:00.000Z", **fields):
    g = Generation(id="abc123", params=GenerationParams("a cat"), request_id="req-1", **fields)
    g.submitted_at = "2026-01-01T00:00:00.000Z"
    g.set_status(status, at=at)
    return g


def test_round_trip_through_json():
    g = make("COMPLETED", at="2026-01-01T00:03:00.000Z", video_path="sora-outputs/a.mp4", sha256="ab" * 32)
    data = json.loads(json.dumps(g.to_dict()))
    assert data["schema_version"] == 1
    assert data["latency_s"] == 180.0
    back = Generation.from_dict(data)
    assert back == g
    assert back.latency_s == 180.0


def test_other_schema_versions_are_refused():
    data = make().to_dict()
    data["schema_version"] = 2
    with pytest.raises(ValueError, match="schema_version 2"):
        Generation.from_dict(data)


def test_set_status_records_history_once_and_completion_time():
    g = make("QUEUED")
    assert not g.set_status("QUEUED")
    assert g.set_status("PROCESSING", at="2026-01-01T00:00:10.000Z")
    assert g.set_status("COMPLETED", at="2026-01-01T00:03:00.000Z")
    assert [h["status"] for h in g.status_history] == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert g.completed_at == "2026-01-01T00:03:00.000Z"
    assert g.done
    with pytest.raises(ValueError):
        g.set_status("DONE")


def test_merge_prefers_terminal_over_newer():
    done = make("COMPLETED", at="2026-01-01T00:03:00.000Z", video_path="a.mp4")
    newer_but_running = make("PROCESSING", at="2026-01-01T00:05:00.000Z")
    merged = merge(newer_but_running, done)
    assert merged.status == "COMPLETED"
    assert merged.video_path == "a.mp4"


def test_merge_prefers_newest_among_equals_and_fills_gaps():
    older = make("QUEUED", at="2026-01-01T00:00:01.000Z", notebook={"path": "n.ipynb"})
    newer = make("PROCESSING", at="2026-01-01T00:01:00.000Z")
    newer.sources, older.sources = ["output"], ["ledger"]
    merged = merge(older, newer)
    assert merged.status == "PROCESSING"
    assert merged.notebook == {"path": "n.ipynb"}
    assert merged.sources == ["ledger", "output"]
    assert [h["status"] for h in merged.status_history] == ["QUEUED", "PROCESSING"]


def test_merge_refuses_different_generations():
    other = make()
    other.id = "zzz"
    with pytest.raises(ValueError):
        merge(make(), other)


def test_summary_is_readable():
    g = make("FAILED", error={"type": "GenerationFailed", "detail": "blocked by content policy"})
    text = g.summary()
    assert text.startswith("FAILED · 8s 720x1280 · 'a cat'")
    assert "blocked by content policy" in text


def test_ids_are_unique_and_short():
    ids = {records.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 12 for i in ids)
