"""Event-loop lag while many jobs run on one loop, as they do on a kernel's loop.

A monitor task asks to sleep 5 ms again and again; how late it wakes up is the lag
every other piece of work on that loop (a widget message, a cell's code) would see.
Jobs submit, poll, and download their clips from the emulator on 127.0.0.1.
Goal: p99 under 20 ms with 100 jobs (and at 500).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sora_widget.client import AsyncSoraClient, PollPolicy

from .common import EmulatorProcess, Row, percentile

TICK = 0.005


async def _monitor(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append(time.perf_counter() - asked - TICK)


async def _jobs(base_url: str, out: Path, count: int, latency: float) -> tuple[list[float], float, int]:
    lags: list[float] = []
    stop = asyncio.Event()
    policy = PollPolicy(expected_s=latency)
    async with AsyncSoraClient(api_key="bench-key", base_url=base_url, output_dir=out, poll=policy) as client:
        # render each distinct clip once before measuring: renders are the emulator's cost
        await asyncio.gather(*(client.generate(f"loop lag clip {i}", duration=4) for i in range(4)))
        monitor = asyncio.create_task(_monitor(lags, stop))
        started = time.perf_counter()
        results = await asyncio.gather(
            *(client.generate(f"loop lag clip {i % 4}", duration=4) for i in range(count)),
            return_exceptions=True,
        )
        elapsed = time.perf_counter() - started
        stop.set()
        await monitor
    failures = sum(isinstance(r, BaseException) for r in results)
    return lags, elapsed, failures


def run(counts: tuple[int, ...] = (10, 100, 500), latency: float = 5.0) -> list[Row]:
    rows = []
    for count in counts:
        with (
            tempfile.TemporaryDirectory() as tmp,
            EmulatorProcess("--latency", str(latency), "--workers", str(count)) as emu,
        ):
            lags, elapsed, failures = asyncio.run(_jobs(emu.base_url, Path(tmp), count, latency))
        ms = [lag * 1000 for lag in lags]
        extra = {"jobs": count, "failures": failures, "wall_s": round(elapsed, 2), "samples": len(ms)}
        goal = "< 20 ms" if count >= 100 else ""
        rows.append(
            Row("loop lag", "sora-widget", f"p50 with {count} jobs", percentile(ms, 50), "ms", "", extra)
        )
        rows.append(
            Row("loop lag", "sora-widget", f"p99 with {count} jobs", percentile(ms, 99), "ms", goal, extra)
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="10,100,500")
    from .common import print_table

    print_table(run(tuple(int(c) for c in parser.parse_args().counts.split(","))))
