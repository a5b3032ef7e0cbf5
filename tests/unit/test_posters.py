"""Record outputs carry a poster frame of each saved clip in their HTML fallback (and
beside the records in our mimetype), never inside the record itself."""

from __future__ import annotations

import base64
import json

from sora_widget.params import GenerationParams
from sora_widget.records import MIMETYPE, Generation, record_bundle

from .test_video import make_clip


def completed(video_path: str, id_: str = "g1") -> Generation:
    record = Generation(id=id_, params=GenerationParams("a red kite", duration=4), request_id="r1")
    record.set_status("COMPLETED")
    record.video_path = video_path
    return record


def test_a_saved_clip_gets_a_poster_in_the_html_and_beside_the_records(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sora-outputs").mkdir()
    make_clip(tmp_path / "sora-outputs" / "kite.mp4", frames=48, size=(640, 360))
    record = completed("sora-outputs/kite.mp4")
    bundle = record_bundle([record])
    poster = bundle[MIMETYPE]["posters"]["g1"]
    assert poster.startswith("data:image/jpeg;base64,")
    assert len(base64.b64decode(poster.split(",", 1)[1])) <= 30_000
    assert bundle["text/html"].count('poster="data:image/jpeg;base64,') == 1
    # never in the record: not in notebook metadata, not in the ledger
    assert "data:image" not in json.dumps(bundle[MIMETYPE]["generations"])
    assert "data:image" not in json.dumps(record.to_dict())


def test_no_poster_without_a_local_clip(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = completed("sora-outputs/gone.mp4", "a")
    elsewhere = completed("/etc/passwd", "b")  # a record from a notebook someone sent
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    not_video = completed("junk.mp4", "c")
    bundle = record_bundle([missing, elsewhere, not_video])
    assert bundle[MIMETYPE]["posters"] == {}
    assert "poster=" not in bundle["text/html"]


def test_one_output_makes_a_bounded_number_of_posters(tmp_path, monkeypatch):
    from sora_widget.records import view

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(view, "MAX_POSTERS", 2)
    for name in ("a", "b", "c"):
        make_clip(tmp_path / f"{name}.mp4", frames=24)
    bundle = record_bundle([completed(f"{name}.mp4", name) for name in ("a", "b", "c")])
    assert sorted(bundle[MIMETYPE]["posters"]) == ["a", "b"]
