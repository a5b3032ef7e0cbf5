"""From the emulator marking a job COMPLETED to the clip being playable in the browser.

A real JupyterLab in headless Chromium shows the widget; each run types a prompt and
clicks Generate. The page records when each <video> fires `loadeddata` (playable:
readyState ≥ 2); the emulator (own process, same clock) records when the job completed
and when the kernel was told. The difference splits into detection (polling) and
delivery (result, download, checksum, bytes to the browser, decode).
Goal: under 1 s for a 4 s clip.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .common import EmulatorProcess, Row, mean, percentile

WATCH = """() => {
  window.__playable = [];
  document.addEventListener('loadeddata', (e) => {
    if (e.target instanceof HTMLVideoElement && e.target.closest('.sora-widget')) {
      window.__playable.push(Date.now() / 1000);
    }
  }, true);
}"""


def run(runs: int = 6, warmup: int = 1) -> list[Row]:
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, JupyterServer, NotebookPage

    total: list[float] = []
    detection: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess("--latency", "2", "--workers", "8") as emu:
        root = Path(tmp) / "root"
        root.mkdir()
        env = {"SEGMIND_API_KEY": "bench-key", "SEGMIND_BASE_URL": emu.base_url}
        server = JupyterServer("lab", root, env=env).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                cells = ["import sora_widget as sw\nw = sw.SoraWidget(duration=4, size='1280x720')\nw"]
                nb = NotebookPage.open(page, server, "bench.ipynb", cells)
                nb.run_cell(0)
                widget = nb.output(0).locator(".sora-widget")
                expect(widget).to_be_visible(timeout=60_000)
                page.evaluate(WATCH)
                for i in range(warmup + runs):
                    prompt = f"click to playable, run {i}"
                    widget.get_by_label("Prompt").fill(prompt)
                    widget.get_by_role("button", name="Generate").click()
                    page.wait_for_function("(n) => window.__playable.length >= n", arg=i + 1, timeout=120_000)
                    playable = page.evaluate("(n) => window.__playable[n - 1]", i + 1)
                    stats = emu.stats()
                    rid = next(r for r, j in stats["jobs"].items() if j["params"]["prompt"] == prompt)
                    completed = stats["jobs"][rid]["completed_at"]
                    if i >= warmup:  # the first run teaches the kernel how long jobs take
                        total.append(playable - completed)
                        detection.append(stats["detected_at"][rid] - completed)
                    time.sleep(0.2)
                browser.close()
        finally:
            server.stop()
    delivery = [t - d for t, d in zip(total, detection, strict=True)]
    extra = {"runs": runs, "p50_s": round(percentile(total, 50), 3), "max_s": round(max(total), 3)}
    return [
        Row("playable", "sora-widget", "COMPLETED → playable, mean", mean(total), "s", "< 1 s", extra),
        Row("playable", "sora-widget", "  of which detection (polling)", mean(detection), "s"),
        Row("playable", "sora-widget", "  of which delivery to the browser", mean(delivery), "s"),
    ]


if __name__ == "__main__":
    from .common import print_table

    print_table(run())
