"""How long `import sora_widget` takes in a fresh interpreter, against `import segmind`."""

from __future__ import annotations

import statistics
import subprocess
import sys

from .common import Row

PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _seconds(module: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout))
    return statistics.median(samples)


def run(runs: int = 7) -> list[Row]:
    ours = _seconds("sora_widget", runs) * 1000
    theirs = _seconds("segmind", runs) * 1000
    return [
        Row("import", "sora-widget", "import time (median)", ours, "ms", "", {"runs": runs}),
        Row("import", "segmind SDK", "import time (median)", theirs, "ms", "", {"runs": runs}),
    ]
