"""Polling efficiency: status requests per job and completion-detection lag, ours
against the official segmind SDK's `job.wait(interval=1.0)` and `interval=2.0`.

Jobs take a realistic time — log-normal around 180 s, sigma 0.15 — on a clock the
emulator runs `1/scale` times faster; every contender's intervals are compressed by
the same factor, and lags are reported back in real API seconds. The emulator, in
its own process, records when each job completed and when a client was first told,
so every contender is measured the same way, on the server.
Goal: mean lag no worse than interval=2.0 with at most half its requests.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
from pathlib import Path

from sora_widget.client import AsyncSoraClient, PollPolicy

from .common import EmulatorProcess, Row, mean, percentile, sora_like_jobs

PROMPT = "a lighthouse at dusk, waves against the rocks"


def _ours(base_url: str, jobs: int, scale: float) -> list[str]:
    async def go() -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            policy = PollPolicy().scaled(scale)
            async with AsyncSoraClient("bench-key", base_url, Path(tmp), poll=policy) as client:
                records = await asyncio.gather(*(client.generate(PROMPT, duration=8) for _ in range(jobs)))
        return [r.request_id for r in records if r.request_id]

    return asyncio.run(go())


def _sdk(base_url: str, jobs: int, interval: float) -> list[str]:
    from segmind import SegmindClient

    ids: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        client = SegmindClient(api_key="bench-key", base_url=base_url + "/v1")
        job = client.submit_async("sora-2", prompt=PROMPT, duration="8", size="720x1280")
        job.wait(timeout=3600, interval=interval)
        with lock:
            ids.append(job.request_id)

    threads = [threading.Thread(target=one) for _ in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ids


def run(jobs: int = 40, scale: float = 0.2, seed: int = 1) -> list[Row]:
    contenders = {
        "sora-widget": lambda url: _ours(url, jobs, scale),
        "segmind SDK interval=1.0": lambda url: _sdk(url, jobs, 1.0 * scale),
        "segmind SDK interval=2.0": lambda url: _sdk(url, jobs, 2.0 * scale),
    }
    rows: list[Row] = []
    summary: dict[str, tuple[float, float]] = {}
    for name, contend in contenders.items():
        # a fresh emulator per contender: same seed, so the same latencies in the same order
        args = sora_like_jobs(scale, seed)
        with EmulatorProcess(*args) as emu:
            ids = contend(emu.base_url)
            stats = emu.stats()
        requests = [stats["by_request"][rid].get("status", 0) for rid in ids]
        lags = [(stats["detected_at"][rid] - stats["jobs"][rid]["completed_at"]) / scale for rid in ids]
        summary[name] = (mean(requests), mean(lags))
        extra = {"jobs": len(ids), "scale": scale, "lag_p99_s": round(percentile(lags, 99), 3)}
        rows.append(Row("polling", name, "status requests per job", mean(requests), "", "", extra))
        rows.append(Row("polling", name, "mean detection lag", mean(lags), "s", "", extra))
    base_requests, base_lag = summary["segmind SDK interval=2.0"]
    ours_requests, ours_lag = summary["sora-widget"]
    rows.append(
        Row("polling", "sora-widget / SDK 2.0", "requests ratio", ours_requests / base_requests, "", "≤ 0.5")
    )
    rows.append(Row("polling", "sora-widget / SDK 2.0", "lag ratio", ours_lag / base_lag, "", "≤ 1.0"))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--scale", type=float, default=0.2)
    from .common import print_table

    options = parser.parse_args()
    print_table(run(options.jobs, options.scale))
