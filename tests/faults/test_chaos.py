"""A batch through 429s, 5xx answers, cut connections and stalls, on every endpoint —
the submit included — at two rates each. When the faults stop, the same call finishes
every item that can be finished: a submit whose answer was lost is settled by the account's
request history (the job it found, or — never taken — submitted once more), and no item is
ever paid for twice."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

import sora_widget as sw

from .conftest import FAKE_KEY, PROMPTS, audit, make_client

CALM = {"rate_limit": None, "chaos_error_rate": 0.0, "chaos_drop_rate": 0.0, "chaos_delay": 0.0}

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # (name, emulator faults, client options)
    ("429 at 4 req/s", {"rate_limit": 4.0}, {}),
    ("429 at 12 req/s", {"rate_limit": 12.0}, {}),
    ("5xx 10%", {"chaos_error_rate": 0.1}, {}),
    ("5xx 30%", {"chaos_error_rate": 0.3}, {}),
    ("drops 10%", {"chaos_drop_rate": 0.1}, {}),
    ("drops 30%", {"chaos_drop_rate": 0.3}, {}),
    ("delays 0.3 s on half", {"chaos_delay": 0.3, "chaos_delay_rate": 0.5}, {}),
    # answers slower than the client waits: reads time out and are retried, a submit
    # that times out may have been taken (unknown outcome, never resubmitted)
    ("delays past the timeout", {"chaos_delay": 1.2, "chaos_delay_rate": 0.2}, {"request_timeout": 0.6}),
]


@pytest.mark.parametrize(("name", "faults", "options"), CASES, ids=[c[0] for c in CASES])
async def test_a_batch_under_faults_loses_nothing_and_pays_once(emulator, tmp_path, name, faults, options):
    emu = emulator(workers=8, seed=sum(map(ord, name)), **faults)
    rival = RivalOfTheSameKey(emu) if "rate_limit" in faults else None
    async with make_client(emu, tmp_path / "out", **options) as client:
        if rival is not None:
            rival.start()
        try:
            clips = await sw.agenerate_many(PROMPTS, client=client, duration=4, concurrency=8, show=False)
        finally:
            if rival is not None:
                rival.stop.set()
                rival.join(timeout=30)
        stats = emu.stats()
        audit(stats, client.ledger, clips)
        outcomes = ("COMPLETED", "UNKNOWN", "NOT_SUBMITTED")
        assert all(c.status in outcomes for c in clips), [(c.status, c.error) for c in clips]
        _assert_the_faults_happened(name, stats, rivals_429s=rival.refused if rival is not None else 0)

        emu.configure(**CALM)
        again = await sw.agenerate_many(PROMPTS, client=client, duration=4, show=False)
        after = emu.stats()
        audit(after, client.ledger, again)
    for before, now in zip(clips, again, strict=True):
        if before.status == "COMPLETED":
            assert (now.id, now.status) == (before.id, "COMPLETED")
        elif before.status == "NOT_SUBMITTED":  # never reached the server: submitted once now
            assert now.id != before.id and now.status == "COMPLETED"
        else:  # UNKNOWN: the history found it (the same job), ruled it out (a new one), or not yet
            assert now.status in ("COMPLETED", "UNKNOWN") and (
                now.id == before.id or now.status == "COMPLETED"
            )
    # every new submit is an item that never reached the server before: nothing paid twice
    sent_again = sum(1 for before, now in zip(clips, again, strict=True) if now.id != before.id)
    assert after["submits"] == stats["submits"] + sent_again
    assert after["requests"].get("submit", 0) == stats["requests"].get("submit", 0) + sent_again


class RivalOfTheSameKey(threading.Thread):
    """Another program using the same key (a second notebook, a script), spending the key's
    allowance until the client under test has met a 429: on a busy machine the client alone
    may never send 12 requests a second. Counts its own 429s, which are not the client's."""

    def __init__(self, emu: Any) -> None:
        super().__init__(daemon=True)
        self.emu = emu
        self.refused = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(headers={"x-api-key": FAKE_KEY}, timeout=10) as http:
            deadline = time.monotonic() + 60
            while not self.stop.is_set() and time.monotonic() < deadline:
                if http.get(f"{self.emu.base_url}/v1/requests/no-such-job").status_code == 429:
                    self.refused += 1
                if self.emu.stats()["requests"].get("rate_limited", 0) > self.refused:
                    return  # the client has met one: from here it has the key to itself


def _assert_the_faults_happened(name: str, stats: dict[str, Any], *, rivals_429s: int) -> None:
    if name.startswith("429"):
        assert stats["requests"].get("rate_limited", 0) > rivals_429s  # the client met some
    elif name.startswith("5xx"):
        assert stats["chaos"]["errors"] > 0
    elif name.startswith("drops"):
        assert stats["chaos"]["drops"] > 0
    else:
        assert stats["chaos"]["delays"] > 0
