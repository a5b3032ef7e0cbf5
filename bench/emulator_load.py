"""Load on the emulator: many concurrent jobs submitted and polled over loopback.

    .venv/bin/python bench/emulator_load.py [--jobs 200] [--latency 0.5] [--prompts 5]

Prints the status-request latency a polling client sees (p50/p99) while the jobs run
and their clips are rendered, then the render time of one clip per size and duration.
tests/integration/test_emulator_load.py runs the same `run_load` scenario and checks
that every job completes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

KEY = "bench-key"
TERMINAL = ("COMPLETED", "FAILED")


@dataclass
class LoadResult:
    jobs: int
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    #: seconds each status request took, as the client measured it
    status_latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0


async def run_load(
    base_url: str,
    *,
    jobs: int = 200,
    prompts: int = 5,
    duration: int = 4,
    size: str = "1280x720",
    interval: float = 0.25,
    connections: int = 20,
    timeout: float = 120.0,
) -> LoadResult:
    """Submit `jobs` at once (from `prompts` distinct prompts) and poll each to the end.

    The client shares `connections` keep-alive connections among the jobs: httpcore's
    pool scans every connection for every request, so a pool of hundreds costs the
    client more CPU than the server spends answering.
    """
    result = LoadResult(jobs=jobs)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    started = time.perf_counter()
    async with httpx.AsyncClient(headers={"x-api-key": KEY}, timeout=30, limits=limits) as client:

        async def one(index: int) -> None:
            body = {"prompt": f"load test scene {index % prompts}", "duration": duration, "size": size}
            submitted = await client.post(f"{base_url}/v2/sora-2", json=body)
            if submitted.status_code != 200:
                result.errors.append(f"submit {submitted.status_code}: {submitted.text}")
                return
            status_url = submitted.json()["status_url"]
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline:
                asked = time.perf_counter()
                response = await client.get(status_url)
                result.status_latencies.append(time.perf_counter() - asked)
                status = response.json().get("status")
                if status == "COMPLETED":
                    result.completed += 1
                    return
                if status in TERMINAL or response.status_code != 200:
                    result.errors.append(f"status {response.status_code}: {response.text}")
                    return
                await asyncio.sleep(interval)
            result.errors.append(f"still running after {timeout} s: {status_url}")

        outcomes = await asyncio.gather(*(one(i) for i in range(jobs)), return_exceptions=True)
    result.errors += [repr(o) for o in outcomes if isinstance(o, BaseException)]
    result.wall_s = time.perf_counter() - started
    return result


def render_times(sizes: list[str], durations: list[int]) -> dict[tuple[str, int], float]:
    """Seconds to render one clip of each size and duration (fresh, uncached)."""
    from sora_widget.emulator.render import render_video
    from sora_widget.emulator.scene import Reference
    from sora_widget.params import GenerationParams

    times = {}
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            for duration in durations:
                params = GenerationParams("render time bench: a monk under a waterfall", duration, size)
                video = render_video(params, Reference(), Path(directory) / f"{size}-{duration}.mp4")
                times[(size, duration)] = video.render_s
    return times


def probe(status_url: str, seconds: float, interval: float = 0.02) -> list[float]:
    """One client on one connection, polling a status URL: what a single notebook sees
    while the server is busy with everyone else's jobs."""
    latencies = []
    with httpx.Client(headers={"x-api-key": KEY}, timeout=30) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            asked = time.perf_counter()
            client.get(status_url)
            latencies.append(time.perf_counter() - asked)
            time.sleep(interval)
    return latencies


def start_server(*options: str) -> tuple[subprocess.Popen[str], str]:
    """The emulator in its own process, as a server would be: the load generator's CPU
    use must not count as the server's."""
    server = subprocess.Popen(
        [sys.executable, "-m", "sora_widget.cli", "emulator", "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().split()[-1]


def percentiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    return f"p50 {at(50):7.2f} ms   p99 {at(99):7.2f} ms   ({len(ordered)} requests)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--prompts", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between a job's polls")
    parser.add_argument("--no-renders", action="store_true", help="skip the render-time table")
    parser.add_argument("--probe", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.seconds)))
        return

    server, base_url = start_server("--latency", str(args.latency), "--workers", str(args.jobs))
    try:
        warm = httpx.post(
            f"{base_url}/v2/sora-2", json={"prompt": "probe"}, headers={"x-api-key": KEY}
        ).json()
        prober = subprocess.Popen(
            [sys.executable, __file__, "--probe", warm["status_url"], "--seconds", "4"],
            stdout=subprocess.PIPE,
            text=True,
        )
        load = asyncio.run(run_load(base_url, jobs=args.jobs, prompts=args.prompts, interval=args.interval))
        probed = json.loads(prober.communicate(timeout=60)[0])
        stats = httpx.get(f"{base_url}/_emulator/stats").json()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    handling = stats["handling_ms"]
    print(f"{args.jobs} concurrent jobs ({args.prompts} distinct prompts, 4 s 1280x720 clips), latency")
    print(f"{args.latency} s, each job polled every {args.interval} s; emulator, load and probe in")
    print(f"separate processes on this {os.cpu_count()}-core machine")
    print(f"  completed                   {load.completed}/{load.jobs}, errors {len(load.errors)}")
    print(f"  wall time                   {load.wall_s:.2f} s")
    print(
        f"  renders                     {stats['renders']['rendered']} rendered, "
        f"{stats['renders']['cache_hits']} cache hits"
    )
    print("status request latency")
    print(f"  one extra poller (probe)    {percentiles(probed)}")
    print(f"  the {args.jobs} jobs' pollers     {percentiles(load.status_latencies)}")
    print(
        f"  server handling time        p50 {handling['status']['p50']:7.2f} ms   "
        f"p99 {handling['status']['p99']:7.2f} ms"
    )
    print(
        f"  submit handling time        p50 {handling['submit']['p50']:7.2f} ms   "
        f"p99 {handling['submit']['p99']:7.2f} ms"
    )
    for error in load.errors[:5]:
        print(f"  error: {error}")
    if not args.no_renders:
        print("render time of one clip (libx264 ultrafast, 2 threads, 24 fps, nothing else running)")
        for (size, duration), seconds in render_times(["720x1280", "1280x720"], [4, 8, 12]).items():
            print(f"  {size:>9} {duration:>3} s clip   {seconds:.2f} s")


if __name__ == "__main__":
    main()
