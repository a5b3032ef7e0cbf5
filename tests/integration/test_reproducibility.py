"""A notebook run headless (nbclient, a real kernel) against the emulator on 127.0.0.1,
then the `sora-widget` commands on the saved file: records, embed, verify, replay — and
`sw.read_records` / `sw.replay` from Python. The recognisable fake key must appear in
no file and no command output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest

import sora_widget as sw
from sora_widget import api
from sora_widget.ledger import Ledger
from sora_widget.records import SCHEMA_FILE

from ..kernels import execute_notebook

FAKE_KEY = "sk-test-FAKE-provenance-9c2e"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


@pytest.fixture
def workdir(emulator, tmp_path, monkeypatch):
    server = emulator(latency=0.2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", server.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(api, "_defaults", {})
    return tmp_path


@pytest.fixture
def executed(workdir):
    """analysis.ipynb, executed headless and saved: two generations, one per cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sora_widget as sw"),
        nbformat.v4.new_code_cell(
            'clip = sw.generate("a lighthouse at dusk", duration=4, size="landscape")\nclip'
        ),
        nbformat.v4.new_code_cell("%load_ext sora_widget"),
        nbformat.v4.new_code_cell("heron = %sora -d 4 a heron in fog"),
    ]
    execute_notebook(nb, cwd=workdir)
    path = workdir / "analysis.ipynb"
    nbformat.write(nb, path)
    return path


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "sora_widget.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert FAKE_KEY not in run.stdout + run.stderr
    return run


def saved(path: Path) -> dict:
    return json.loads(path.read_text())


def test_headless_run_then_embed_gives_the_metadata_a_frontend_would(executed):
    assert "sora_widget" not in saved(executed)["metadata"]  # no frontend extension ran

    listed = cli("records", str(executed))
    assert listed.returncode == 0, listed.stderr
    assert "a lighthouse at dusk" in listed.stdout and "a heron in fog" in listed.stdout

    first = cli("embed", str(executed))
    assert first.returncode == 0, first.stderr
    assert "2 generation record(s)" in first.stdout
    once = executed.read_bytes()
    assert cli("embed", str(executed)).returncode == 0
    assert executed.read_bytes() == once  # idempotent

    nb = json.loads(once)
    section = nb["metadata"]["sora_widget"]
    assert section["schema_version"] == 1
    generations = section["generations"]
    assert sorted(g["params"]["prompt"] for g in generations.values()) == [
        "a heron in fog",
        "a lighthouse at dusk",
    ]
    for data in generations.values():
        VALIDATOR.validate(data)
        assert data["status"] == "COMPLETED" and len(data["sha256"]) == 64
        assert data["video"]["width"] in (720, 1280) and data["video"]["codec"] == "h264"
        assert data["versions"]["sora_widget"] == sw.__version__ and data["versions"]["ipykernel"]
    by_prompt = {g["params"]["prompt"]: g["id"] for g in generations.values()}
    cell_ids = [c["metadata"].get("sora_widget", {}).get("generation_ids") for c in nb["cells"]]
    lighthouse, heron = by_prompt["a lighthouse at dusk"], by_prompt["a heron in fog"]
    assert cell_ids == [None, [lighthouse], None, [heron]]  # each named by the cell showing it

    # the outputs cleared, the records are still read back from the metadata (and ledger)
    for cell in nb["cells"]:
        cell["outputs"] = []
    executed.write_text(json.dumps(nb))
    assert {r.id for r in sw.read_records(executed, include_ledger=False)} == set(generations)


def test_verify_passes_and_fails_once_a_byte_of_a_clip_changes(executed):
    cli("embed", str(executed))
    ok = cli("verify", str(executed))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok: 2 clip(s)" in ok.stdout

    record = next(r for r in sw.read_records(executed) if r.params.prompt == "a heron in fog")
    clip = executed.parent / record.video_path
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0xFF
    clip.write_bytes(bytes(data))

    bad = cli("verify", str(executed))
    assert bad.returncode == 1
    assert f"FAIL {record.id}: {record.video_path} has changed" in bad.stdout
    assert "a lighthouse" not in bad.stdout  # the other clip is fine and not named


def test_replay_from_the_command_line_regenerates_with_identical_parameters(executed, tmp_path):
    original = next(r for r in sw.read_records(executed) if r.params.prompt == "a lighthouse at dusk")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = sorted(
        p.relative_to(executed.parent) for p in executed.parent.rglob("*") if "elsewhere" not in p.parts
    )

    run = cli("replay", str(executed), original.request_id, cwd=elsewhere)  # by request id, from another dir

    assert run.returncode == 0, run.stderr
    assert f"replay of  {original.id}" in run.stdout
    # the clip and its ledger entry went to the user's output dir (./sora-outputs where the
    # command ran), never into the folder the notebook is in
    after = sorted(
        p.relative_to(executed.parent) for p in executed.parent.rglob("*") if "elsewhere" not in p.parts
    )
    assert after == before
    replays = [r for r in Ledger.in_dir(elsewhere / "sora-outputs").records().values() if r.replay_of]
    assert len(replays) == 1
    replay = replays[0]
    assert replay.replay_of == original.id and replay.params == original.params
    assert replay.request_id != original.request_id and replay.status == "COMPLETED"
    assert (elsewhere / replay.video_path).exists()
    assert replay.notebook == {"path": executed.name}  # the name only: no folder, no user name

    # run from the notebook's own folder, the replay lands beside it: `embed` adds it
    here = cli("replay", str(executed), original.id, cwd=executed.parent)
    assert here.returncode == 0, here.stderr
    (local,) = [r for r in sw.read_records(executed) if r.replay_of == original.id]
    assert (executed.parent / local.video_path).exists()
    assert cli("embed", str(executed)).returncode == 0
    assert local.id in saved(executed)["metadata"]["sora_widget"]["generations"]
    assert replay.id not in saved(executed)["metadata"]["sora_widget"]["generations"]
    assert cli("verify", str(executed)).returncode == 0


def test_replay_from_python_by_id_record_or_dict(executed):
    original = next(r for r in sw.read_records(executed) if r.params.prompt == "a heron in fog")

    by_id = sw.replay(original.id, notebook=executed, timeout=60)
    by_record = sw.replay(original, timeout=60)

    for again in (by_id, by_record):
        assert again.replay_of == original.id and again.params == original.params
        assert again.status == "COMPLETED" and again.id != original.id
    VALIDATOR.validate(by_id.to_dict())


def test_unknown_ids_and_non_notebooks_are_clear_errors(executed, workdir):
    with pytest.raises(LookupError, match="no generation 'nope' in the notebook"):
        sw.replay("nope", notebook=executed)
    missing = cli("replay", str(executed), "nope")
    assert missing.returncode == 2 and "no generation 'nope'" in missing.stderr
    (workdir / "notes.ipynb").write_text("not json")
    for command in ("records", "embed", "verify"):
        run = cli(command, str(workdir / "notes.ipynb"))
        assert run.returncode == 2 and run.stderr.startswith("error: "), (command, run.stderr)
        assert "Traceback" not in run.stderr
    absent = cli("verify", str(workdir / "absent.ipynb"))
    assert absent.returncode == 2 and "no such notebook" in absent.stderr


def test_the_key_is_in_no_file_of_the_whole_run(executed, workdir):
    cli("embed", str(executed))
    cli("replay", str(executed), sw.read_records(executed)[0].id)
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".mp4" for p in files) and any(p.name == "ledger.sqlite" for p in files)
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert os.environ["SEGMIND_API_KEY"] == FAKE_KEY  # it was there to leak, and did not
