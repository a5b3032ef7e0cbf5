"""Asking Segmind what happened, against the emulator over 127.0.0.1: a submit whose answer
is lost is found in the account's request history (and becomes the job) or is certainly
absent (NOT_SUBMITTED, and submitted again once when asked again); the real charge lands in
the record and the spend; a result past the hour is fetched from its `generation_url`; and
`sw.history()` lists requests made elsewhere."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

import sora_widget as sw
from sora_widget import api, cost
from sora_widget.client import AsyncSoraClient, HistoryPolicy, PollPolicy, RetryPolicy
from sora_widget.ledger import Ledger
from sora_widget.records import format_time

KEY = "sk-test-FAKE-history-51c0"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.1, total_budget=5.0)
#: the history answers at once here: a request it does not list is certainly absent
SURE_AT_ONCE = HistoryPolicy(settle_s=0.0, inline_patience_s=0.0)


def make_client(emu, tmp_path, **options) -> AsyncSoraClient:
    options.setdefault("poll", FAST_POLL)
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("history", SURE_AT_ONCE)
    options.setdefault("budget", cost.Budget())
    return AsyncSoraClient(api_key=KEY, base_url=emu.base_url, output_dir=tmp_path / "out", **options)


def events(tmp_path, record) -> list[str]:
    return [e["event"] for e in Ledger.in_dir(tmp_path / "out").events(record.id)]


async def test_a_submit_whose_answer_was_dropped_becomes_the_running_job(emulator, tmp_path):
    # the emulator takes the job, then cuts its answer off halfway: a real UNKNOWN
    emu = emulator(chaos_drop_rate=1.0, chaos_endpoints=("submit",), chaos_drop_after_accept=True)
    async with make_client(emu, tmp_path) as client:
        clip = await client.generate("a heron lifting off a pond", duration=4)
    stats = emu.stats()
    assert stats["chaos"]["drops"] == 1 and stats["requests"]["submit"] == 1  # no second POST
    assert list(stats["jobs"]) == [clip.request_id]
    assert clip.status == "COMPLETED" and Path(clip.video_path).exists()
    assert clip.sha256 == stats["jobs"][clip.request_id]["sha256"]
    said = events(tmp_path, clip)
    assert said[:4] == ["submitting", "unknown", "found in history", "status"]
    assert said[-2:] == ["completed", "cost"]


async def test_a_submit_refused_before_the_server_took_it_is_not_submitted_and_a_rerun_submits_it_once(
    emulator, tmp_path
):
    emu = emulator(chaos_error_rate=1.0, chaos_endpoints=("submit",))  # a 5xx before any job exists
    budget = cost.Budget()
    async with make_client(emu, tmp_path, budget=budget) as client:
        with pytest.raises(sw.ServerError) as refused:
            await client.generate("a kettle on a stove", duration=4)
        lost = refused.value.record
        assert lost.status == "NOT_SUBMITTED" and lost.request_id is None
        assert "nothing was billed" in str(refused.value) and "again" in refused.value.hint
        assert events(tmp_path, lost) == ["submitting", "unknown", "not submitted"]
        assert budget.spend().jobs == 0  # nothing was billed, nothing counts
        assert client.ledger.pending() == []  # nothing to collect

        emu.configure(chaos_error_rate=0.0)
        again = await client.generate("a kettle on a stove", duration=4, reuse=True)
        twice = await client.generate("a kettle on a stove", duration=4, reuse=True)
    stats = emu.stats()
    assert again.status == "COMPLETED" and again.id != lost.id and twice.id == again.id
    assert stats["submits"] == 1 and stats["requests"]["submit"] == 2  # the refused one, then one


async def test_a_lost_submit_the_history_cannot_settle_stays_unknown_and_is_never_resubmitted(
    emulator, tmp_path
):
    emu = emulator(chaos_error_rate=1.0, chaos_endpoints=("submit",))
    too_soon = HistoryPolicy(settle_s=600.0, inline_patience_s=0.0)  # too recent to be sure
    async with make_client(emu, tmp_path, history=too_soon) as client:
        with pytest.raises(sw.SubmitOutcomeUnknown) as caught:
            await client.generate("a clock tower at noon", duration=4)
        assert "may not list a request this recent" in caught.value.detail
        emu.configure(chaos_error_rate=0.0)
        with pytest.raises(sw.SubmitOutcomeUnknown):
            await client.generate("a clock tower at noon", duration=4, reuse=True)
    unreachable = f"http://127.0.0.1:{_closed_port()}"
    async with make_client(emu, tmp_path, history_url=unreachable) as client:
        (record,) = await client.resolve_lost_submits()
    assert record.status == "UNKNOWN" and "could not be read" in record.error["detail"]
    assert emu.stats()["requests"]["submit"] == 1
    assert events(tmp_path, record)[-1] == "history unresolved"


async def test_the_real_charge_lands_in_the_record_and_the_spend(emulator, tmp_path):
    emu = emulator(credits=50)
    budget = cost.Budget()
    async with make_client(emu, tmp_path, budget=budget) as client:
        clip = await client.generate("a tram in the rain", duration=8)
    row = emu.stats()["jobs"][clip.request_id]
    assert clip.cost == {"usd": row["cost_usd"], "source": "segmind"} and clip.cost["usd"] == pytest.approx(
        0.8
    )
    spend = budget.spend()
    assert spend.usd == pytest.approx(0.8) and spend.jobs == 1
    assert spend.remaining_credits == 42  # x-remaining-credits: 50 less 8 s of video
    assert "42 credits left" in str(spend)
    saved = Ledger.in_dir(tmp_path / "out").get(clip.id)
    assert saved is not None and saved.cost == clip.cost


async def test_an_expired_request_is_fetched_from_its_generation_url(emulator, tmp_path):
    emu = emulator(latency=0.05, retention=0.3, output_retention=60.0)
    async with make_client(emu, tmp_path) as client:
        submitted = await client.submit("a lantern over a lake", duration=4)
    await _until_expired(emu, submitted.request_id)
    # another kernel, later: the API has forgotten the request, its history has not
    async with make_client(emu, tmp_path) as later:
        clip = await later.resume(submitted.request_id)
    job = emu.stats()["jobs"][submitted.request_id]
    assert job["expired"] is True
    assert isinstance(clip, sw.Generation) and clip.status == "COMPLETED" and clip.id == submitted.id
    data = Path(clip.video_path).read_bytes()
    assert clip.sha256 == hashlib.sha256(data).hexdigest() == job["sha256"] and clip.bytes == len(data)
    assert clip.cost["source"] == "segmind"
    assert "found in history" in events(tmp_path, clip)

    # without an output past the hour: EXPIRED, as before
    gone = emulator(latency=0.05, retention=0.3)
    async with make_client(gone, tmp_path / "gone") as client:
        lost = await client.submit("a lantern over a lake", duration=4)
    await _until_expired(gone, lost.request_id)
    async with make_client(gone, tmp_path / "gone") as later:
        with pytest.raises(sw.RequestExpired):
            await later.resume(lost.request_id)


async def test_history_lists_requests_made_by_another_process_and_imports_one(
    emulator, tmp_path, monkeypatch
):
    emu = emulator(latency=0.05)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.delenv("SEGMIND_HISTORY_URL", raising=False)
    monkeypatch.setattr(api, "_defaults", {"poll": FAST_POLL, "history": SURE_AT_ONCE})
    monkeypatch.setattr(cost, "_session", cost.Budget())
    ours = await sw.agenerate("a fox in snow", duration=4)
    # another process — a script, the web UI, another machine — with the same key
    body = {"prompt": "a kite over dunes \x1b[31m", "duration": 4, "size": "1280x720"}
    script = (
        "import httpx, json, sys\n"
        f"r = httpx.post({emu.base_url + '/v2/sora-2'!r}, json={body!r}, headers={{'x-api-key': {KEY!r}}})\n"
        "print(r.json()['request_id'])\n"
    )
    theirs = (await _run([sys.executable, "-c", script])).strip()

    listed = await api.ahistory(days=1)
    by_id = {entry.request_id: entry for entry in listed}
    assert set(by_id) == {ours.request_id, theirs} and listed.complete
    assert by_id[ours.request_id].generation_id == ours.id and by_id[ours.request_id].in_ledger
    assert by_id[theirs].generation_id is None and by_id[theirs].prompt == body["prompt"]
    shown = repr(listed)
    assert f"ledger {ours.id}" in shown and "\x1b" not in shown and "\\x1b[31m" in shown
    assert [e.request_id for e in await api.ahistory(days=1, model="pro")] == []

    imported = await api.aimport_request(by_id[theirs])
    assert imported.request_id == theirs and imported.params.prompt == body["prompt"]
    assert imported.params.size == "1280x720" and imported.model == "sora-2"
    again = await api.aimport_request(theirs)  # the ledger's record, not a second one
    assert again.id == imported.id
    clip = await api.aresume(theirs)
    assert isinstance(clip, sw.Generation) and clip.id == imported.id and clip.status == "COMPLETED"

    # the command line prints the same, safe to show on a terminal
    env = {**os.environ, "SEGMIND_API_KEY": KEY, "SEGMIND_BASE_URL": emu.base_url}
    printed = await _run([sys.executable, "-m", "sora_widget.cli", "history", "--days", "1"], env=env)
    assert theirs[:30] in printed and f"ledger {imported.id}" in printed and "\x1b" not in printed


async def test_pending_and_resume_settle_lost_submits(emulator, tmp_path, monkeypatch):
    emu = emulator(latency=0.05)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(api, "_defaults", {"poll": FAST_POLL})  # the default HistoryPolicy
    monkeypatch.setattr(cost, "_session", cost.Budget())
    async with AsyncSoraClient(output_dir="sora-outputs", poll=FAST_POLL) as c:
        # a submit the server took, whose answer never came back (the POST made here by hand)
        taken = c.prepare("a lighthouse in fog", duration=4)
        taken.submitted_at = format_time(datetime.now(timezone.utc))
        await c.mark_unknown(taken, "the answer to the submit was lost")
        async with httpx.AsyncClient(headers={"x-api-key": KEY}) as http:
            made = (await http.post(f"{emu.base_url}/v2/sora-2", json=taken.params.payload())).json()
        # and one, five minutes ago, the server never saw
        never = c.prepare("a paper boat", duration=4)
        never.submitted_at = format_time(datetime.now(timezone.utc) - timedelta(minutes=5))
        await c.mark_unknown(never, "the answer to the submit was lost")

    listed = await asyncio.to_thread(sw.pending)
    assert [(r.id, r.request_id) for r in listed] == [(taken.id, made["request_id"])]
    book = Ledger.in_dir(tmp_path / "sora-outputs")
    assert book.get(never.id).status == "NOT_SUBMITTED"
    finished = await sw.aresume()
    assert [(r.id, r.status) for r in finished] == [(taken.id, "COMPLETED")]
    assert emu.stats()["submits"] == 1


async def _until_expired(emu, request_id: str) -> None:
    for _ in range(200):
        job = emu.stats()["jobs"].get(request_id, {})
        if job.get("expired"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{request_id} never expired: {json.dumps(job)}")


async def _run(command: list[str], **options) -> str:
    """A command's output, run off the loop (the emulator's answers come on it)."""
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, check=True, **options
    )
    return done.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
