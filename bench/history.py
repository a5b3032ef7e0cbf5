"""A job's cost against the size of the history behind it, and many jobs on one kernel.

    .venv/bin/python -m bench history                 # 1k, 20k and 100k past jobs; 100 and 500 at once
    .venv/bin/python -m bench.history --only concurrency --counts 100,500 [--profile DIR]

History: a ledger of N past generations, synthesised from a real completed row (ids,
request ids and times varied), and then, in a fresh kernel — a real ipykernel, as a
notebook user has — `sw.pending()`, and one `sw.agenerate` while a monitor measures the
kernel loop's stalls in the job's first 3 s and the time until the server answered its
submit. Concurrency: 100 and 500 `sw.agenerate` calls at once on a kernel's loop
(its one shared client), each a job of its own (`reuse=False`), with the loop's tick lag
(p99) and its longest stall.

The emulator runs in its own process pinned to core 1 and the kernel to core 0
(`taskset`), so the figures are the client's own on this 2-core machine.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from .common import EmulatorProcess, Row

HISTORY_SIZES = (1_000, 20_000, 100_000)
CONCURRENT = (100, 500)
KEY = "bench-key"

# Runs in the kernel: one job with a loop monitor, then the pending list.
ONE_JOB = textwrap.dedent(
    """
    import asyncio, json, time
    import sora_widget as sw

    async def measure():
        stalls, stop = [], asyncio.Event()
        async def monitor():
            while not stop.is_set():
                asked = time.perf_counter()
                await asyncio.sleep(0.005)
                stalls.append(time.perf_counter() - asked - 0.005)
        watcher = asyncio.create_task(monitor())
        answered = {}
        called = time.perf_counter()
        def seen(record):
            if record.request_id and "at" not in answered:
                answered["at"] = time.perf_counter()
        job = asyncio.create_task(sw.agenerate("history bench clip", duration=4, on_update=seen))
        await asyncio.sleep(3.0)
        stop.set()
        await watcher
        await job
        started = time.perf_counter()
        listed = sw.pending()
        pending_s = time.perf_counter() - started
        return {
            "submit_answered_s": answered["at"] - called,
            "max_stall_first_3s_ms": max(stalls) * 1000,
            "pending_s": pending_s,
            "pending_count": len(listed),
        }

    print("RESULT " + json.dumps(await measure()))
    """
)

WARM_UP = "import sora_widget as sw\nawait sw.agenerate('warm up', duration=4)\nprint('RESULT {}')"

# Before many jobs: the emulator renders each of their four clips once (renders are the
# emulator's cost, on its own core), as bench/loop_lag.py does.
WARM_UP_MANY = (
    "import asyncio\nimport sora_widget as sw\n"
    "await asyncio.gather(*(sw.agenerate(f'concurrency bench clip {i}', duration=4) for i in range(4)))\n"
    "print('RESULT {}')"
)

FRESH_PENDING = (
    "import time; t0 = time.perf_counter(); import sora_widget as sw; t1 = time.perf_counter(); "
    "n = len(sw.pending()); t2 = time.perf_counter(); "
    "print('RESULT', __import__('json').dumps({'import_s': t1 - t0, 'pending_s': t2 - t1, 'count': n}))"
)

MANY_JOBS = textwrap.dedent(
    """
    import asyncio, json, time
    import sora_widget as sw

    async def measure(count, profile_to):
        lags, stop = [], asyncio.Event()
        async def monitor():
            while not stop.is_set():
                asked = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - asked - 0.005)
        profiler = None
        if profile_to:
            import cProfile
            profiler = cProfile.Profile()
        watcher = asyncio.create_task(monitor())
        started, cpu, loop_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        if profiler is not None:
            profiler.enable()
        results = await asyncio.gather(
            # reuse=False: each call a job of its own (four prompts, so the emulator renders four
            # clips), not an attachment to an earlier call's job of the same request
            *(sw.agenerate(f"concurrency bench clip {i % 4}", duration=4, reuse=False) for i in range(count)),
            return_exceptions=True,
        )
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_to)
        wall, cpu, loop_cpu = (
            time.perf_counter() - started, time.process_time() - cpu, time.thread_time() - loop_cpu
        )
        sent = dict(sw.api.shared_client().requester.sent)
        stop.set()
        await watcher
        lags.sort()
        return {
            "p99_ms": lags[int(0.99 * (len(lags) - 1))] * 1000,
            "max_ms": lags[-1] * 1000,
            "ticks": len(lags),
            "ticks_over_20ms": sum(lag > 0.020 for lag in lags),
            "failures": sum(isinstance(r, BaseException) for r in results),
            "first_failure": next((repr(r) for r in results if isinstance(r, BaseException)), None),
            "wall_s": wall,
            "cpu_ms_per_job": cpu * 1000 / count,
            "loop_cpu_ms_per_job": loop_cpu * 1000 / count,
            "requests": sent,
        }

    print("RESULT " + json.dumps(await measure(COUNT, PROFILE)))
    """
)


def synthesise_history(out: Path, size: int, model_record: dict[str, Any]) -> None:
    """`size` past generations like `model_record` in `out`'s ledger, in one transaction."""
    from sora_widget.ledger import Ledger
    from sora_widget.records import format_time

    ledger = Ledger.in_dir(out)
    base = time.time() - 86_400 * 30
    with ledger._transaction() as db:
        for i in range(size):
            row = json.loads(json.dumps(model_record))
            row["id"] = f"h{i:011d}"
            row["request_id"] = f"00000000-0000-4000-8000-{i:012d}"
            moment = format_time(_utc(base + i * 20))
            row["submitted_at"] = moment
            row["updated_at"] = moment
            row["completed_at"] = format_time(_utc(base + i * 20 + 180))
            row["status_history"] = [{"status": h["status"], "at": moment} for h in row["status_history"]]
            ledger._write(db, "completed", row, at=moment)
    ledger.close()


def _utc(seconds: float) -> Any:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc)


class Kernel:
    """A real ipykernel in `cwd`, pinned to one core, that runs cells and returns what
    they print after `RESULT `."""

    def __init__(self, cwd: Path, env: dict[str, str], core: int = 0) -> None:
        from jupyter_client.manager import KernelManager

        self.manager = KernelManager(kernel_name="python3")
        self.manager.kernel_spec.argv[0] = sys.executable  # type: ignore[union-attr]
        self.manager.start_kernel(env={**os.environ, **env}, cwd=str(cwd))
        pid = self.manager.provisioner.pid  # type: ignore[union-attr]
        subprocess.run(["taskset", "-p", "-c", str(core), str(pid)], check=True, capture_output=True)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 300.0) -> dict[str, Any]:
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        found: dict[str, Any] | None = None
        idle = False  # a kernel's stdout is flushed by another thread: it may follow "idle"
        while time.monotonic() < deadline:
            try:
                msg = self.client.iopub_channel.get_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream" and "RESULT " in content["text"]:
                found = json.loads(content["text"].split("RESULT ", 1)[1])
            if msg["msg_type"] == "error":
                raise RuntimeError("\n".join(content["traceback"]))
            if msg["msg_type"] == "status" and content["execution_state"] == "idle":
                idle = True
            if idle and found is not None:
                return found
        raise TimeoutError(f"no result in {timeout} s")

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def _pinned_emulator(*args: str) -> EmulatorProcess:
    return EmulatorProcess(*args, cpu="1")


def _a_real_row(base_url: str, out: Path) -> dict[str, Any]:
    import asyncio

    from sora_widget.client import AsyncSoraClient, PollPolicy

    async def one() -> dict[str, Any]:
        async with AsyncSoraClient(KEY, base_url, out, poll=PollPolicy(expected_s=1.0)) as client:
            return (await client.generate("history bench clip", duration=4)).to_dict()

    return asyncio.run(one())


def run(
    sizes: tuple[int, ...] = HISTORY_SIZES,
    counts: tuple[int, ...] = CONCURRENT,
    profile_dir: Path | None = None,
) -> list[Row]:
    """`profile_dir`: write a cProfile of the kernel's thread during each concurrency run
    there (`concurrency-<count>.prof`)."""
    rows: list[Row] = []
    with _pinned_emulator("--latency", "1.0", "--workers", "600") as emu:
        env = {"SEGMIND_API_KEY": KEY, "SEGMIND_BASE_URL": emu.base_url, "SORA_WIDGET_OUTPUT_DIR": "out"}
        real: dict[str, Any] = {}
        if sizes:
            with tempfile.TemporaryDirectory() as seed_dir:
                real = _a_real_row(emu.base_url, Path(seed_dir))
        for size in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                synthesise_history(work / "out", size, real)
                fresh = subprocess.run(
                    ["taskset", "-c", "0", sys.executable, "-c", FRESH_PENDING],
                    cwd=work,
                    env={**os.environ, **env},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                cold = json.loads(fresh.stdout.split("RESULT ", 1)[1])
                kernel = Kernel(work, env)
                try:
                    job = kernel.run(ONE_JOB)
                finally:
                    kernel.stop()
                extra = {"history": size, "fresh_process_import_s": round(cold["import_s"], 3)}
                label = f"{size // 1000}k past jobs"
                rows += [
                    Row(
                        "history",
                        "sora-widget",
                        f"sw.pending(), fresh process, {label}",
                        cold["pending_s"] * 1000,
                        "ms",
                        "< 300 ms",
                        extra,
                    ),
                    Row(
                        "history",
                        "sora-widget",
                        f"agenerate → submit answered, {label}",
                        job["submit_answered_s"] * 1000,
                        "ms",
                        "< 300 ms",
                        extra,
                    ),
                    Row(
                        "history",
                        "sora-widget",
                        f"longest loop stall, first 3 s, {label}",
                        job["max_stall_first_3s_ms"],
                        "ms",
                        "< 100 ms",
                        extra,
                    ),
                ]
        for count in counts:
            with tempfile.TemporaryDirectory() as tmp:
                kernel = Kernel(Path(tmp), env)
                try:
                    kernel.run(WARM_UP_MANY)
                    profile = profile_dir and str(profile_dir.resolve() / f"concurrency-{count}.prof")
                    many = kernel.run(
                        MANY_JOBS.replace("COUNT", str(count)).replace("PROFILE", repr(profile))
                    )
                finally:
                    kernel.stop()
            extra = {
                "jobs": count,
                "failures": many["failures"],
                "first_failure": many["first_failure"],
                "wall_s": round(many["wall_s"], 2),
                "ticks_over_20ms": f"{many['ticks_over_20ms']} of {many['ticks']}",
                "kernel_cpu_ms_per_job": round(many["cpu_ms_per_job"], 1),
                "loop_cpu_ms_per_job": round(many["loop_cpu_ms_per_job"], 1),
                "requests": many["requests"],
            }
            print(f"{count} jobs: {extra}", file=sys.stderr, flush=True)
            rows += [
                Row(
                    "concurrency",
                    "sora-widget",
                    f"tick lag p99, {count} agenerate at once",
                    many["p99_ms"],
                    "ms",
                    "< 20 ms",
                    extra,
                ),
                Row(
                    "concurrency",
                    "sora-widget",
                    f"longest stall, {count} agenerate at once",
                    many["max_ms"],
                    "ms",
                    "< 250 ms",
                    extra,
                ),
            ]
    return rows


def main() -> None:
    import argparse

    from .common import print_table

    parser = argparse.ArgumentParser(prog="python -m bench.history")
    parser.add_argument("--only", choices=("history", "concurrency"), help="run one part only")
    parser.add_argument("--sizes", default=",".join(map(str, HISTORY_SIZES)), help="past jobs, e.g. 20000")
    parser.add_argument("--counts", default=",".join(map(str, CONCURRENT)), help="jobs at once, e.g. 500")
    parser.add_argument("--profile", type=Path, help="a folder for cProfile files of the concurrency runs")
    args = parser.parse_args()
    sizes = () if args.only == "concurrency" else tuple(int(n) for n in args.sizes.split(","))
    counts = () if args.only == "history" else tuple(int(n) for n in args.counts.split(","))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print_table(run(sizes, counts, args.profile))


if __name__ == "__main__":
    main()
