"""200 concurrent jobs, submitted and polled with asyncio + httpx: all complete, and
the handful of distinct prompts is rendered once each. bench/emulator_load.py runs the
same scenario and prints the latencies."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "emulator_load.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("emulator_load_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
async def test_200_concurrent_jobs_all_complete(emulator):
    bench = load_bench()
    emu = emulator(data_dir=None, latency=0.5, workers=200)
    result = await bench.run_load(emu.base_url, jobs=200, prompts=5, duration=4, timeout=60)
    assert result.errors == []
    assert result.completed == 200
    stats = emu.stats()
    assert stats["submits"] == 200
    assert {job["status"] for job in stats["jobs"].values()} == {"COMPLETED"}
    assert stats["renders"] == {"rendered": 5, "cache_hits": 195}
    assert len({job["sha256"] for job in stats["jobs"].values()}) == 5
    assert stats["answers"]["status"] == {"200": len(result.status_latencies)}
