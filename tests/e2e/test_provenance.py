"""Records reach the notebook's own metadata through the notebook extension, and stay
there when outputs are cleared."""

from __future__ import annotations

import json
import re

import jsonschema
from playwright.sync_api import expect

from sora_widget.records import SCHEMA_FILE

from .conftest import FAKE_KEY
from .harness import NotebookPage

MIME = "application/vnd.sora-widget.generation+json"


def test_widget_and_magic_generations_land_in_notebook_metadata(page, jupyter, e2e_emulator):
    e2e_emulator.configure(latency=0.5)
    nb = NotebookPage.open(
        page,
        jupyter,
        "provenance.ipynb",
        [
            "import sora_widget as sw\nw = sw.SoraWidget(duration=4)\nw",
            "%load_ext sora_widget",
            "clip = %sora --wait -d 4 -s landscape a lighthouse at dusk",
            "print(clip.status, clip.request_id)",
        ],
    )
    nb.run_cell(0)
    widget = nb.output(0).locator(".sora-widget")
    expect(widget).to_be_visible(timeout=60_000)
    widget.get_by_label("Prompt").fill("a kite over a beach")
    widget.get_by_role("button", name="Generate").click()
    expect(widget.get_by_text("COMPLETED").first).to_be_visible(timeout=60_000)
    nb.run_cell(1)
    nb.run_cell(2)
    nb.run_cell(3)
    assert re.search(r"COMPLETED \S+", nb.output_text(3))

    saved = nb.save()
    generations = saved["metadata"]["sora_widget"]["generations"]
    assert saved["metadata"]["sora_widget"]["schema_version"] == 1
    prompts = {g["params"]["prompt"]: g for g in generations.values()}
    assert set(prompts) == {"a kite over a beach", "a lighthouse at dusk"}
    assert all(g["status"] == "COMPLETED" for g in generations.values())
    assert all(g["sha256"] and g["video_path"] for g in generations.values())
    cells = saved["cells"]
    assert cells[0]["metadata"]["sora_widget"]["generation_ids"] == [prompts["a kite over a beach"]["id"]]
    assert cells[2]["metadata"]["sora_widget"]["generation_ids"] == [prompts["a lighthouse at dusk"]["id"]]
    schema = json.loads(SCHEMA_FILE.read_text())
    for g in generations.values():
        assert g["notebook"]["cell_id"] in {cells[0]["id"], cells[2]["id"]}
        assert g["notebook"]["path"] == "provenance.ipynb"
        jsonschema.validate(g, schema)  # what the extension wrote is a valid v1 record

    # The record output renders as a provenance strip with the saved clip (the extension's renderer).
    strip = nb.output(2).locator(".sora-widget-records")
    expect(strip).to_contain_text("a lighthouse at dusk")
    expect(strip.locator("video")).to_have_count(1)

    nb.run_command("notebook:clear-all-cell-outputs")
    cleared = nb.save()
    assert all(not c.get("outputs") for c in cleared["cells"])
    assert cleared["metadata"]["sora_widget"]["generations"] == generations
    assert FAKE_KEY not in nb.path.read_text()
