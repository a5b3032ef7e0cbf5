"""Peak memory growth while saving a large clip: our streamed download against reading
the whole body at once (what `requests.get(url).content` — the usual SDK pattern — does).

A 300 MB file is served by a separate process on 127.0.0.1, so only the client's
memory is measured. Goal: growth under 32 MB for ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from sora_widget.client import AsyncSoraClient
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

from .common import Row

SERVER = r"""
import http.server, socketserver, sys, os
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
with socketserver.TCPServer(("127.0.0.1", 0), Quiet) as httpd:
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()
"""


class PeakRss:
    """Samples this process's RSS every few milliseconds on a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1e6


def make_file(folder: Path, size_mb: int) -> Path:
    path = folder / "big.mp4"
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size_mb):
            f.write(block)
    return path


def run(size_mb: int = 300) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_file(folder, size_mb)
        server = subprocess.Popen([sys.executable, "-c", SERVER, tmp], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            url = f"http://127.0.0.1:{server.stdout.readline().strip()}/big.mp4"
            ours, ours_s = _ours(url, folder / "out")
            naive, naive_s = _whole_body(url)
        finally:
            server.terminate()
            server.wait(timeout=10)
    goal = "< 32 MB"
    rows.append(
        Row(
            "download",
            "sora-widget (streamed)",
            f"peak RSS growth, {size_mb} MB file",
            ours,
            "MB",
            goal,
            {"seconds": ours_s},
        )
    )
    rows.append(
        Row(
            "download",
            "whole body (SDK-style .content)",
            f"peak RSS growth, {size_mb} MB file",
            naive,
            "MB",
            "",
            {"seconds": naive_s},
        )
    )
    return rows


def _ours(url: str, out: Path) -> tuple[float, float]:
    async def go() -> None:
        async with AsyncSoraClient(api_key="unused", base_url="http://127.0.0.1:9", output_dir=out) as client:
            record = Generation(id="bench0000000", params=GenerationParams("big file"), request_id="bench")
            record.set_status("COMPLETED")
            await client.download(record, url)

    started = time.perf_counter()
    with PeakRss() as rss:
        asyncio.run(go())
    return rss.growth_mb, time.perf_counter() - started


def _whole_body(url: str) -> tuple[float, float]:
    started = time.perf_counter()
    with PeakRss() as rss:
        body = httpx.get(url, timeout=60).content
        del body
    return rss.growth_mb, time.perf_counter() - started


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=300)
    from .common import print_table

    print_table(run(parser.parse_args().size_mb))
