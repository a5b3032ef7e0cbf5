"""%sora and friends: through a real IPython shell, and through a real kernel running a
notebook headless (nbclient), against the emulator on 127.0.0.1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import sora_widget as sw
from sora_widget import api
from sora_widget.emulator import start as start_emulator
from sora_widget.records import MIMETYPE, Generation

from ..kernels import execute_notebook

FAKE_KEY = "sk-test-FAKE-magic-4b1d"


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(latency=0.3, block_words=("forbidden",)) as handle:
        yield handle


@pytest.fixture
def environment(emulator, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emulator.base_url)
    monkeypatch.setenv("SORA_WIDGET_OUTPUT_DIR", "sora-outputs")
    monkeypatch.setattr(api, "_defaults", {})
    return tmp_path


@pytest.fixture
def shell(environment):
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "sora_widget")
    yield ip
    ip.run_line_magic("unload_ext", "sora_widget")
    InteractiveShell.clear_instance()


def test_line_magic_generates_and_returns_the_record(shell, capsys):
    shell.run_cell("clip = %sora -d 4 -s landscape 'a paper boat' on a rainy street")
    clip = shell.user_ns["clip"]
    assert isinstance(clip, Generation)
    assert clip.status == "COMPLETED"
    assert clip.params.prompt == "a paper boat on a rainy street"  # shell-style quoting
    assert (clip.params.duration, clip.params.size) == (4, "1280x720")
    assert Path(clip.video_path).exists()
    err = capsys.readouterr().err
    assert "COMPLETED" in err  # the text progress line of a terminal


def test_line_magic_expands_variables(shell):
    shell.user_ns["animal"] = "heron"
    shell.run_cell("clip = %sora -d 4 a {animal} at dawn")
    assert shell.user_ns["clip"].params.prompt == "a heron at dawn"


def test_cell_magic_fills_placeholders_and_keeps_lines(shell):
    shell.user_ns["subject"] = "a red kite"
    clip = shell.run_cell_magic("sora", "-d 4", "A slow dolly shot of {subject},\ngolden hour\n")
    assert clip.params.prompt == "A slow dolly shot of a red kite,\ngolden hour"
    raw = shell.run_cell_magic("sora", "-d 4 --raw", "literal {braces} stay")
    assert raw.params.prompt == "literal {braces} stay"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("-d 5 a cat", "4, 8, 12"),
        ("-s square a cat", "'720x1280' (portrait)"),
        ("-d 4", "needs a prompt"),
        ("-r ftp://x/y.png a cat", "input_reference"),
        ("--colour red a cat", "unrecognized arguments"),
    ],
)
def test_usage_errors_are_clean(shell, line, says, emulator):
    before = emulator.stats()["requests"].get("submit", 0)
    with pytest.raises(UsageError, match=None) as caught:
        shell.run_line_magic("sora", line)
    assert says in str(caught.value)
    assert emulator.stats()["requests"].get("submit", 0) == before


def test_usage_error_prints_no_traceback(shell, capsys):
    shell.run_cell("%sora -d 7 a cat")
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "UsageError" in text and "4, 8, 12" in text
    assert "Traceback" not in text


def test_missing_placeholder_is_a_usage_error(shell):
    with pytest.raises(UsageError, match=r"\{nowhere\} is not a variable"):
        shell.run_cell_magic("sora", "-d 4", "a {nowhere} scene")


def test_blocked_prompt_returns_the_failed_record(shell, capsys):
    clip = shell.run_line_magic("sora", "-d 4 a forbidden thing")
    assert clip.status == "FAILED"
    assert "content policy" in clip.error["detail"].lower()
    assert "content policy" in capsys.readouterr().out.lower()


def test_defaults_come_from_traitlets_config(environment):
    ip = InteractiveShell.instance()
    ip.config.SoraMagics.default_duration = 4
    ip.config.SoraMagics.default_size = "landscape"
    try:
        ip.run_line_magic("load_ext", "sora_widget")
        clip = ip.run_line_magic("sora", "configured defaults")
        assert (clip.params.duration, clip.params.size) == (4, "1280x720")
        config = ip.run_line_magic("sora_config", "")
        assert config["default_duration"] == 4
    finally:
        ip.run_line_magic("unload_ext", "sora_widget")
        InteractiveShell.clear_instance()


def test_management_magics(shell, emulator, capsys):
    shell.run_line_magic("sora", "-d 4 one for the table")
    capsys.readouterr()
    shell.run_line_magic("sora_jobs", "")
    out = capsys.readouterr().out
    assert "1 job(s) started in this kernel" in out
    config = shell.run_line_magic("sora_config", "")
    out = capsys.readouterr().out
    assert config["api_key_set"] is True
    assert FAKE_KEY not in out and FAKE_KEY not in json.dumps(config)
    assert emulator.base_url in out

    # a job submitted elsewhere and never collected: %sora_resume finishes it
    async def submit_only():
        async with sw.AsyncSoraClient() as client:
            return await client.submit("left behind", duration=4)

    import asyncio

    left = asyncio.run(submit_only())
    resumed = shell.run_line_magic("sora_resume", "")
    assert [r.request_id for r in resumed] == [left.request_id]
    assert resumed[0].status == "COMPLETED"
    assert shell.run_line_magic("sora_resume", "") is None
    assert "nothing to resume" in capsys.readouterr().out


def test_unload_removes_the_magics(environment):
    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "sora_widget")
        assert "sora" in ip.magics_manager.magics["line"]
        ip.run_line_magic("unload_ext", "sora_widget")
        assert "sora" not in ip.magics_manager.magics["line"]
        assert "sora" not in ip.magics_manager.magics["cell"]
    finally:
        InteractiveShell.clear_instance()


# -- a real kernel, headless ------------------------------------------------------------------


def records_in(output: dict) -> list[dict]:
    data = output.get("data", {}).get(MIMETYPE)
    return data["generations"] if data else []


def test_headless_notebook_waits_and_records_each_cell(environment, emulator):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext sora_widget"),
        nbformat.v4.new_code_cell("clip = %sora -d 4 -s landscape a lighthouse at dusk"),
        nbformat.v4.new_code_cell("subject = 'a heron'"),
        nbformat.v4.new_code_cell("%%sora -d 4\nA slow pan across {subject} in fog"),
        nbformat.v4.new_code_cell("print(clip.status, clip.params.size)"),
        nbformat.v4.new_code_cell("job = %sora --no-wait -d 4 a background job\nprint(type(job).__name__)"),
        nbformat.v4.new_code_cell("done = %sora_wait\nprint(sorted(g.status for g in done))"),
        nbformat.v4.new_code_cell("%sora_jobs"),
        nbformat.v4.new_code_cell("%sora -d 9 bad duration"),
    ]
    execute_notebook(nb, cwd=environment, allow_errors=True)
    cells = nb.cells

    lighthouse = [r for o in cells[1].outputs for r in records_in(o)]
    assert [r["status"] for r in lighthouse] == ["COMPLETED"]
    assert lighthouse[0]["params"]["prompt"] == "a lighthouse at dusk"
    assert Path(environment / lighthouse[0]["video_path"]).exists()

    heron = [r for o in cells[3].outputs for r in records_in(o)]
    assert [r["params"]["prompt"] for r in heron] == ["A slow pan across a heron in fog"]
    assert heron[0]["status"] == "COMPLETED"

    assert "COMPLETED 1280x720" in "".join(o.get("text", "") for o in cells[4].outputs)
    assert "Job" in "".join(o.get("text", "") for o in cells[5].outputs)
    assert "['COMPLETED', 'COMPLETED', 'COMPLETED']" in "".join(o.get("text", "") for o in cells[6].outputs)
    assert "job(s) started in this kernel" in "".join(o.get("text", "") for o in cells[7].outputs)

    usage = "".join(o.get("text", "") for o in cells[8].outputs)
    assert "UsageError" in usage and "4, 8, 12" in usage
    assert not any(o.get("output_type") == "error" for o in cells[8].outputs)

    text = json.dumps(nb)
    assert FAKE_KEY not in text
    for path in environment.rglob("*"):
        if path.is_file() and path.suffix in (".jsonl", ".json", ".ipynb"):
            assert FAKE_KEY not in path.read_text(errors="replace")
    assert os.environ["SEGMIND_API_KEY"] == FAKE_KEY  # the test's own env, untouched


def test_the_model_option_and_the_config_estimate(shell, capsys):
    clip = shell.run_line_magic("sora", "-m sora-2-pro -s 1792x1024 -d 4 a wide valley")
    assert (clip.model, clip.params.size, clip.video["width"]) == ("sora-2-pro", "1792x1024", 1792)
    with pytest.raises(UsageError, match="invalid choice: 'sora-3'"):
        shell.run_line_magic("sora", "-m sora-3 a cat")
    with pytest.raises(UsageError, match="sora-2-pro also offers"):
        shell.run_line_magic("sora", "-s 1792x1024 a cat")  # sora-2 does not offer it
    capsys.readouterr()
    config = shell.run_line_magic("sora_config", "")
    assert config["estimate"].startswith("≈ $0.80 · sora-2 · 8 s")
    assert "spent on" in config["spend"]
    assert "estimate" in capsys.readouterr().out


def test_continue_starts_from_the_last_clip_of_this_kernel_or_a_named_one(shell, emulator):
    with pytest.raises(UsageError, match="no finished clip to continue yet"):
        shell.run_line_magic("sora", "--continue the kite dives")
    first = shell.run_line_magic("sora", "-d 4 -s landscape a red kite rising over the dunes")
    second = shell.run_line_magic("sora", "--continue the kite dives toward the sea")
    assert second.params.prompt == "the kite dives toward the sea"  # "the" is no clip id: a word
    assert second.derived_from == {"id": first.id, "how": "extend"}
    assert second.reference_source == f"last frame of {first.id}"
    assert (second.params.duration, second.params.size) == (4, "1280x720")  # the parent's

    third = shell.run_line_magic("sora", f"--continue {first.id} -d 8 the kite climbs again")
    assert third.derived_from == {"id": first.id, "how": "extend"}  # named, not the latest
    assert third.params.duration == 8
    fourth = shell.run_line_magic("sora", "--continue it lands")
    assert fourth.derived_from == {"id": third.id, "how": "extend"}  # the latest one
    cell = shell.run_cell_magic("sora", f"--continue {second.request_id}", "The kite skims the waves\n")
    assert cell.derived_from == {"id": second.id, "how": "extend"}
    with pytest.raises(UsageError, match="leave out -r"):
        shell.run_line_magic("sora", "--continue -r https://example.com/a.png it rains")


def test_continue_run_again_takes_the_shot_it_made_and_new_makes_another(shell, emulator, capsys):
    first = shell.run_line_magic("sora", "-d 4 -s landscape a red kite rising over the dunes")
    second = shell.run_line_magic("sora", "--continue the kite dives toward the sea")
    before = emulator.stats()
    capsys.readouterr()

    # both cells run again (Run All, same kernel): the first reuses its clip, which is then
    # the clip to continue — the same frame and prompt: the same shot, nothing is sent
    assert shell.run_line_magic("sora", "-d 4 -s landscape a red kite rising over the dunes").id == first.id
    again = shell.run_line_magic("sora", "--continue the kite dives toward the sea")
    assert again.id == second.id and again.derived_from == {"id": first.id, "how": "extend"}
    after = emulator.stats()
    assert after["submits"] == before["submits"]
    assert after["requests"].get("upload", 0) == before["requests"].get("upload", 0)
    assert f"Reused clip {second.id}" in capsys.readouterr().out

    newer = shell.run_line_magic("sora", f"--continue {first.id} --new the kite dives toward the sea")
    assert newer.id != second.id and newer.take == 2 and newer.derived_from == second.derived_from
    assert emulator.stats()["submits"] == before["submits"] + 1


def test_continue_in_a_headless_notebook_records_the_parent(environment, emulator):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext sora_widget"),
        nbformat.v4.new_code_cell("kite = %sora -d 4 -s landscape a red kite rising"),
        nbformat.v4.new_code_cell("dive = %sora --continue the kite dives"),
        nbformat.v4.new_code_cell(
            "print(dive.status, dive.derived_from == {'id': kite.id, 'how': 'extend'})"
        ),
    ]
    execute_notebook(nb, cwd=environment)
    assert "COMPLETED True" in "".join(o.get("text", "") for o in nb.cells[3].outputs)
    shown = [r for o in nb.cells[2].outputs for r in records_in(o)]
    assert [r["params"]["prompt"] for r in shown] == ["the kite dives"]
    assert shown[0]["derived_from"]["how"] == "extend" and shown[0]["reference_source"].startswith(
        "last frame of "
    )
