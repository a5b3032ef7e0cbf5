"""generate_many end to end against the emulator: order, failures, resume, display."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from pathlib import Path

import nbformat
import pytest

import sora_widget as sw
from sora_widget import api
from sora_widget.batch.items import batch_id_for, normalize_items, param_hash
from sora_widget.batch.plan import batch_info
from sora_widget.client import AsyncSoraClient, HistoryPolicy, PollPolicy, RetryPolicy
from sora_widget.records import MIMETYPE

from ..kernels import execute_notebook

FAKE_KEY = "sk-test-FAKE-batch-5b7e"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.02, max_delay=0.2, total_budget=30.0)


def make_client(emulator, tmp_path, **options) -> AsyncSoraClient:
    return AsyncSoraClient(
        api_key=FAKE_KEY,
        base_url=emulator.base_url,
        output_dir=tmp_path / "out",
        poll=FAST_POLL,
        retry=FAST_RETRY,
        **options,
    )


def assert_verified(clips, stats) -> None:
    """Every saved clip is the emulator's bytes for its request id."""
    for clip in clips:
        if clip.status != "COMPLETED":
            continue
        assert clip.sha256 == stats["jobs"][clip.request_id]["sha256"]
        assert hashlib.sha256(Path(clip.video_path).read_bytes()).hexdigest() == clip.sha256


async def test_a_batch_of_prompts_dicts_and_a_dataframe_comes_back_in_order_verified(emulator, tmp_path):
    emu = emulator(latency=0.3, workers=4)
    items = [
        "a red fox in snow",
        {"prompt": "rain on a tin roof", "size": "landscape"},
        {"prompt": "neon in a puddle", "duration": 8},
        "a kite over a beach",
        "a paper lantern",
    ]
    async with make_client(emu, tmp_path) as client:
        clips = await sw.agenerate_many(items, client=client, duration=4, concurrency=2, show=False)
    assert isinstance(clips, list) and len(clips) == 5
    assert [c.params.prompt for c in clips] == [
        "a red fox in snow",
        "rain on a tin roof",
        "neon in a puddle",
        "a kite over a beach",
        "a paper lantern",
    ]
    assert [(c.params.duration, c.params.size) for c in clips[:3]] == [
        (4, "720x1280"),
        (4, "1280x720"),
        (8, "720x1280"),
    ]
    assert all(c.status == "COMPLETED" for c in clips)
    assert [c.batch["index"] for c in clips] == [0, 1, 2, 3, 4]
    assert {c.batch["id"] for c in clips} == {clips.id}
    assert {c.batch["size"] for c in clips} == {5}
    assert len({c.batch["param_hash"] for c in clips}) == 5
    stats = emu.stats()
    assert stats["submits"] == 5
    assert_verified(clips, stats)
    assert clips.summary() == f"batch {clips.id}: 5 of 5 completed"

    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"prompt": ["a red fox in snow", "a paper lantern"], "duration": [4, 4], "tag": [1, 2]}
    )
    async with make_client(emu, tmp_path / "frame") as client:
        from_frame = await sw.agenerate_many(frame, client=client, show=False)
        same_as_list = await sw.agenerate_many(
            ["a red fox in snow", "a paper lantern"], duration=4, client=client, show=False
        )
    assert [c.status for c in from_frame] == ["COMPLETED", "COMPLETED"]
    # the same normalised items: the same batch, already done
    assert same_as_list.id == from_frame.id
    assert [c.id for c in same_as_list] == [c.id for c in from_frame]
    assert emu.stats()["submits"] == 7


async def test_a_failure_in_the_middle_stops_nothing_and_is_retried_only_when_asked(emulator, tmp_path):
    emu = emulator(latency=0.2, block_words=("forbidden",))
    items = ["one", "two forbidden", "three", "four"]
    async with make_client(emu, tmp_path) as client:
        clips = await sw.agenerate_many(items, client=client, duration=4, concurrency=1, show=False)
    assert [c.status for c in clips] == ["COMPLETED", "FAILED", "COMPLETED", "COMPLETED"]
    assert clips[1].error["type"] == "GenerationFailed" and "content policy" in clips[1].error["detail"]
    assert clips.summary().endswith("3 of 4 completed, 1 failed")
    assert emu.stats()["submits"] == 4

    emu.configure(block_words=())
    async with make_client(emu, tmp_path) as client:  # a new client: as after a restart
        again = await sw.agenerate_many(items, client=client, duration=4, show=False)
        assert [c.id for c in again] == [c.id for c in clips]  # nothing regenerated
        assert again[1].status == "FAILED"
        assert emu.stats()["submits"] == 4
        retried = await sw.agenerate_many(items, client=client, duration=4, show=False, retry_failed=True)
    assert [c.status for c in retried] == ["COMPLETED"] * 4
    assert retried[1].id != clips[1].id and [retried[i].id for i in (0, 2, 3)] == [
        clips[i].id for i in (0, 2, 3)
    ]
    stats = emu.stats()
    assert stats["submits"] == 5
    assert_verified(retried, stats)


async def test_after_a_restart_unfinished_items_are_waited_for_not_submitted_again(emulator, tmp_path):
    emu = emulator(latency=2.0, workers=4)
    items = ["slow one", "slow two", "slow three"]
    async with make_client(emu, tmp_path) as client:
        stopped = await sw.agenerate_many(items, client=client, duration=4, timeout=0.3, show=False)
    assert all(c.status in ("QUEUED", "PROCESSING") for c in stopped)
    assert all(c.error["type"] == "GenerationTimeout" for c in stopped)
    async with make_client(emu, tmp_path) as client:
        resumed = await sw.agenerate_many(items, client=client, duration=4, show=False)
    assert [c.status for c in resumed] == ["COMPLETED"] * 3
    assert [c.request_id for c in resumed] == [c.request_id for c in stopped]
    stats = emu.stats()
    assert stats["submits"] == 3
    assert_verified(resumed, stats)


async def test_lost_submits_are_never_paid_twice_and_resubmitted_once_the_history_says_so(emulator, tmp_path):
    emu = emulator(chaos_error_rate=1.0, chaos_endpoints=("submit",))  # 5xx: no job is made
    items = ["maybe billed", "maybe billed too", "never sent"]
    # while the request history cannot be read, a lost submit stays UNKNOWN and is left alone
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    async with make_client(emu, tmp_path, history_url=nowhere) as client:
        first = await sw.agenerate_many(items[:2], client=client, duration=4, show=False)
        assert [c.status for c in first] == ["UNKNOWN", "UNKNOWN"]
        assert "may be running and billed" in first.summary()
        assert first[0].error["type"] == "SubmitOutcomeUnknown"
        assert "could not be read" in first[0].error["detail"]

        # A process that died during a POST leaves "submitting" without a request id.
        params = normalize_items(items, duration=4, size="720x1280")
        hashes = [param_hash(p) for p in params]
        batch_id = batch_id_for(hashes, api_host=client.api_host)
        crashed = client.prepare(
            params[0].params.prompt, duration=4, batch=batch_info(batch_id, 0, hashes[0], len(hashes))
        )
        crashed.set_status("SUBMITTING")
        crashed.submitted_at = crashed.updated_at
        client.ledger.append("submitting", crashed)

        emu.configure(chaos_error_rate=0.0)
        again = await sw.agenerate_many(items[:2], client=client, duration=4, show=False, retry_failed=True)
        assert [c.id for c in again] == [c.id for c in first]
        three = await sw.agenerate_many(items, client=client, duration=4, show=False)
    # item 0: this batch's own cut-off submit; item 1: the same request as the first batch's
    # second item, whose outcome is unknown too (request identity): neither is sent again
    assert [c.status for c in three] == ["UNKNOWN", "UNKNOWN", "COMPLETED"]
    assert three[0].id == crashed.id and three[0].error["type"] == "SubmitOutcomeUnknown"
    assert three[1].id == first[1].id
    assert emu.stats()["requests"]["submit"] == 3  # the two that got a 5xx, then the third item

    # once the history can be read it says: neither reached the server — each is sent once
    sure = HistoryPolicy(settle_s=0.0, inline_patience_s=0.0)
    async with make_client(emu, tmp_path, history=sure) as client:
        four = await sw.agenerate_many(items, client=client, duration=4, show=False)
        five = await sw.agenerate_many(items, client=client, duration=4, show=False)
        settled = {r.id: r.status for r in client.ledger.records().values()}
    assert [c.status for c in four] == ["COMPLETED"] * 3
    assert four[0].id != crashed.id and four[1].id != first[1].id and four[2].id == three[2].id
    assert settled[crashed.id] == settled[first[1].id] == "NOT_SUBMITTED"
    assert [c.id for c in five] == [c.id for c in four]
    stats = emu.stats()
    assert stats["requests"]["submit"] == 5 and stats["submits"] == 3  # one job per item, ever
    assert_verified(four, stats)


async def test_bad_items_and_options_are_refused_before_any_request(emulator, tmp_path):
    emu = emulator()
    async with make_client(emu, tmp_path) as client:
        with pytest.raises(sw.InvalidParams, match=r"items\[2\]\.duration"):
            await sw.agenerate_many(["a", "b", {"prompt": "c", "duration": 7}], client=client, show=False)
        with pytest.raises(sw.InvalidParams, match="concurrency"):
            await sw.agenerate_many(["a"], client=client, concurrency=0, show=False)
    assert emu.stats()["requests"] == {}


def test_blocking_call_in_a_script_and_inside_a_running_loop_with_a_text_bar(
    emulator, tmp_path, monkeypatch, capsys
):
    emu = emulator(latency=0.2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    monkeypatch.setenv("SORA_WIDGET_OUTPUT_DIR", "out")
    monkeypatch.setattr(api, "_defaults", {})

    clips = sw.generate_many(["script one", "script two"], duration=4)
    assert [c.status for c in clips] == ["COMPLETED", "COMPLETED"]
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("[####################] 2/2 · 2 completed")

    async def notebook_like():
        ticks = []

        async def other_work():
            for _ in range(200):
                ticks.append(1)
                await asyncio.sleep(0.01)

        background = asyncio.get_running_loop().create_task(other_work())
        inner = sw.generate_many(["loop one"], duration=4, show=False)  # blocking, like in a cell
        background.cancel()
        return inner, len(ticks)

    inner, progressed = asyncio.run(notebook_like())
    assert inner[0].status == "COMPLETED" and progressed > 0
    assert capsys.readouterr().err == ""  # show=False: silent


def test_a_headless_kernel_leaves_the_final_records_in_the_cell(emulator, tmp_path, monkeypatch):
    emu = emulator(latency=0.3, block_words=("forbidden",))
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    monkeypatch.setenv("SORA_WIDGET_OUTPUT_DIR", "sora-outputs")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import sora_widget as sw\n"
            "clips = sw.generate_many(['a heron', 'a forbidden heron', 'a crane'], duration=4)"
        ),
        nbformat.v4.new_code_cell("print(clips.summary())"),
    ]
    execute_notebook(nb, cwd=tmp_path)
    outputs = nb.cells[0].outputs
    records = [r for o in outputs for r in (o.get("data", {}).get(MIMETYPE) or {}).get("generations", [])]
    assert [(r["params"]["prompt"], r["status"]) for r in records] == [
        ("a heron", "COMPLETED"),
        ("a forbidden heron", "FAILED"),
        ("a crane", "COMPLETED"),
    ]
    assert all(r["batch"]["size"] == 3 for r in records)
    widget = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget) == 1 and widget[0]["data"]["text/plain"] == "SoraWidget(mode='batch', items=3)"
    assert "2 of 3 completed, 1 failed" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert FAKE_KEY not in json.dumps(nb)


async def test_two_concurrent_runs_of_one_batch_submit_each_item_once(emulator, tmp_path):
    emu = emulator(latency=0.5)
    items = ["a heron at dawn", "rain on a tin roof", "a red kite"]
    async with make_client(emu, tmp_path) as one, make_client(emu, tmp_path) as other:
        left, right = await asyncio.gather(
            sw.agenerate_many(items, client=one, duration=4, show=False),
            sw.agenerate_many(items, client=other, duration=4, show=False),
        )
    assert [c.status for c in left] == [c.status for c in right] == ["COMPLETED"] * 3, [
        (c.status, c.error) for c in left + right
    ]
    assert [c.request_id for c in left] == [c.request_id for c in right]
    assert emu.stats()["requests"]["submit"] == 3  # not 6
    assert_verified(left, emu.stats())


def test_two_processes_running_one_batch_submit_each_item_once(emulator, tmp_path):
    import os
    import subprocess
    import sys
    import textwrap

    emu = emulator(latency=1.0)
    script = textwrap.dedent(
        """
        import json, sys
        import sora_widget as sw
        clips = sw.generate_many(json.loads(sys.argv[1]), duration=4, show=False)
        print(json.dumps([[c.status, c.request_id, c.error] for c in clips]))
        """
    )
    items = ["a fox in snow", "waves on rocks", "a lantern", "a paper boat"]
    env = {
        **os.environ,
        "SEGMIND_API_KEY": FAKE_KEY,
        "SEGMIND_BASE_URL": emu.base_url,
        "SORA_WIDGET_OUTPUT_DIR": str(tmp_path / "out"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(items)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outcomes = [json.loads(proc.communicate(timeout=240)[0].splitlines()[-1]) for proc in procs]
    assert outcomes[0] == outcomes[1], outcomes
    assert [status for status, _, _ in outcomes[0]] == ["COMPLETED"] * 4
    assert emu.stats()["requests"]["submit"] == 4  # each item exactly once
