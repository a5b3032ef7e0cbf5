"""Widget flows beyond the happy path: no key, stopping and resuming a wait, and a
local reference image picked with the file chooser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .harness import NotebookPage


def open_cells(page, jupyter, name, cells):
    nb = NotebookPage.open(page, jupyter, name, cells)
    nb.run_cell(0)
    widget = nb.output(0).locator(".sora-widget")
    expect(widget.get_by_role("button", name="Generate")).to_be_visible(timeout=60_000)
    return nb, widget


def test_without_a_key_the_widget_says_how_and_offers_the_emulator(page, jupyter):
    nb, widget = open_cells(
        page,
        jupyter,
        "nokey.ipynb",
        [
            "import os\nfor name in ('SEGMIND_API_KEY', 'SEGMIND_BASE_URL'):\n"
            "    os.environ.pop(name, None)\n"
            "import sora_widget as sw\nw = sw.SoraWidget(prompt='a quiet harbour at dawn', duration=4)\nw",
            "print(sorted((g.status, g.synthetic) for g in w.generations))",
        ],
    )
    expect(widget.get_by_text("SEGMIND_API_KEY").first).to_be_visible()
    widget.get_by_role("button", name="Use local emulator").click()
    expect(widget.get_by_text(re.compile("synthetic", re.IGNORECASE)).first).to_be_visible(timeout=60_000)
    widget.get_by_role("button", name="Generate").click()
    expect(widget.get_by_text("COMPLETED").first).to_be_visible(timeout=90_000)
    expect(widget.locator("video").first).to_be_attached()
    nb.run_cell(1)
    assert "[('COMPLETED', True)]" in nb.output_text(1)


def test_stop_waiting_is_honest_and_resume_collects_the_clip(page, jupyter, e2e_emulator):
    # the submit itself takes 3 s: long enough to see that it is not offered for cutting off
    e2e_emulator.configure(latency=6.0, chaos_delay=3.0, chaos_endpoints=("submit",))
    nb, widget = open_cells(
        page,
        jupyter,
        "detach.ipynb",
        [
            "import sora_widget as sw\nw = sw.SoraWidget(prompt='a slow tide', duration=4)\nw",
            "print(len(sw.pending()), [g.status for g in w.generations])",
        ],
    )
    widget.get_by_role("button", name="Generate").click()
    expect(widget.get_by_text("Finishing the submit").first).to_be_visible(timeout=30_000)
    stop = widget.get_by_role("button", name="Stop waiting")
    expect(stop).to_have_count(0)
    expect(stop).to_be_visible(timeout=30_000)
    e2e_emulator.configure(chaos_delay=0.0)
    stop.click()
    expect(widget.get_by_text(re.compile("keeps running on the server", re.IGNORECASE)).first).to_be_visible()
    nb.run_cell(1)
    assert nb.output_text(1).startswith("1 ")  # the ledger still knows the job: resumable
    e2e_emulator.configure(latency=0.5)
    widget.get_by_role("button", name="Resume").click()
    expect(widget.get_by_text("COMPLETED").first).to_be_visible(timeout=60_000)
    expect(widget.locator("video").first).to_be_attached(timeout=30_000)
    assert e2e_emulator.stats()["submits"] >= 1


def test_a_local_reference_image_is_uploaded_and_used(page, jupyter, e2e_emulator, tmp_path):
    e2e_emulator.configure(latency=0.5)
    from PIL import Image

    image = tmp_path / "reference.png"
    Image.new("RGB", (64, 36), (240, 120, 20)).save(image)
    nb, widget = open_cells(
        page,
        jupyter,
        "reference.ipynb",
        [
            "import sora_widget as sw\nw = sw.SoraWidget(prompt='the sun over a calm sea', duration=4)\nw",
            "g = w.generations[0]\n"
            "print(g.status, g.params.input_reference.split('/assets/')[0].startswith('http'))",
        ],
    )
    with page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Choose image…").click()
    chooser.value.set_files(str(image))
    expect(widget.get_by_role("button", name="Remove")).to_be_visible(timeout=30_000)
    expect(widget.get_by_label("Reference image")).to_have_value(re.compile("/assets/"), timeout=30_000)
    widget.get_by_role("button", name="Generate").click()
    expect(widget.get_by_text("COMPLETED").first).to_be_visible(timeout=60_000)
    nb.run_cell(1)
    assert "COMPLETED True" in nb.output_text(1)
    assert e2e_emulator.stats()["requests"].get("upload", 0) >= 1
