"""A kernel under its plan's cap on requests a minute, against the emulator enforcing the
same limit: every request of every job paced, no 429 met."""

from __future__ import annotations

import asyncio

from sora_widget import cost
from sora_widget.client import AsyncSoraClient, PollPolicy, RetryPolicy
from sora_widget.client._ratelimit import PlanAllowance

KEY = "sk-test-FAKE-pacing-0e4d"
#: a dense schedule: unpaced, it would send far more than the emulator takes
DENSE_POLL = PollPolicy(first_check=0.02, min_interval=0.02, max_interval=0.1, expected_s=0.4)


async def test_a_capped_kernel_meets_no_429_and_every_job_finishes(emulator, tmp_path):
    per_second = 4.0
    emu = emulator(latency=0.4, rate_limit=per_second)
    allowance = PlanAllowance(per_second * 60)
    options = {
        "api_key": KEY,
        "base_url": emu.base_url,
        "poll": DENSE_POLL,
        "retry": RetryPolicy(max_attempts=3, base_delay=0.05, total_budget=10.0),
        "budget": cost.Budget(),
        "allowance": allowance,
    }
    # two clients of one kernel (a widget and a batch, say) share the allowance
    async with (
        AsyncSoraClient(output_dir=tmp_path / "a", **options) as a,
        AsyncSoraClient(output_dir=tmp_path / "b", **options) as b,
    ):
        clips = await asyncio.gather(
            a.generate("a gull over a pier", duration=4), b.generate("a ferry at dawn", duration=4)
        )
    stats = emu.stats()
    assert [c.status for c in clips] == ["COMPLETED", "COMPLETED"]
    assert stats["requests"].get("rate_limited", 0) == 0 and allowance.refusals == 0
    granted = allowance.snapshot()["granted"]
    assert granted[0] >= 4 and granted[1] >= 2  # submits and results, then status checks
