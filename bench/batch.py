"""A 1000-item batch against a rate-limited API: how often is it refused, how long does it take?

The emulator runs in its own process with `--rate-limit R` (a token bucket per key,
429 + Retry-After beyond it) and a short latency; the client knows nothing of R. One
`agenerate_many` call runs the batch with the client's adaptive limiter doing the
pacing. Goal: at most 1 % of the API's answers are 429, no item fails, and the wall
time stays near what R allows (each item costs a submit, a status check or two and a
result; downloads go to the output host, which is not limited).

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


async def _batch(base_url: str, out: Path, items: int, latency: float, concurrency: int) -> dict[str, Any]:
    poll = PollPolicy(expected_s=latency)
    async with AsyncSoraClient(api_key="bench-key", base_url=base_url, output_dir=out, poll=poll) as client:
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
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess(*args) as emu:
        _warm(emu.base_url, Path(tmp) / "warm", latency)
        before = _answers(emu.stats())
        result = asyncio.run(_batch(emu.base_url, Path(tmp) / "out", items, latency, concurrency))
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
    label = f"{items} items at {rate_limit:g} req/s"
    return [
        Row("batch", "sora-widget", f"429 share, {label}", share, "%", "≤ 1 %", extra),
        Row("batch", "sora-widget", f"wall time, {label}", result["wall_s"], "s", "", extra),
        Row("batch", "sora-widget", f"failed items, {label}", result["failures"], "", "0", extra),
    ]


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
