"""Fault injection: generate_many against the real emulator over 127.0.0.1 while it
refuses (429), fails (5xx), cuts connections and stalls; a process killed mid-batch; a
disk that fills up during a download. Each case is a handful of 4 s clips with a few
distinct prompts (rendered once per session), so the suite stays small and quick.

Every run is audited the same way (see `audit`): no request id the server handed out
is lost, no item was submitted twice, and every saved file is the emulator's bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sora_widget.client import AsyncSoraClient, HistoryPolicy, PollPolicy, RetryPolicy
from sora_widget.emulator import Emulator, start
from sora_widget.ledger import Ledger
from sora_widget.records import Generation

FAKE_KEY = "sk-test-FAKE-faults-9d1c"
#: one prompt per item: the emulator's stats then tell how often each item was billed
PROMPTS = [f"fault suite item {i}: a lighthouse in weather" for i in range(8)]
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.02, max_delay=0.3, total_budget=30.0)
#: the request history on the suite's time scale: a request it does not list 3 s after the
#: attempt was never taken (longer than any stall the faults put before a job is created —
#: shorter, and a submit that was still being taken would be judged absent and paid twice)
#: (a finished job's charge is not read: a request a job, and the suite is about ids and payments)
FAST_HISTORY = HistoryPolicy(settle_s=3.0, inline_patience_s=3.5, ask_every_s=(0.5, 1.0, 2.0), charges=False)


@pytest.fixture
def emulator(emulator_cache_dir: Path) -> Iterator[Any]:
    handles: list[Emulator] = []

    def launch(**options: Any) -> Emulator:
        options.setdefault("latency", 0.3)
        handle = start(data_dir=emulator_cache_dir, **options)
        handles.append(handle)
        return handle

    yield launch
    for handle in handles:
        handle.stop()


def make_client(emulator: Emulator, output_dir: Path, **options: Any) -> AsyncSoraClient:
    options.setdefault("poll", FAST_POLL)
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("history", FAST_HISTORY)
    return AsyncSoraClient(api_key=FAKE_KEY, base_url=emulator.base_url, output_dir=output_dir, **options)


def audit(stats: dict[str, Any], ledger: Ledger, clips: Sequence[Generation]) -> None:
    """The three promises, checked against what the emulator saw."""
    records = list(ledger.records().values())
    jobs = {rid: job for rid, job in stats["jobs"].items() if job["kind"] == "async"}
    ledger_ids = {r.request_id for r in records if r.request_id}

    # No lost request ids: every job the server created is in the ledger — unless the
    # answer to its submit never arrived and the request history could not settle it, and
    # then an UNKNOWN record of the same item says it may be running and billed (one the
    # history judged NOT_SUBMITTED must not have been made: that would be a second payment).
    assert ledger_ids <= set(jobs), "the ledger names a request id the server never issued"
    unheard = Counter(job["params"]["prompt"] for rid, job in jobs.items() if rid not in ledger_ids)
    unknown = Counter(r.params.prompt for r in records if r.status == "UNKNOWN")
    assert unheard <= unknown, f"jobs created but neither recorded nor flagged unknown: {unheard - unknown}"

    # No duplicate submits: each item was billed at most once.
    billed = Counter(job["params"]["prompt"] for job in jobs.values())
    assert max(billed.values(), default=0) <= 1, f"billed twice: {[p for p, n in billed.items() if n > 1]}"
    assert stats["submits"] == len(jobs) == len(ledger_ids) + sum(unheard.values())

    # Every file verified: the bytes on disk are the bytes the server made for that id.
    for clip in clips:
        assert clip.request_id is None or clip.request_id in ledger_ids
        if clip.status == "COMPLETED" and clip.video_path:
            path = Path(clip.video_path)
            assert path.exists(), clip.video_path
            assert clip.sha256 == jobs[clip.request_id]["sha256"] == _sha256(path)
    assert not list(ledger.path.parent.glob(".*.part")), "a partial download was left behind"


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
