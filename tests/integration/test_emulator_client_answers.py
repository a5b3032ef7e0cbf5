"""The client reads what the API sends, over real HTTP to the emulator: the server's own
timings and cost on the record, a FAILED job in either form it may take (422, or 200
with an `error` key), and metrics keys it does not know kept rather than refused."""

from __future__ import annotations

import asyncio

import pytest

import sora_widget as sw
from sora_widget.client import AsyncSoraClient, PollPolicy, RetryPolicy
from sora_widget.records import Generation

FAKE_KEY = "sk-test-FAKE-answers-4d1e"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.02, max_delay=0.2, total_budget=30.0)


def make_client(emu, tmp_path) -> AsyncSoraClient:
    return AsyncSoraClient(
        api_key=FAKE_KEY,
        base_url=emu.base_url + "/v1",
        output_dir=tmp_path / "out",
        poll=FAST_POLL,
        retry=FAST_RETRY,
    )


async def test_a_completed_record_carries_the_servers_timings(emulator, tmp_path):
    emu = emulator()
    async with make_client(emu, tmp_path) as client:
        clip = await client.generate("a paper boat on a rainy street", duration=4, size="landscape")
        figures = (await client.result(clip))["metrics"]
    assert clip.status == "COMPLETED"
    assert clip.timings["inference_s"] == figures["inference_time"] >= 0.2
    assert clip.timings["server_queue_s"] == figures["queue_time"]
    # and the record, saved and read back, keeps them
    assert Generation.from_dict(clip.to_dict()).timings["inference_s"] == figures["inference_time"]


async def test_the_apis_cost_and_raw_metrics_reach_the_record(emulator, tmp_path):
    emu = emulator()
    async with make_client(emu, tmp_path) as client:
        submitted = await client.submit("a heron in fog", duration=4)
        record = submitted
        record.cost = {"usd": 0.0, "source": "estimate"}
        await client.wait(record)
    assert record.status == "COMPLETED" and record.video_path
    assert record.metrics["cost"] == 0.4  # 4 s of sora-2, as the API said
    # and then as the account's request history says it was charged
    assert record.cost == {"usd": 0.4, "source": "segmind"}
    # keys of the emulator's own, unknown to Segmind's API, are kept rather than refused
    assert record.metrics["synthetic"] is True and record.metrics["render_time"] >= 0
    assert record.metrics["inference_time"] == record.timings["inference_s"]


@pytest.mark.parametrize("failed_status", [422, 200])
async def test_a_failed_job_is_generation_failed_in_either_form(emulator, tmp_path, failed_status):
    emu = emulator(block_words=("forbidden",), failed_status=failed_status)
    async with make_client(emu, tmp_path) as client:
        with pytest.raises(sw.GenerationFailed) as caught:
            await client.generate("a forbidden scene", duration=4)
        record = caught.value.record
        saved = client.ledger.get(record.id)
    assert emu.stats()["answers"]["status"][str(failed_status)] >= 1
    assert "content policy" in caught.value.detail.lower()
    assert caught.value.request_id == record.request_id
    assert record.status == "FAILED" and "content policy" in record.error["detail"].lower()
    assert "inference_s" in record.timings  # a FAILED body's metrics are read too
    assert saved is not None and saved.status == "FAILED"


@pytest.mark.parametrize("failed_status", [422, 200])
async def test_downloading_a_failed_job_says_it_failed(emulator, tmp_path, failed_status):
    emu = emulator(block_words=("forbidden",), failed_status=failed_status)
    async with make_client(emu, tmp_path) as client:
        record = await client.submit("a forbidden scene", duration=4)
        for _ in range(600):  # the job fails after its latency (0.2 s)
            if emu.stats()["jobs"][record.request_id]["status"] == "FAILED":
                break
            await asyncio.sleep(0.05)
        # straight to download, as resuming a job that is already over does
        with pytest.raises(sw.GenerationFailed) as caught:
            await client.download(record)
    assert "content policy" in caught.value.detail.lower()
    assert record.status == "FAILED" and record.video_path is None
    assert "inference_s" in record.timings
    assert emu.stats()["answers"]["result"] == {str(failed_status): 1}
