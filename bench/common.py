"""Shared pieces of the benchmarks: percentiles, the result table, and JSON output."""

from __future__ import annotations

import json
import math
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


@dataclass
class Row:
    """One line of the table: a measured quantity for one contender."""

    bench: str
    contender: str
    metric: str
    value: float
    unit: str
    goal: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def print_table(rows: Sequence[Row]) -> None:
    headers = ("bench", "contender", "metric", "value", "goal")
    lines = [(r.bench, r.contender, r.metric, f"{r.value:,.3f} {r.unit}".strip(), r.goal) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))


def write_json(name: str, rows: Sequence[Row], meta: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "meta": meta,
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


#: the jobs the poll and pacing benchmarks wait for: Sora 2's ~180 s, log-normally spread
JOB_MEDIAN_S = 180.0
JOB_SIGMA = 0.15


def sora_like_jobs(scale: float, seed: int) -> tuple[str, ...]:
    """Emulator arguments for those jobs, their times multiplied by `scale` (a fast run of
    the same schedule), in the same order for the same seed; enough workers that none waits."""
    return (
        "--latency",
        str(JOB_MEDIAN_S * scale),
        "--latency-jitter",
        str(JOB_SIGMA),
        "--latency-distribution",
        "lognormal",
        "--workers",
        "1000",
        "--seed",
        str(seed),
    )


class EmulatorProcess:
    """The emulator in its own process (`sora-widget emulator`), so that the measured
    client's process holds only the client — as it does against the real API."""

    def __init__(self, *args: str, cpu: str | None = None) -> None:
        """`cpu`: pin the emulator to these cores (`taskset -c`), away from the client."""
        self.args = args
        self.cpu = cpu
        self.base_url = ""
        self._proc: Any = None

    def __enter__(self) -> EmulatorProcess:
        import subprocess
        import sys

        pin = ["taskset", "-c", self.cpu] if self.cpu else []
        self._proc = subprocess.Popen(
            [*pin, sys.executable, "-m", "sora_widget.cli", "emulator", "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self._proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self._proc.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.removeprefix("listening on ")
        return self

    def stats(self) -> dict[str, Any]:
        import httpx

        return httpx.get(self.base_url + "/_emulator/stats", timeout=30).json()

    def __exit__(self, *exc: object) -> None:
        import signal

        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=15)
        except Exception:
            self._proc.kill()
            self._proc.wait()
