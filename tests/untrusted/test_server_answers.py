"""Slow or huge API answers (issue 28, point 8): a read ends by its job's deadline, not only
by httpx's per-read timeout; an answer is read up to a bound, never buffered whole; a
server's words reach records, the ledger and the view cut to `MAX_DETAIL_CHARS`; a body
nested too deeply to parse is a broken answer, not a bug of ours. The hostile servers are
httpx.MockTransport answers (no network) and, for the slow one, the emulator on 127.0.0.1."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import sora_widget as sw
from sora_widget.client import AsyncSoraClient, PollPolicy, RetryPolicy
from sora_widget.client._errors import MAX_DETAIL_CHARS
from sora_widget.client._requests import MAX_ANSWER_BYTES
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

from .conftest import FAKE_KEY

API = "https://api.test"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FEW_RETRIES = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, total_budget=5.0)


def client(answer, tmp_path, **options) -> AsyncSoraClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return AsyncSoraClient(
        api_key=FAKE_KEY, base_url=API, output_dir=tmp_path / "out", http=http, retry=FEW_RETRIES, **options
    )


def queued() -> Generation:
    record = Generation(id="g1", params=GenerationParams("a cat", 4), request_id="req-1")
    record.set_status("QUEUED")
    return record


async def test_an_answer_larger_than_the_bound_is_refused_not_buffered(tmp_path):
    huge = b'{"status": "PROCESSING", "pad": "' + b" " * (MAX_ANSWER_BYTES + 10) + b'"}'
    async with client(lambda request: httpx.Response(200, content=huge), tmp_path) as c:
        with pytest.raises(sw.NetworkError, match="RemoteProtocolError"):
            await c.status(queued())


async def test_a_servers_long_failure_reason_is_cut_before_it_reaches_the_record_and_the_ledger(tmp_path):
    reason = "blocked: " + "x" * 100_000

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"status": "FAILED", "error": reason, "request_id": "req-1"})

    async with client(answer, tmp_path, poll=FAST_POLL) as c:
        record = queued()
        with pytest.raises(sw.GenerationFailed) as failed:
            await c.wait(record, timeout=10)
        saved = c.ledger.get(record.id)
    for detail in (failed.value.detail, record.error["detail"], saved.error["detail"]):
        assert detail.startswith("blocked: xxx") and len(detail) == MAX_DETAIL_CHARS
    assert len(str(failed.value)) < 3 * MAX_DETAIL_CHARS


async def test_an_error_body_too_long_to_show_is_cut_too(tmp_path):
    async with client(lambda request: httpx.Response(400, text="no " * 50_000), tmp_path) as c:
        with pytest.raises(sw.BadRequest) as refused:
            await c.submit("a cat", duration=4)
    assert len(refused.value.detail) == MAX_DETAIL_CHARS


async def test_a_body_nested_too_deeply_to_read_is_a_broken_answer_not_a_bug(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    async with client(lambda request: httpx.Response(200, text=deep), tmp_path) as c:
        with pytest.raises(sw.UnexpectedResponse):
            await c.status(queued())


async def test_a_slow_status_answer_ends_with_the_jobs_timeout(emulator, tmp_path):
    """The emulator holds every status answer 30 s (httpx's read timeout would wait them
    out); `timeout=2` stops waiting within moments of 2 s, as a timeout, resumable."""
    server = emulator(latency=0.2, chaos_delay=30.0, chaos_endpoints=("status",))
    async with AsyncSoraClient(FAKE_KEY, server.base_url, tmp_path / "out", poll=FAST_POLL) as c:
        record = await c.submit("a slow answer", duration=4)
        with pytest.raises(sw.GenerationTimeout) as stopped:
            await asyncio.wait_for(c.wait(record, timeout=2), timeout=15)
    assert stopped.value.request_id == record.request_id
    assert "after waiting 2 s" in str(stopped.value)
