"""A 1000-item batch against a rate-limited API: how often is it refused, how long does it take?

The emulator runs in its own process with `--rate-limit R` (a token bucket per key,
429 + Retry-After beyond it) and a short latency; the client knows nothing of R. One
`agenerate_many` call runs the batch with the client's adaptive limiter doing the
pacing. Goal: at most 1 % of the API's answers are 429, no item fails, and the wall
time stays near what R allows (each item costs a submit, a status check or two and a
result; downloads go to the output host, which is not limited).

For comparison the same batch runs once more with pacing switched off (a limiter that
never waits), so only the retry policy's backoff answers the 429s — what a client
without a shared limiter does.

    python -m bench batch                     # 1000 items at 50 requests/s
    python -m bench.batch --items 200 --rate-limit 20
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import sora_widget as sw
from sora_widget.client import AsyncSoraClient, PollPolicy

from .common import EmulatorProcess, Row

#: few distinct prompts: the emulator renders each once, the batch then measures the client
PROMPTS = [f"batch bench clip {i}: a lighthouse in weather" for i in range(4)]
API_ENDPOINTS = ("submit", "status", "result")


def _answers(stats: dict[str, Any]) -> dict[str, int]:
    """429s and all answers of the rate-limited endpoints so far."""
    total = refused = 0
    for endpoint in API_ENDPOINTS:
        for status, count in stats.get("answers", {}).get(endpoint, {}).items():
            total += count
            refused += count if status == "429" else 0
    return {"total": total, "refused": refused}


class NoPacing:
    """A limiter that lets every request through at once and learns nothing from 429s."""

    async def acquire(self) -> None:
        return None

    def observe(self, status: int, retry_after: float | None) -> None:
        return None


async def _batch(
    base_url: str, out: Path, items: int, latency: float, concurrency: int, *, paced: bool = True
) -> dict[str, Any]:
    poll = PollPolicy(expected_s=latency)
    options: dict[str, Any] = {} if paced else {"limiter": NoPacing()}
    # each contender its own key, so its own token bucket on the emulator
    key = "bench-key" if paced else "bench-key-unpaced"
    client = AsyncSoraClient(api_key=key, base_url=base_url, output_dir=out, poll=poll, **options)
    async with client:
        batch = [{"prompt": PROMPTS[i % len(PROMPTS)]} for i in range(items)]
        started = time.perf_counter()
        clips = await sw.agenerate_many(batch, client=client, duration=4, concurrency=concurrency, show=False)
        wall = time.perf_counter() - started
        limiter = getattr(client.limiter, "snapshot", dict)()
    return {
        "wall_s": wall,
        "completed": sum(c.status == "COMPLETED" for c in clips),
        "failures": sum(c.status != "COMPLETED" for c in clips),
        "limiter": limiter,
    }


def _warm(base_url: str, out: Path, latency: float) -> None:
    """Render the distinct clips before measuring (renders are the emulator's cost)."""

    async def warm() -> None:
        async with AsyncSoraClient(api_key="warm-key", base_url=base_url, output_dir=out) as client:
            await asyncio.gather(*(client.generate(p, duration=4) for p in PROMPTS))

    asyncio.run(warm())


def run(
    items: int = 1000, rate_limit: float = 50.0, latency: float = 1.0, concurrency: int = 64
) -> list[Row]:
    args = ["--latency", str(latency), "--workers", str(concurrency), "--rate-limit", str(rate_limit)]
    label = f"{items} items at {rate_limit:g} req/s"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess(*args) as emu:
        _warm(emu.base_url, Path(tmp) / "warm", latency)
        for contender, paced in (("sora-widget", True), ("no pacing (retries only)", False)):
            before = _answers(emu.stats())
            out = Path(tmp) / contender.split()[0]
            result = asyncio.run(_batch(emu.base_url, out, items, latency, concurrency, paced=paced))
            after = _answers(emu.stats())
            answers = after["total"] - before["total"]
            refused = after["refused"] - before["refused"]
            share = 100.0 * refused / answers if answers else 0.0
            extra = {
                "items": items,
                "rate_limit": rate_limit,
                "concurrency": concurrency,
                "answers": answers,
                "429s": refused,
                "accepted_per_s": round((answers - refused) / result["wall_s"], 2),
                "limiter": result["limiter"],
            }
            # the goals are ours; the unpaced run is there for comparison
            share_goal, fail_goal = ("≤ 1 %", "0") if paced else ("", "")
            rows += [
                Row("batch", contender, f"429 share, {label}", share, "%", share_goal, extra),
                Row("batch", contender, f"wall time, {label}", result["wall_s"], "s", "", extra),
                Row("batch", contender, f"failed items, {label}", result["failures"], "", fail_goal, extra),
            ]
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rate-limit", type=float, default=50.0)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=64)
    from .common import print_table

    options = parser.parse_args()
    rows = run(options.items, options.rate_limit, options.latency, options.concurrency)
    print_table(rows)
    print(rows[0].extra)
