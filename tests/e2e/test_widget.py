"""The widget in a real JupyterLab 4 and Notebook 7, generating against the emulator."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import BLOCK_WORD, FAKE_KEY
from .harness import NotebookPage

WIDGET_CELLS = [
    "import sora_widget as sw\nw = sw.SoraWidget()\nw",
    "import time\nprint('kernel answered at', round(time.time(), 3))",
    "print(sorted(g.status for g in w.generations))",
]


def open_widget(page, jupyter, name):
    nb = NotebookPage.open(page, jupyter, name, WIDGET_CELLS)
    nb.run_cell(0)
    widget = nb.output(0).locator(".sora-widget")
    expect(widget).to_be_visible(timeout=60_000)
    expect(widget.get_by_role("button", name="Generate")).to_be_visible()
    return nb, widget


def video_state(video):
    return video.evaluate(
        "v => ({ready: v.readyState, duration: v.duration, width: v.videoWidth, height: v.videoHeight,"
        " src: v.currentSrc})"
    )


def test_generate_a_landscape_clip_while_the_kernel_stays_free(page, jupyter, e2e_emulator, screenshots_dir):
    e2e_emulator.configure(latency=4.0)
    nb, widget = open_widget(page, jupyter, "widget.ipynb")
    widget.get_by_label("Prompt").fill("A paper boat drifting down a rainy street at dusk")
    widget.get_by_role("radio", name=re.compile("Landscape")).check()
    widget.get_by_role("radio", name="4 s").check()
    widget.get_by_role("button", name="Generate").click()

    expect(widget.get_by_text(re.compile(r"QUEUED|PROCESSING")).first).to_be_visible(timeout=30_000)
    nb.run_cell(1)  # the kernel answers while the job runs on its loop
    assert "kernel answered at" in nb.output_text(1)
    expect(widget.get_by_text(re.compile(r"QUEUED|PROCESSING")).first).to_be_visible()

    video = widget.locator("video").first
    expect(video).to_be_attached(timeout=90_000)
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=60_000, polling=100)
    state = video_state(video)
    assert state["width"] == 1280 and state["height"] == 720
    assert abs(state["duration"] - 4.0) < 0.1
    assert state["src"].startswith("blob:")
    expect(widget.get_by_text("COMPLETED").first).to_be_visible()

    nb.run_cell(2)
    assert "['COMPLETED']" in nb.output_text(2)

    saved = nb.save()
    outputs = saved["cells"][0]["outputs"]
    records = [
        o["data"]["application/vnd.sora-widget.generation+json"]
        for o in outputs
        if "application/vnd.sora-widget.generation+json" in o.get("data", {})
    ]
    assert records, f"no record output in {outputs}"
    generation = records[0]["generations"][0]
    assert generation["status"] == "COMPLETED"
    assert generation["request_id"] in e2e_emulator.stats()["jobs"]
    assert generation["params"] == {
        "prompt": "A paper boat drifting down a rainy street at dusk",
        "duration": 4,
        "size": "1280x720",
        "input_reference": None,
    }
    assert FAKE_KEY not in nb.path.read_text()

    if jupyter.flavour == "lab" and screenshots_dir is not None:
        page.set_viewport_size({"width": 1100, "height": 2400})  # the whole widget in view
        widget.scroll_into_view_if_needed()
        # the player shows Chromium's controls once the clip is loaded, so no loading spinner
        # is drawn over it (player.ts)
        page.wait_for_function(
            "v => v.readyState >= 4 && v.controls", arg=video.element_handle(), timeout=30_000, polling=100
        )
        widget.screenshot(path=str(screenshots_dir / "widget-light.png"))
        nb.set_theme(dark=True)
        widget.screenshot(path=str(screenshots_dir / "widget-dark.png"))
        nb.set_theme(dark=False)


def test_a_blocked_prompt_shows_failed_with_the_servers_reason(page, jupyter, e2e_emulator):
    e2e_emulator.configure(latency=0.5)
    nb, widget = open_widget(page, jupyter, "blocked.ipynb")
    widget.get_by_label("Prompt").fill(f"a {BLOCK_WORD} scene")
    widget.get_by_role("radio", name="4 s").check()
    widget.get_by_role("button", name="Generate").click()
    expect(widget.get_by_text("FAILED").first).to_be_visible(timeout=60_000)
    expect(widget.get_by_text(re.compile("content policy", re.IGNORECASE)).first).to_be_visible()
    nb.run_cell(2)
    assert "['FAILED']" in nb.output_text(2)


def test_html_in_a_prompt_is_shown_literally_and_never_runs(page, jupyter, e2e_emulator):
    e2e_emulator.configure(latency=0.5)
    _nb, widget = open_widget(page, jupyter, "literal.ipynb")
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> a calm sea'
    widget.get_by_label("Prompt").fill(hostile)
    widget.get_by_role("radio", name="4 s").check()
    widget.get_by_role("button", name="Generate").click()
    expect(widget.get_by_text("COMPLETED").first).to_be_visible(timeout=60_000)
    expect(widget.get_by_text(hostile).first).to_be_visible()
    assert widget.locator("img[src='x'], script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
