"""Plan-aware pacing: a kernel capped at its plan's requests a minute (5 on Segmind's free
plan, 50 on Pro) running 1, 5 and 20 jobs at once, against the emulator enforcing the same
limit per key: the 429s met (goal 0) and the completion-detection lag (how long after a job
ended the client learned it). With 20 jobs at 5 a minute the 20 submits alone take four
minutes and go first (a job not yet submitted cannot finish), and each job needs at least
three more requests (a status check, its result, its charge): the lag there is the plan's,
not the schedule's — `all_saved_after_s` (in the JSON) says when the last clip was saved.

Jobs take a realistic time — log-normal around 180 s, sigma 0.15 — on a clock the emulator
runs `1/scale` times faster; the client's schedule, its cap and the emulator's limit are
scaled alike, and lags are reported in real API seconds, measured on the server (when a
client was first told a job had ended). One row more: 5 jobs at 5 a minute with no cap
set (the adaptive limiter alone, learning the limit from 429s), for comparison.

    .venv/bin/python -m bench pacing
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from sora_widget import cost
from sora_widget.client import AsyncSoraClient, PollPolicy
from sora_widget.client._ratelimit import PlanAllowance

from .common import EmulatorProcess, Row, mean, percentile, sora_like_jobs

PROMPT = "a lighthouse at dusk, waves against the rocks"
PLANS = (5, 50)
JOB_COUNTS = (1, 5, 20)


def _run(base_url: str, jobs: int, scale: float, per_minute: float | None) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        allowance = PlanAllowance(None if per_minute is None else per_minute / scale)
        with tempfile.TemporaryDirectory() as tmp:
            async with AsyncSoraClient(
                "bench-key",
                base_url,
                Path(tmp),
                poll=PollPolicy().scaled(scale),
                allowance=allowance,
                budget=cost.Budget(),
            ) as client:
                started = time.monotonic()
                records = await asyncio.gather(
                    *(client.generate(f"{PROMPT} #{i}", duration=8) for i in range(jobs)),
                    return_exceptions=True,
                )
                elapsed = time.monotonic() - started
        done = [r for r in records if not isinstance(r, BaseException) and r.status == "COMPLETED"]
        return {"ids": [r.request_id for r in done], "failed": len(records) - len(done), "elapsed": elapsed}

    return asyncio.run(go())


def _measure(jobs: int, scale: float, per_minute: float, capped: bool, seed: int) -> dict[str, Any]:
    args = (*sora_like_jobs(scale, seed), "--rate-limit", str(per_minute / 60 / scale))
    with EmulatorProcess(*args) as emu:
        outcome = _run(emu.base_url, jobs, scale, per_minute if capped else None)
        stats = emu.stats()
    ids = outcome["ids"]
    lags = [(stats["detected_at"][rid] - stats["jobs"][rid]["completed_at"]) / scale for rid in ids]
    checks = [stats["by_request"][rid].get("status", 0) for rid in ids]
    return {
        "refused": stats["requests"].get("rate_limited", 0),
        "requests": sum(v for k, v in stats["requests"].items() if k not in ("rate_limited", "output")),
        "lags": lags,
        "checks": checks,
        "completed": len(ids),
        "failed": outcome["failed"],
        "all_saved_after_s": round(outcome["elapsed"] / scale),
    }


def run(scale: float = 0.05, seed: int = 3) -> list[Row]:
    rows: list[Row] = []
    cases = [(rpm, jobs, True) for rpm in PLANS for jobs in JOB_COUNTS] + [(5, 5, False)]
    for per_minute, jobs, capped in cases:
        found = _measure(jobs, scale, per_minute, capped, seed)
        name = f"{per_minute}/min, {jobs} job{'s' if jobs > 1 else ''}" + ("" if capped else ", no cap set")
        extra = {
            "scale": scale,
            "completed": found["completed"],
            "failed": found["failed"],
            "requests": found["requests"],
            "status_checks_per_job": round(mean(found["checks"]), 2) if found["checks"] else None,
            "lag_p90_s": round(percentile(found["lags"], 90), 1) if found["lags"] else None,
            "all_saved_after_s": found["all_saved_after_s"],
        }
        goal = "0" if capped else ""
        rows.append(Row("pacing", name, "429s met", float(found["refused"]), "", goal, extra))
        rows.append(Row("pacing", name, "mean detection lag", mean(found["lags"]), "s", "", extra))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.05)
    from .common import print_table

    options = parser.parse_args()
    print_table(run(options.scale))
