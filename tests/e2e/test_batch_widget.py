"""sw.generate_many in a real JupyterLab 4 and Notebook 7: the batch gallery shows every
item's status as it goes, and the progress header reaches 100 %."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import BLOCK_WORD
from .harness import NotebookPage

PROMPTS = ["a red kite over dunes", f"a {BLOCK_WORD} harbour", "rain on a tin roof", "a paper lantern"]


def test_the_batch_gallery_follows_every_item_to_the_end(page, jupyter, e2e_emulator):
    e2e_emulator.configure(latency=1.5)
    nb = NotebookPage.open(
        page,
        jupyter,
        "batch.ipynb",
        [
            f"import sora_widget as sw\nclips = sw.generate_many({PROMPTS!r}, duration=4, concurrency=2)",
            "print(clips.summary())",
        ],
    )
    nb.run_cell(0, wait=False)
    widget = nb.output(0).locator(".sora-widget")
    bar = widget.get_by_role("progressbar", name="Batch progress")
    expect(bar).to_be_visible(timeout=60_000)
    items = widget.locator(".sw-gallery-list > li")
    expect(items).to_have_count(4)
    # while it runs: some items wait their turn (two at a time), none is done
    expect(items.filter(has_text=re.compile("PENDING|SUBMITTING|QUEUED|PROCESSING")).first).to_be_visible()

    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    expect(widget.get_by_text("4 of 4 done · 3 completed · 1 failed", exact=True)).to_be_visible()
    statuses = [items.nth(i).get_attribute("data-status") for i in range(4)]
    assert statuses == ["COMPLETED", "FAILED", "COMPLETED", "COMPLETED"]
    for i, prompt in enumerate(PROMPTS):
        expect(items.nth(i)).to_contain_text(prompt)
    expect(items.nth(1)).to_contain_text("Generation failed")

    # a finished item plays when chosen (clips are fetched only then)
    stage = widget.locator(".sw-stage")
    expect(stage).to_be_hidden()
    items.nth(0).get_by_role("button").click()
    expect(stage).to_be_visible()
    expect(stage.locator("video")).to_have_attribute("src", re.compile("^blob:"), timeout=30_000)

    nb.wait_cell(0)
    nb.run_cell(1)
    assert "3 of 4 completed, 1 failed" in nb.output_text(1)
    # the record output beside the widget holds the four final records
    expect(nb.output(0).get_by_text(re.compile("sora-widget|COMPLETED")).first).to_be_attached()
