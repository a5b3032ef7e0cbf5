"""The notebook as a cache, against the emulator on 127.0.0.1: the same request asked
again is answered from the clip it already made (0 submits), a running job is attached
to, an attempt of unknown outcome blocks a blind resubmit, a changed clip is made again,
and a new take is one submit. A notebook run twice with nbclient (a real kernel) makes no
submit the second time."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nbformat
import pytest

import sora_widget as sw
from sora_widget import api, cost
from sora_widget.client import AsyncSoraClient, PollPolicy
from sora_widget.records import MIMETYPE, record_bundle

from ..kernels import execute_notebook

FAKE_KEY = "sk-test-FAKE-reuse-2b8d"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)


@pytest.fixture
def server(emulator):
    return emulator(latency=0.3)


@pytest.fixture
def here(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", server.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(api, "_defaults", {"poll": FAST_POLL})
    monkeypatch.setattr(cost, "_session", cost.Budget())
    return tmp_path


def submits(server) -> int:
    return int(server.stats()["requests"].get("submit", 0))


async def test_the_same_request_again_is_the_same_clip_for_nothing(here, server, capsys):
    first = await sw.agenerate("a lantern over a lake", duration=4)
    assert submits(server) == 1
    again = await sw.agenerate("a lantern over a lake", duration=4)
    assert submits(server) == 1  # 0 requests: nothing sent, nothing billed
    assert again.id == first.id and again.video_path == first.video_path
    said = capsys.readouterr().out
    assert f"Reused clip {first.id}" in said and "take=2" in said and "nothing was sent or billed" in said
    # the record output of the reused clip says so too
    assert "Reused clip" in record_bundle([again])["text/plain"]


async def test_another_take_and_reuse_false_each_submit_once(here, server):
    first = await sw.agenerate("a kite", duration=4)
    second = await sw.agenerate("a kite", duration=4, take=2)
    assert submits(server) == 2 and second.id != first.id and second.take == 2
    assert second.identity != first.identity
    assert (await sw.agenerate("a kite", duration=4, take=2)).id == second.id  # take 2 is reused too
    forced = await sw.agenerate("a kite", duration=4, reuse=False)
    assert submits(server) == 3 and forced.id not in (first.id, second.id)
    assert forced.identity == first.identity  # the same request, made again on purpose


async def test_a_running_job_is_attached_to_not_submitted_again(here, server):
    server.configure(latency=1.5)
    async with AsyncSoraClient(output_dir="sora-outputs", poll=FAST_POLL, budget=cost.Budget()) as other:
        running = await other.submit("a slow tide", duration=4)  # another kernel, still running
        clip = await sw.agenerate("a slow tide", duration=4)
    assert submits(server) == 1
    assert clip.id == running.id and clip.request_id == running.request_id
    assert clip.status == "COMPLETED" and Path(clip.video_path).exists()


async def test_the_same_request_while_its_submit_is_under_way_waits_for_it_and_attaches(here, server):
    """Calls of one request gathered at once: the first submits, the others find its row
    still SUBMITTING on this client and wait for its answer — never "unknown outcome"."""
    server.configure(chaos_delay=0.5, chaos_endpoints=("submit",))  # its answer takes a while
    async with AsyncSoraClient(output_dir="sora-outputs", poll=FAST_POLL, budget=cost.Budget()) as c:
        first = c.prepare("one lighthouse", duration=4)
        sending = asyncio.ensure_future(c.submit_prepared(first))
        for _ in range(200):  # until its write-ahead row is there (its answer is not yet)
            if c.ledger.get(first.id) is not None:
                break
            await asyncio.sleep(0.005)
        assert c.ledger.get(first.id).status == "SUBMITTING" and first.id in c._submitting
        same = [c.generate("one lighthouse", duration=4, reuse=True) for _ in range(5)]
        clips = await asyncio.gather(*same)
        await sending
    assert submits(server) == 1
    assert {clip.id for clip in clips} == {first.id}


async def test_an_earlier_attempt_of_unknown_outcome_blocks_a_blind_resubmit(here, server):
    async with AsyncSoraClient(output_dir="sora-outputs", poll=FAST_POLL, budget=cost.Budget()) as c:
        lost = c.prepare("maybe billed", duration=4)
        lost.submitted_at = lost.updated_at
        await c.mark_unknown(lost, "the answer to the submit was lost")
    with pytest.raises(sw.SubmitOutcomeUnknown) as caught:
        await sw.agenerate("maybe billed", duration=4)
    assert caught.value.ledger_id == lost.id and lost.id in str(caught.value)
    assert "reuse=False" in caught.value.hint
    assert submits(server) == 0
    await sw.agenerate("maybe billed", duration=4, reuse=False)
    assert submits(server) == 1


async def test_a_changed_or_missing_clip_is_made_again_and_says_so(here, server, capsys):
    first = await sw.agenerate("a heron", duration=4)
    path = Path(first.video_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    again = await sw.agenerate("a heron", duration=4)
    assert submits(server) == 2 and again.id != first.id
    assert "has changed since it was saved" in capsys.readouterr().out
    Path(again.video_path).unlink()
    third = await sw.agenerate("a heron", duration=4)
    assert submits(server) == 3 and third.id != again.id
    assert "is missing" in capsys.readouterr().out


async def test_a_batch_reuses_clips_made_by_single_calls(here, server):
    made = await sw.agenerate("a red fox", duration=4)
    clips = await sw.agenerate_many(["a red fox", "rain on a roof"], duration=4, show=False)
    assert submits(server) == 2  # only the new item
    assert clips[0].id == made.id and clips[1].status == "COMPLETED"


def run_notebook(path: Path, cwd: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    execute_notebook(nb, cwd=cwd, timeout=180)
    nbformat.write(nb, path)
    return json.loads(path.read_text())


def outputs_text(nb: dict) -> str:
    parts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") if isinstance(output.get("text"), str) else "")
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def saved_files(nb: dict) -> set[str]:
    found = set()
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            bundle = output.get("data", {}).get(MIMETYPE)
            for record in (bundle or {}).get("generations", []):
                if record.get("video_path"):
                    found.add(record["video_path"])
    return found


def test_a_notebook_run_twice_makes_no_submit_the_second_time(here, server):
    notebook = here / "twice.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sora_widget as sw\n%load_ext sora_widget"),
        nbformat.v4.new_code_cell("clip = sw.generate('the same lighthouse', duration=4)\nclip"),
        nbformat.v4.new_code_cell("%sora -d 4 -s landscape the same kite"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebook)
    first = run_notebook(notebook, here)
    assert submits(server) == 2
    second = run_notebook(notebook, here)  # "Restart kernel and run all"
    assert submits(server) == 2
    assert saved_files(second) == saved_files(first) and len(saved_files(first)) == 2
    assert outputs_text(second).count("Reused clip") >= 2


async def test_the_widgets_generate_is_always_a_new_take(here, server):
    from sora_widget.widget import SoraWidget

    made = await sw.agenerate("a paper boat", duration=4)
    w = SoraWidget(prompt="a paper boat", duration=4)
    first = w.start()
    await w.wait_for(first.id)
    second = w.start()
    await w.wait_for(second.id)
    w.close()
    assert submits(server) == 3  # the button never answers from the cache
    assert (made.take, first.take, second.take) == (1, 2, 3)
    assert len({made.identity, first.identity, second.identity}) == 3


def test_a_restarted_kernel_reuses_a_clip_made_on_the_embedded_emulator(tmp_path):
    """Each kernel starts its own embedded emulator on a port of its own; requests name it
    "emulator", so the same call after a restart is the clip already made (0 submits)."""
    import os
    import subprocess
    import sys

    code = (
        "import sora_widget as sw\n"
        "sw.connect(latency=0.2)\n"
        "clip = sw.generate('a heron in the reeds', duration=4)\n"
        "emu = sw.api.embedded_emulator()\n"
        "print('api', clip.api_host, 'id', clip.id, 'submits', emu.stats()['submits'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "SORA_WIDGET_OUTPUT"))}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (run.stdout.splitlines()[-1].split() for run in runs)
    assert first[1] == second[1] == "emulator"
    assert first[3] == second[3] and first[5] == "1" and second[5] == "0"  # the same clip, not sent again
    assert "Reused clip" in runs[1].stdout
