"""The client against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path

import httpx
import pytest

import sora_widget as sw
from sora_widget.client import AsyncSoraClient, PollPolicy, RetryPolicy
from sora_widget.ledger import Ledger
from sora_widget.records import parse_time

FAKE_KEY = "sk-test-FAKE-7f3a9c2e51b4"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.02, max_delay=0.2, total_budget=30.0)


@pytest.fixture
def emu(emulator):
    """The shared emulator launcher (renders cached for the session; see conftest.py)."""
    return emulator


def make_client(emulator, tmp_path, **kwargs) -> AsyncSoraClient:
    kwargs.setdefault("poll", FAST_POLL)
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("api_key", FAKE_KEY)
    return AsyncSoraClient(base_url=emulator.base_url + "/v1", output_dir=tmp_path / "out", **kwargs)


def ledger_events(tmp_path) -> list[dict]:
    return list(Ledger.in_dir(tmp_path / "out").events())


async def test_generate_saves_a_verified_clip_and_records_everything(emu, tmp_path):
    emulator = emu()
    async with make_client(emulator, tmp_path) as client:
        clip = await client.generate("a paper boat on a rainy street", duration=4, size="landscape")
    assert clip.status == "COMPLETED"
    assert clip.request_id
    path = Path(clip.video_path)
    assert path.exists() and path.name.endswith(f"-a-paper-boat-on-a-rainy-street-{clip.id[:8]}.mp4")
    data = path.read_bytes()
    assert clip.sha256 == hashlib.sha256(data).hexdigest()
    assert clip.bytes == len(data)
    assert clip.video["width"] == 1280 and clip.video["height"] == 720
    assert clip.video["duration_s"] == pytest.approx(4.0, abs=0.1)
    assert clip.video["codec"] == "h264"
    assert clip.synthetic is True
    served = emulator.stats()["jobs"][clip.request_id]
    assert served["sha256"] == clip.sha256
    events = [e["event"] for e in ledger_events(tmp_path)]
    assert events[:2] == ["submitting", "submitted"]
    # the charge Segmind's request history names comes after the clip is saved
    assert events[-2:] == ["completed", "cost"] and clip.cost["source"] == "segmind"
    assert next(h["status"] for h in clip.status_history) == "SUBMITTING"
    assert clip.status_history[-1]["status"] == "COMPLETED"
    assert clip.latency_s is not None and clip.latency_s > 0
    # what the schedule learns: the moment the job ended lies between the last two checks
    assert 0 < clip.timings["finish_estimate_s"] <= clip.timings["latency_s"]


async def test_a_clip_is_named_for_its_submit_so_a_second_download_lands_on_the_same_file(emu, tmp_path):
    # a job of over a second: downloaded in a later second than it was submitted in
    emulator = emu(latency=1.2)
    async with make_client(emulator, tmp_path) as client:
        clip = await client.generate("a lighthouse in weather", duration=4)
        first = Path(clip.video_path)
        again = await client.download(clip)  # as a restarted process downloads it again
    submitted = parse_time(clip.submitted_at).astimezone()
    assert first.name.startswith(submitted.strftime("%Y%m%d-%H%M%S-")), (first.name, clip.submitted_at)
    assert Path(again.video_path) == first
    assert [p.name for p in first.parent.glob("*.mp4")] == [first.name]  # no second copy


async def test_invalid_params_and_missing_key_send_nothing(emu, tmp_path, monkeypatch):
    emulator = emu()
    monkeypatch.delenv("SEGMIND_API_KEY", raising=False)
    async with make_client(emulator, tmp_path) as client:
        with pytest.raises(sw.InvalidParams):
            await client.generate("x", duration=5)
        with pytest.raises(sw.InvalidParams):
            await client.generate("", duration=4)
    async with make_client(emulator, tmp_path, api_key="") as keyless:
        with pytest.raises(sw.AuthenticationError, match="SEGMIND_API_KEY"):
            await keyless.generate("a cat", duration=4)
    assert sum(emulator.stats()["requests"].values()) == 0


async def test_wrong_key_is_an_authentication_error(emu, tmp_path):
    emulator = emu(api_keys=("the-right-key",))
    async with make_client(emulator, tmp_path, api_key="the-wrong-key") as client:
        with pytest.raises(sw.AuthenticationError) as caught:
            await client.generate("a cat", duration=4)
    assert caught.value.http_status == 401
    assert "SEGMIND_API_KEY" in str(caught.value)
    assert "the-wrong-key" not in str(caught.value) + repr(caught.value)


async def test_insufficient_credits(emu, tmp_path):
    emulator = emu(credits=4)
    async with make_client(emulator, tmp_path) as client:
        first = await client.generate("one", duration=4)
        assert first.status == "COMPLETED"
        with pytest.raises(sw.InsufficientCredits) as caught:
            await client.generate("two", duration=4)
    assert caught.value.http_status == 406
    assert caught.value.record.status == "FAILED"
    assert ledger_events(tmp_path)[-1]["event"] == "rejected"


async def test_blocked_prompt_fails_with_the_servers_reason(emu, tmp_path):
    emulator = emu(block_words=("forbidden",))
    async with make_client(emulator, tmp_path) as client:
        with pytest.raises(sw.GenerationFailed) as caught:
            await client.generate("a forbidden scene", duration=4)
    error = caught.value
    assert error.request_id
    assert "content policy" in error.detail.lower()
    assert error.record.status == "FAILED"
    assert error.record.error["detail"] == error.detail
    assert ledger_events(tmp_path)[-1]["event"] == "failed"


async def test_rate_limited_submits_are_retried_after_retry_after(emu, tmp_path):
    emulator = emu(rate_limit=2.0)
    async with make_client(emulator, tmp_path) as client:
        clips = await asyncio.gather(*(client.generate(f"clip {i}", duration=4) for i in range(4)))
    assert all(c.status == "COMPLETED" for c in clips)
    stats = emulator.stats()
    assert stats["submits"] == 4  # every 429 was a refusal, so retrying billed nothing twice
    assert stats["requests"].get("rate_limited", 0) >= 1


async def test_chaos_on_reads_loses_nothing_and_never_resubmits(emu, tmp_path):
    emulator = emu(
        latency=0.3,
        workers=16,
        chaos_error_rate=0.2,
        chaos_drop_rate=0.05,
        chaos_endpoints=("status", "result", "output"),
        seed=11,
    )
    async with make_client(emulator, tmp_path) as client:
        clips = await asyncio.gather(
            *(client.generate(f"chaos clip {i % 5}", duration=4) for i in range(50)), return_exceptions=True
        )
    failures = [c for c in clips if isinstance(c, BaseException)]
    assert not failures, failures[:3]
    stats = emulator.stats()
    assert stats["submits"] == 50
    ledger_ids = {e["request_id"] for e in ledger_events(tmp_path)}
    for clip in clips:
        assert clip.request_id in ledger_ids
        assert clip.sha256 == stats["jobs"][clip.request_id]["sha256"]
        assert hashlib.sha256(Path(clip.video_path).read_bytes()).hexdigest() == clip.sha256
    assert stats["chaos"]["errors"] > 0 and stats["chaos"]["drops"] > 0


# a submit whose answer is lost: tests/integration/test_request_history.py


async def test_the_key_goes_to_the_api_only(emu, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    emulator = emu(separate_output_host=True)
    assert emulator.output_base_url != emulator.base_url
    async with make_client(emulator, tmp_path) as client:
        clip = await client.generate("key hygiene", duration=4)
        with pytest.raises(sw.GenerationFailed) as failed:
            emulator.configure(block_words=("nope",))
            await client.generate("nope", duration=4)
    stats = emulator.stats()
    assert stats["requests"]["output"] >= 1
    assert stats["outputs_with_api_key"] == 0
    texts = [
        # the database and its write-ahead log, byte for byte
        "".join(p.read_bytes().decode("latin-1") for p in (tmp_path / "out").glob("ledger.sqlite*")),
        json.dumps(clip.to_dict()),
        str(failed.value),
        repr(failed.value),
        json.dumps(failed.value.to_dict()),
        caplog.text,
        repr(client),
    ]
    for text in texts:
        assert FAKE_KEY not in text


async def test_timeout_leaves_a_resumable_job(emu, tmp_path):
    emulator = emu(latency=1.5)
    async with make_client(emulator, tmp_path) as client:
        with pytest.raises(sw.GenerationTimeout) as caught:
            await client.generate("slow one", duration=4, timeout=0.3)
        request_id = caught.value.request_id
        assert f"sw.resume({request_id!r})" in str(caught.value)
        assert [r.request_id for r in client.ledger.pending()] == [request_id]
        clip = await client.resume(request_id)
    assert clip.status == "COMPLETED" and Path(clip.video_path).exists()
    assert emulator.stats()["submits"] == 1
    assert client.ledger.pending() == []


async def test_an_expired_result_is_reported_as_such(emu, tmp_path):
    emulator = emu(latency=0.1, retention=0.3)
    async with make_client(emulator, tmp_path) as client:
        record = await client.submit("gone soon", duration=4)
        for _ in range(200):  # until the emulator has finished the job, then past its retention
            if emulator.stats()["jobs"][record.request_id].get("completed_at"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        with pytest.raises(sw.RequestExpired) as caught:
            await client.wait(record)
    assert caught.value.http_status == 404
    assert caught.value.record.status == "EXPIRED"
    assert "one hour" in str(caught.value)


async def test_local_reference_image_is_uploaded(emu, tmp_path):
    emulator = emu()
    image = tmp_path / "ref.png"
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 30, 30)).save(image)
    async with make_client(emulator, tmp_path) as client:
        clip = await client.generate("with a reference", duration=4, input_reference=image)
    assert clip.params.input_reference.startswith(emulator.base_url)
    assert clip.reference_source.endswith("ref.png")
    assert emulator.stats()["requests"]["upload"] == 1


async def test_broken_downloads_resume_with_range(emu, tmp_path):
    emulator = emu(chaos_drop_rate=0.5, chaos_endpoints=("output",), seed=3)
    async with make_client(emulator, tmp_path) as client:
        clip = await client.generate("a long transfer", duration=8, size="portrait")
    assert clip.sha256 == emulator.stats()["jobs"][clip.request_id]["sha256"]
    assert emulator.stats()["requests"]["output"] >= 2


def test_generate_works_in_a_script_and_inside_a_running_loop(emu, tmp_path):
    emulator = emu()
    options = {
        "api_key": FAKE_KEY,
        "base_url": emulator.base_url,
        "output_dir": tmp_path / "out",
        "poll": FAST_POLL,
    }
    clip = sw.generate("from a script", duration=4, **options)
    assert clip.status == "COMPLETED"

    async def notebook_like():
        ticks = []

        async def other_work():
            for _ in range(100):
                ticks.append(1)
                await asyncio.sleep(0.01)

        background = asyncio.get_running_loop().create_task(other_work())
        inner = sw.generate("from inside a loop", duration=4, **options)  # blocking, like in a cell
        progressed = len(ticks)
        background.cancel()
        return inner, progressed

    inner, progressed = asyncio.run(notebook_like())
    assert inner.status == "COMPLETED"
    assert progressed > 0  # the other task kept running while generate() blocked


async def test_api_base_url_forms_and_unknown_options(emu, tmp_path):
    emulator = emu()
    for base in (emulator.base_url, emulator.base_url + "/v1", emulator.base_url + "/v2/"):
        async with AsyncSoraClient(FAKE_KEY, base, tmp_path / "o", poll=FAST_POLL) as client:
            assert (await client.submit("forms", duration=4)).request_id
    with pytest.raises(TypeError, match="unknown option"):
        await sw.agenerate("x", duration=4, colour="red")


async def test_output_on_another_host_gets_no_key_even_through_redirects(emu, tmp_path):
    emulator = emu(separate_output_host=True)
    async with make_client(emulator, tmp_path) as client:
        record = await client.submit("redirect", duration=4)
        await client.wait(record)
    # the output host is a different origin: the client must not have attached the key
    assert client.requester.headers_for(emulator.output_base_url + "/outputs/x.mp4") == {}
    assert client.requester.headers_for(emulator.base_url + "/v2/requests/x") == {"x-api-key": FAKE_KEY}


async def test_status_and_result_of_an_unknown_id(emu, tmp_path):
    emulator = emu()
    async with make_client(emulator, tmp_path) as client:
        with pytest.raises(sw.RequestExpired):
            await client.status("no-such-request")
        body = await client.result((await client.submit("r", duration=4)).request_id)
    assert body["status"] in ("QUEUED", "PROCESSING", "COMPLETED")


def test_emulator_http_client_smoke(emu):
    emulator = emu()
    response = httpx.get(emulator.base_url + "/_emulator/stats", timeout=5)
    assert response.status_code == 200
