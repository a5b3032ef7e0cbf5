"""Records in saved notebooks: the JSON Schema, read_records' merge, embed, verify.
Pure file work in a temporary directory — no kernel, no network."""

import hashlib
import json

import jsonschema
import pytest

from sora_widget import params
from sora_widget.ledger import Ledger
from sora_widget.notebook import embed, read_records, verify
from sora_widget.params import GenerationParams
from sora_widget.records import MIMETYPE, SCHEMA_FILE, Generation, record_bundle, reproduce_code
from sora_widget.report import export

SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@pytest.fixture(autouse=True)
def default_output_dir(monkeypatch):
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)


def record(id="g1", status="PROCESSING", at="2026-01-01T00:00:10.000Z", **fields):
    g = Generation(id=id, params=GenerationParams("a lighthouse at dusk", 4, "1280x720"), **fields)
    g.request_id = g.request_id or f"req-{id}"
    g.submitted_at = "2026-01-01T00:00:00.000Z"
    g.set_status("QUEUED", at="2026-01-01T00:00:01.000Z")
    g.set_status(status, at=at)
    return g


def completed(id, clip, **fields):
    g = record(id, "COMPLETED", at="2026-01-01T00:02:00.000Z", **fields)
    g.video_path = clip.name
    g.sha256 = hashlib.sha256(clip.read_bytes()).hexdigest()
    g.bytes = clip.stat().st_size
    g.video = {"width": 1280, "height": 720, "duration_s": 4.0, "codec": "h264", "fps": 24.0, "frames": 96}
    return g


def notebook(tmp_path, cells):
    """A saved notebook whose cells hold these record outputs (cell id → records)."""
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "id": cell_id,
                "cell_type": "code",
                "metadata": {},
                "source": "clip = sw.generate(...)",
                "execution_count": 1,
                "outputs": [
                    {"output_type": "display_data", "metadata": {}, "data": record_bundle(shown)},
                ],
            }
            for cell_id, shown in cells.items()
        ],
    }
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    return path


# -- the schema ----------------------------------------------------------------------------


def test_every_kind_of_record_is_valid_against_the_shipped_schema(clip):
    failed = record("f1", "FAILED")
    failed.error = {"type": "GenerationFailed", "message": "blocked", "http_status": 422, "retryable": False}
    kinds = [
        Generation(id="s1", params=GenerationParams("a cat")),  # SUBMITTING, nothing known yet
        record("p1"),
        failed,
        completed("c1", clip, notebook={"path": "analysis.ipynb", "cell_id": "cell-1"}),
        completed("r1", clip, replay_of="c1", versions={"sora_widget": "0.1", "python": "3.11"}),
        record("b1", batch={"id": "sweep", "index": 3, "param_hash": "ab12"}, reference_source="cat.png"),
    ]
    for g in kinds:
        VALIDATOR.validate(json.loads(json.dumps(g.to_dict())))


def test_lineage_and_films_are_valid_and_a_clip_still_keeps_its_durations(clip):
    extended = completed(
        "e1", clip, derived_from={"id": "c1", "how": "extend"}, reference_source="last frame of c1"
    )
    remixed = completed("m1", clip, derived_from={"id": "c1", "how": "remix"})
    film = completed(
        "f1", clip, kind="film", parts=[{"id": "c1", "sha256": "a" * 64}, {"id": "e1", "sha256": "b" * 64}]
    )
    film.request_id = None
    film.params = GenerationParams("Film of 2 shots", 24, "1280x720")  # longer than any one clip
    for g in (extended, remixed, film):
        VALIDATOR.validate(json.loads(json.dumps(g.to_dict())))
    too_long = completed("c2", clip).to_dict()
    too_long["params"]["duration"] = 24
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(too_long)  # a clip of a length no model offers
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({**film.to_dict(), "parts": None})  # a film names its parts
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({**extended.to_dict(), "derived_from": {"id": "c1", "how": "sequel"}})


def test_the_schema_rejects_what_a_record_must_never_hold():
    data = record().to_dict()
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({**data, "api_key": "sk-anything"})  # no room for a key
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({**data, "params": {**data["params"], "duration": 5}})
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({**data, "status": "DONE"})


def test_the_schema_allows_exactly_the_durations_and_sizes_of_params():
    allowed = SCHEMA["properties"]["params"]["properties"]
    # a clip's duration is one the models offer; a film's is its whole length
    assert SCHEMA["$defs"]["clip_duration"]["enum"] == list(params.DURATIONS)
    # (null: a clip that takes its first frame's shape)
    assert allowed["size"]["enum"] == [*params.SIZES, None]
    assert SCHEMA["properties"]["model"]["enum"] == list(params.MODELS)


# -- read_records ----------------------------------------------------------------------------


def test_read_records_merges_outputs_metadata_and_ledger_and_says_where_each_came_from(tmp_path, clip):
    # the cell's output froze while the job ran; the metadata and the ledger saw it finish
    path = notebook(tmp_path, {"cell-1": [record("g1")], "cell-2": [record("g2", "QUEUED")]})
    nb = json.loads(path.read_text())
    done = completed("g1", clip)
    nb["metadata"]["sora_widget"] = {"schema_version": 1, "generations": {"g1": done.to_dict()}}
    path.write_text(json.dumps(nb))
    book = Ledger.in_dir(tmp_path / "sora-outputs")
    book.append("completed", completed("g1", clip))
    book.append("submitted", record("g3", notebook={"path": "analysis.ipynb"}))  # ran here, no output
    book.append("submitted", record("other", notebook={"path": "elsewhere.ipynb"}))

    found = {r.id: r for r in read_records(path)}

    assert set(found) == {"g1", "g2", "g3"}
    assert found["g1"].status == "COMPLETED"  # a terminal status wins over the frozen output
    assert found["g1"].sha256 == done.sha256
    assert found["g1"].sources == ["ledger", "metadata", "output"]
    assert [h["status"] for h in found["g1"].status_history] == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert found["g2"].sources == ["output"]
    assert found["g3"].sources == ["ledger"]
    assert [r.id for r in read_records(path, include_ledger=False)] == ["g1", "g2"]


def test_read_records_refuses_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        read_records(path)


def test_a_marimo_notebooks_records_are_the_ledgers_that_ran_in_it_and_export_pages_them(tmp_path, clip):
    # marimo keeps no outputs in its .py file: the records that name it are in the ledger
    path = tmp_path / "film.py"
    path.write_text("import marimo\n\napp = marimo.App()\n")
    book = Ledger.in_dir(tmp_path / "sora-outputs")
    book.append("completed", completed("m1", clip, notebook={"path": "film.py"}))
    book.append("submitted", record("m2", notebook={"path": "film.py"}))
    book.append("completed", completed("other", clip, notebook={"path": "analysis.ipynb"}))
    book.close()

    found = read_records(path)

    assert [(r.id, r.sources) for r in found] == [("m1", ["ledger"]), ("m2", ["ledger"])]
    assert verify(path) == []
    page = export(path, tmp_path / "film.html").read_text()
    # the completed clip plays (embedded: it is small), the pending one is listed, the
    # other notebook's is not on the page
    assert page.count('<video src="data:video/mp4;base64,') == 1
    assert "req-m1" in page and "req-m2" in page and "req-other" not in page


def test_a_python_file_that_is_not_a_marimo_notebook_is_refused(tmp_path):
    path = tmp_path / "script.py"
    path.write_text("print('hello')\n")
    with pytest.raises(ValueError, match=r"neither a Jupyter notebook .* nor a marimo notebook"):
        read_records(path)


# -- embed -----------------------------------------------------------------------------------


def test_embed_writes_records_and_cell_ids_and_is_idempotent(tmp_path, clip):
    path = notebook(tmp_path, {"cell-1": [completed("g1", clip)], "cell-2": [record("g2")]})

    assert embed(path) == 2
    first = path.read_bytes()
    assert embed(path) == 2
    assert path.read_bytes() == first  # same bytes: running it again changes nothing

    nb = json.loads(first)
    section = nb["metadata"]["sora_widget"]
    assert section["schema_version"] == 1
    assert set(section["generations"]) == {"g1", "g2"}
    for data in section["generations"].values():
        VALIDATOR.validate(data)
    cell_ids = {c["id"]: c["metadata"]["sora_widget"]["generation_ids"] for c in nb["cells"]}
    assert cell_ids == {"cell-1": ["g1"], "cell-2": ["g2"]}
    # the outputs are left as they were
    assert nb["cells"][0]["outputs"][0]["data"][MIMETYPE]["generations"][0]["id"] == "g1"


def test_embedded_metadata_survives_clearing_the_outputs(tmp_path, clip):
    path = notebook(tmp_path, {"cell-1": [completed("g1", clip)]})
    embed(path)
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        cell["outputs"] = []
    path.write_text(json.dumps(nb))
    (found,) = read_records(path)
    assert (found.id, found.status, found.sources) == ("g1", "COMPLETED", ["metadata"])


# -- verify ----------------------------------------------------------------------------------


def test_verify_passes_then_names_a_changed_byte_and_a_missing_file(tmp_path, clip):
    path = notebook(tmp_path, {"cell-1": [completed("g1", clip)], "cell-2": [record("g2", "FAILED")]})
    assert verify(path) == []

    data = bytearray(clip.read_bytes())
    data[100] ^= 0x01
    clip.write_bytes(bytes(data))
    (problem,) = verify(path)
    assert problem.startswith("g1: clip.mp4 has changed")

    clip.unlink()
    assert verify(path) == ["g1: clip.mp4 is missing"]


def test_verify_flags_a_completed_record_without_a_saved_file(tmp_path):
    done = record("g1", "COMPLETED")  # the clip was never saved (expired, or a crash)
    path = notebook(tmp_path, {"cell-1": [done]})
    assert verify(path) == ["g1: completed but no saved file is recorded"]


def test_the_schemas_enums_are_written_from_the_catalogue_and_the_statuses():
    """tools/record_schema.py copies models, sizes, durations, aspect ratios, resolutions and
    statuses into the schema: the file is what it writes (run it after changing them)."""
    import importlib.util
    import typing
    from pathlib import Path

    from sora_widget import protocol
    from sora_widget.records.schema import STATUSES

    tool = Path(__file__).resolve().parents[2] / "tools" / "record_schema.py"
    spec = importlib.util.spec_from_file_location("record_schema", tool)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert SCHEMA_FILE.read_text() == generator.generate(), "the schema is stale: run tools/record_schema.py"
    assert SCHEMA["properties"]["status"]["enum"] == list(STATUSES)
    # the view's statuses are the record's, and a batch's PENDING before them
    assert typing.get_args(protocol.Status) == ("PENDING", *STATUSES)


def test_the_reproducing_code_of_a_crafted_record_adds_no_line_of_code():
    crafted = record(reference_source="photo.png\nimport os; os.system('x')")
    code = reproduce_code(crafted)
    assert "\nimport os" not in code
    assert "# first frame uploaded from \"photo.png\\nimport os; os.system('x')\"" in code
    compile(code, "<reproduce>", "exec")
