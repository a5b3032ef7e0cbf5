"""Local file logic: the ledger's reads and writes, file names."""

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from sora_widget.client import slugify, video_filename
from sora_widget.ledger import Ledger
from sora_widget.params import GenerationParams
from sora_widget.records import Generation


def record(id_="g1", status="QUEUED", at="2026-01-01T00:00:00.000Z", **fields):
    g = Generation(id=id_, params=GenerationParams("a fox"), request_id=f"req-{id_}", **fields)
    g.submitted_at = at
    g.set_status(status, at=at)
    return g


def test_ledger_merges_the_writes_of_a_generation_and_keeps_its_history(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    g = record()
    ledger.append("submitted", g)
    g.set_status("COMPLETED", at="2026-01-01T00:03:00.000Z")
    g.video_path = "clip.mp4"
    ledger.append("completed", g.to_dict())
    ledger.append("status", record())  # a stale view written late: the terminal status wins
    folded = ledger.records()
    assert list(folded) == ["g1"]
    assert folded["g1"].status == "COMPLETED"
    assert folded["g1"].video_path == "clip.mp4"
    assert folded["g1"].sources == ["ledger"]
    assert [e["event"] for e in ledger.events("g1")] == ["submitted", "completed", "status"]


def test_ledger_pending_is_unfinished_within_retention(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    now = datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)
    recent = (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    old = (now - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    ledger.append("submitted", record("running", "PROCESSING", at=recent))
    ledger.append("submitted", record("stale", "QUEUED", at=old))
    ledger.append("completed", record("saved", "COMPLETED", at=recent, video_path="x.mp4"))
    ledger.append("completed", record("unsaved", "COMPLETED", at=recent))
    ledger.append("failed", record("failed", "FAILED", at=recent))
    unknown = record("lost", "UNKNOWN", at=recent)
    unknown.request_id = None
    ledger.append("unknown", unknown)
    cut = record("cut", "SUBMITTING", at=recent)  # its process was killed mid-POST
    cut.request_id = None
    ledger.append("submitting", cut)
    assert [r.id for r in ledger.resumable(now)] == ["running", "unsaved"]
    listed = {r.id: r for r in ledger.pending(now)}
    assert sorted(listed) == ["cut", "lost", "running", "unsaved"]
    # a cut-off submit is listed for what it is: may be running and billed
    assert listed["cut"].status == "UNKNOWN" and "may be running and billed" in listed["cut"].error["message"]
    assert [r.id for r in ledger.unknown()] == ["cut", "lost"]
    assert ledger.get("req-running").id == "running"


def test_the_schedule_learns_finish_estimates_per_kind_and_host(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for i, (finished, estimate) in enumerate([("00:01:40", 95.0), ("00:02:00", None), ("00:02:20", 138.0)]):
        g = record(f"g{i}", api_host="api.segmind.com")
        g.set_status("COMPLETED", at=f"2026-01-01T{finished}.000Z")
        if estimate is not None:
            g.timings["finish_estimate_s"] = estimate  # between the last two checks
        ledger.append("completed", g)
    other = record("other", api_host="127.0.0.1:1")
    other.set_status("COMPLETED", at="2026-01-01T00:00:05.000Z")
    ledger.append("completed", other)
    assert ledger.latencies("api.segmind.com", "sora-2", 8, "720x1280") == [95.0, 120.0, 138.0]
    assert ledger.latencies("api.segmind.com", "sora-2", 8, "720x1280", limit=2) == [120.0, 138.0]
    assert ledger.latencies("api.segmind.com", "sora-2", 4, "720x1280") == []


@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("A monk meditating under a waterfall!", "a-monk-meditating-under-a-waterfall"),
        ("Café — crème brûlée", "cafe-creme-brulee"),
        ("日本語だけ", "clip"),
        ("word " * 30, "word-word-word-word-word-word-word-word"),
    ],
)
def test_slugify(prompt, slug):
    assert slugify(prompt) == slug


def test_video_filename_is_sortable_and_unique():
    g = record("0123456789ab")
    name = video_filename(g, datetime(2026, 3, 4, 5, 6, 7))
    assert name == "20260304-050607-a-fox-01234567.mp4"


def test_a_saved_clip_sweeps_the_partials_of_dead_processes_only(tmp_path):
    """A kernel killed mid-download leaves `.NAME.PID-xxxx.part`; once the clip is saved (by
    a later run) that litter goes, while a live process's partial of the same clip stays."""
    from sora_widget.client._download import _sweep_orphans

    script = "import os; print(os.getpid())"
    dead = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout)
    dest = tmp_path / "clip.mp4"
    dest.write_bytes(b"the clip")
    orphan = tmp_path / f".clip.mp4.{dead}-k2j4.part"
    live = tmp_path / f".clip.mp4.{os.getppid()}-a8d1.part"  # our parent runs: still downloading
    another_clip = tmp_path / f".other.mp4.{dead}-k2j4.part"
    nameless = tmp_path / ".clip.mp4.q7x9.part"  # no pid to ask about: kept
    for path in (orphan, live, another_clip, nameless):
        path.write_bytes(b"half")
    _sweep_orphans(dest)
    assert not orphan.exists()
    assert live.exists() and another_clip.exists() and nameless.exists() and dest.exists()
