"""Records read from files are checked against the shipped schema by our own small
validator (jsonschema is only a dev dependency): it must agree with jsonschema, and name
the field that is wrong."""

import json

import jsonschema
import pytest

from sora_widget.params import GenerationParams
from sora_widget.records import SCHEMA_FILE, Generation
from sora_widget.records._check import InvalidRecord, check_record, first_problem

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def good() -> dict:
    g = Generation(id="g1", params=GenerationParams("a heron", 4, "1280x720"), request_id="req-1")
    g.submitted_at = "2026-01-01T00:00:00.000Z"
    g.set_status("QUEUED", at="2026-01-01T00:00:01.000Z")
    g.set_status("COMPLETED", at="2026-01-01T00:02:00.000Z")
    g.video_path, g.sha256, g.bytes = "clip.mp4", "a" * 64, 10
    g.error = None
    g.notebook = {"path": "analysis.ipynb", "cell_id": "c1"}
    g.cost = {"usd": 0.4, "source": "api"}
    g.video = {"width": 1280, "height": 720, "duration_s": 4.0, "codec": "h264", "fps": 24.0, "frames": 96}
    g.video["audio"] = {"codec": "aac", "channels": 2, "sample_rate": 48_000, "duration_s": 4.0}
    return json.loads(json.dumps(g.to_dict()))


#: (a change to a good record, the field our validator must name)
BAD = [
    ({"params": [1]}, "params"),
    ({"params": {"prompt": "x", "duration": 5, "size": "1280x720"}}, "params.duration"),
    ({"params": {"prompt": "x", "duration": 4}}, "params.size"),
    ({"params": {"prompt": 3, "duration": 4, "size": "1280x720"}}, "params.prompt"),
    ({"params": {"prompt": "x", "duration": 4, "size": "1280x720", "extra": 1}}, "params.extra"),
    ({"id": ["x"]}, "id"),
    ({"id": ""}, "id"),
    ({"status": {"a": 1}}, "status"),
    ({"status": "DONE"}, "status"),
    ({"error": "boom"}, "error"),
    ({"error": {"type": "X"}}, "error.message"),
    ({"submitted_at": 5}, "submitted_at"),
    ({"completed_at": "yesterday"}, "completed_at"),
    ({"status_history": ["x"]}, "status_history[0]"),
    ({"status_history": [{"status": "QUEUED", "at": 7}]}, "status_history[0].at"),
    ({"sha256": "not-a-digest"}, "sha256"),
    ({"bytes": -1}, "bytes"),
    ({"bytes": True}, "bytes"),
    ({"synthetic": "yes"}, "synthetic"),
    ({"notebook": {"path": "a.ipynb", "cwd": "/home/someone"}}, "notebook.cwd"),
    ({"notebook": ["a.ipynb"]}, "notebook"),
    ({"timings": {"submit_s": "slow"}}, "timings.submit_s"),
    ({"versions": {"python": 3}}, "versions.python"),
    ({"cost": {"usd": -1, "source": "api"}}, "cost.usd"),
    ({"model": "sora-9"}, "model"),
    ({"schema_version": 2}, "schema_version"),
    ({"video": {"width": 1280, "audio": "aac"}}, "video.audio"),
    ({"video": {"width": 1280, "audio": {"codec": "aac", "channels": "2"}}}, "video.audio.channels"),
    ({"kind": "film"}, "parts"),  # a film names its parts
    ({"kind": "film", "parts": []}, "parts"),
    ({"kind": "clip", "params": {"prompt": "x", "duration": 16, "size": "1280x720"}}, "params.duration"),
]


def test_a_film_of_any_whole_length_passes_both_validators():
    parts = [{"id": "a1", "sha256": "a" * 64}, {"id": "b2", "sha256": "b" * 64}]
    params = {"prompt": "x", "duration": 16, "size": "1280x720"}
    data = {**good(), "kind": "film", "parts": parts, "params": params}
    VALIDATOR.validate(data)
    assert first_problem(data) is None


def test_good_records_pass_both_validators():
    data = good()
    VALIDATOR.validate(data)
    assert first_problem(data) is None
    check_record(data)
    silent = {**data, "video": {**data["video"], "audio": None}}
    VALIDATOR.validate(silent)
    assert first_problem(silent) is None


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f for _, f in BAD])
def test_bad_records_are_refused_by_both_and_the_field_is_named(change, field):
    data = {**good(), **change}
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(data)
    with pytest.raises(InvalidRecord) as refused:
        check_record(data)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "x\ud800"}, "id"),  # a lone surrogate: valid JSON, never writable as UTF-8
        ({"submitted_at": "2026-13-45T00:00:00Z"}, "submitted_at"),  # the pattern, not a moment
        ({"bytes": float("nan")}, "bytes"),
        # jsonschema (Python's `$`) lets a final newline through a ^…$ pattern; we do not
        ({"updated_at": "2026-01-01T00:00:00.000Z\n"}, "updated_at"),
    ],
)
def test_beyond_the_schema_strings_are_text_and_times_are_moments(change, field):
    with pytest.raises(InvalidRecord) as refused:
        check_record({**good(), **change})
    assert refused.value.field == field


def test_unknown_top_level_fields_are_ignored_not_loaded():
    data = {**good(), "poster": "a newer version's field", "api_key": "sk-x"}
    assert first_problem(data) is None
    loaded = Generation.from_dict(data)
    assert not hasattr(loaded, "api_key") and "api_key" not in loaded.to_dict()


@pytest.mark.parametrize("data", [[], "a record", 3, None])
def test_from_dict_refuses_what_is_not_a_record_with_a_value_error(data):
    with pytest.raises(ValueError):
        Generation.from_dict(data)
