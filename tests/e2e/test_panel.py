"""The Generations panel in JupyterLab 4 and Notebook 7: every generation of the notebook in
focus, live while a job runs, its cell one choice away, its clip playable with no kernel.

The notebook is built from saved records (a completed clip with its file, a failed job), as
a notebook someone worked in is saved; one job runs live on the emulator."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
from playwright.sync_api import expect

from sora_widget.records import SCHEMA_FILE
from sora_widget.video import poster_data_uri

from .harness import NotebookPage, axe_violations

MIME = "application/vnd.sora-widget.generation+json"
NAME = "panel.ipynb"
PANEL = "#sora-widget-generations"
LIVE_PROMPT = "a paper kite over a grey sea"
FILLER = 14  # markdown cells between the saved generations: the first is out of view at the end


def write_clip(path: Path, frames: int = 16) -> None:
    """A small H.264 clip, as a saved generation's file (the emulator is for live jobs)."""
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.time_base = Fraction(1, 8)
        for index in range(frames):
            picture = np.zeros((180, 320, 3), dtype=np.uint8)
            picture[:, : 20 * (index + 1)] = (200, 120, 40)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def saved_record(rid: str, cell: str, status: str, prompt: str, minute: int, **fields: Any) -> dict[str, Any]:
    at = f"2026-03-02T10:{minute:02d}:00.000Z"
    done = f"2026-03-02T10:{minute + 3:02d}:00.000Z"
    record = {
        "schema_version": 1,
        "id": rid,
        "request_id": f"req-{rid}",
        "model": "sora-2",
        "status": status,
        "params": {"prompt": prompt, "duration": 4, "size": "720x1280", "input_reference": None},
        "submitted_at": at,
        "completed_at": done,
        "updated_at": done,
        "status_history": [{"status": "QUEUED", "at": at}, {"status": status, "at": done}],
        "synthetic": True,
        "notebook": {"path": NAME, "cell_id": cell},
        "kind": "clip",
        **fields,
    }
    jsonschema.validate(record, json.loads(SCHEMA_FILE.read_text()))
    return record


def record_output(record: dict[str, Any], poster: str | None) -> Any:
    posters = {record["id"]: poster} if poster else {}
    bundle = {"schema_version": 1, "generations": [record], "posters": posters}
    return nbformat.v4.new_output(
        "display_data", data={MIME: bundle, "text/plain": f"sora-widget {record['id']}: {record['status']}"}
    )


def build_notebook(root: Path) -> tuple[Any, dict[str, dict[str, Any]]]:
    clip = root / "clips" / "lighthouse.mp4"
    write_clip(clip)
    done = saved_record(
        "saved-done",
        "cell-done",
        "COMPLETED",
        "a lighthouse at dusk\nwaves below",
        0,
        video_path="clips/lighthouse.mp4",
        bytes=clip.stat().st_size,
        cost={"usd": 0.4, "source": "api"},
    )
    failed = saved_record(
        "saved-failed",
        "cell-failed",
        "FAILED",
        "a forbidden harbour",
        10,
        error={"type": "GenerationFailed", "message": "FAILED", "detail": "blocked by the content policy"},
        cost={"usd": 0.0, "source": "estimate"},
    )
    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("import sora_widget as sw\n%load_ext sora_widget")
    made = nbformat.v4.new_code_cell('clip = sw.generate("a lighthouse at dusk\\nwaves below", duration=4)')
    made.id, made.execution_count = "cell-done", 2
    made.outputs = [record_output(done, poster_data_uri(clip))]
    notes = "A line of notes.\n\n" * 4
    filler = [nbformat.v4.new_markdown_cell(f"## Notes {i}\n\n{notes}") for i in range(FILLER)]
    refused = nbformat.v4.new_code_cell("%sora -d 4 a forbidden harbour")
    refused.id, refused.execution_count = "cell-failed", 3
    refused.outputs = [record_output(failed, None)]
    live = nbformat.v4.new_code_cell(f"%sora -d 4 {LIVE_PROMPT}")
    nb.cells = [setup, made, *filler, refused, live]
    nb.metadata["sora_widget"] = {"schema_version": 1, "generations": {r["id"]: r for r in (done, failed)}}
    return nb, {"done": done, "failed": failed}


def row(panel: Any, rid: str) -> Any:
    return panel.locator(f'[role="option"][data-id="{rid}"]')


# the cell of that id is the notebook's active cell, and is in the notebook's view
CELL_IN_VIEW = """(id) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    const nb = w.content;
    if (!nb || !nb.widgets) { continue; }
    const i = nb.widgets.findIndex(c => c.model.id === id);
    if (i < 0) { continue; }
    const cell = nb.widgets[i].node.getBoundingClientRect();
    const view = nb.node.getBoundingClientRect();
    return nb.activeCellIndex === i && cell.top < view.bottom && cell.bottom > view.top;
  }
  return false;
}"""


# the record of that id is in the notebook's metadata as completed (the mirror's last write);
# other documents of the main area (JupyterLab's launcher, whose model is no notebook's) are passed
MIRRORED = """(id) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    const model = w.content && w.content.model;
    const section = model && typeof model.getMetadata === 'function' && model.getMetadata('sora_widget');
    const record = section && section.generations && section.generations[id];
    if (record) { return record.status === 'COMPLETED'; }
  }
  return false;
}"""


# The extension's plugins as JupyterLab loaded them (its federated module), each activated as a
# host without a notebook tracker activates it: with null for the optional tracker.
WITHOUT_A_TRACKER = """async () => {
  const plugins = (await window._JUPYTERLAB['sora-widget'].get('./extension'))().default;
  const app = window.jupyterapp;
  const before = [...app.shell.widgets('right')].length;
  const requires = plugins.flatMap(p => (p.requires || []).map(token => token.name));
  const activated = [];
  for (const plugin of plugins) {
    await plugin.activate(app, null);
    activated.push(plugin.id);
  }
  return {requires, activated, added: [...app.shell.widgets('right')].length - before};
}"""


def expected_totals(records: list[dict[str, Any]]) -> str:
    clips = [r for r in records if r.get("kind", "clip") == "clip"]
    done = sum(r["status"] == "COMPLETED" for r in clips)
    failed = sum(r["status"] in ("FAILED", "EXPIRED") for r in clips)
    usd = sum(r["cost"]["usd"] for r in clips if r.get("cost"))
    estimated = sum(r["cost"]["usd"] for r in clips if r.get("cost") and r["cost"]["source"] == "estimate")
    text = f"{done} {'clip' if done == 1 else 'clips'} · {failed} failed · ${usd:.2f} spent"
    if estimated > 0:
        text += " (estimated)" if estimated == usd else f" (${estimated:.2f} of it estimated)"
    return text


def test_the_panel_lists_follows_and_plays_generations(page, jupyter, e2e_emulator, screenshots_dir):
    e2e_emulator.configure(latency=4.0)
    errors: list[str] = []

    def console(msg: Any) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", console)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=jupyter.base_url)
    notebook, saved = build_notebook(jupyter.root_dir)
    nb = NotebookPage.open(page, jupyter, NAME, [], notebook=notebook)
    live_index = len(notebook.cells) - 1

    if jupyter.flavour == "lab":
        # Where a host has no notebook tracker (Voilà), the plugins start and do nothing.
        alone = page.evaluate(WITHOUT_A_TRACKER)
        plugins = ["sora-widget:records", "sora-widget:generations"]
        assert alone == {"requires": [], "activated": plugins, "added": 0}

    # Opened as a person opens it: its tab in JupyterLab's sidebar, the View menu in Notebook 7.
    if jupyter.flavour == "lab":
        page.locator(".jp-SideBar .lm-TabBar-tab", has_text="Generations").click()
    else:
        page.get_by_role("menuitem", name="View").click()
        page.locator(".lm-Menu-item", has_text="Right Sidebar").hover()
        page.locator(".lm-Menu-item", has_text="Show Generations").click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible(timeout=30_000)
    rows = panel.get_by_role("listbox", name="Generations").get_by_role("option")
    expect(rows).to_have_count(2)
    expect(row(panel, "saved-done")).to_contain_text("a lighthouse at dusk")
    expect(row(panel, "saved-done").locator("img")).to_have_attribute("src", re.compile("^data:image/jpeg"))
    expect(row(panel, "saved-failed")).to_contain_text("FAILED")

    # One job runs live: its row comes at once and changes as the kernel's records reach the notebook.
    nb.run_cell(0)
    nb.run_cell(live_index)
    expect(rows).to_have_count(3, timeout=30_000)
    live = rows.filter(has_text=LIVE_PROMPT)
    expect(live).to_have_attribute("data-status", re.compile("SUBMITTING|QUEUED|PROCESSING"))
    live_id = live.get_attribute("data-id")
    assert live_id and live_id not in saved

    # While it runs, the keyboard: the rows are a listbox moved through with the arrows; Enter
    # chooses one, and its cell (at the top, scrolled away by the live run) is selected and
    # scrolled into view, the focus staying in the panel.
    assert not page.evaluate(CELL_IN_VIEW, "cell-done")
    rows.first.focus()
    seen = [page.evaluate("() => document.activeElement.dataset.id")]
    while seen[-1] != "saved-done" and len(seen) <= 3:
        page.keyboard.press("ArrowDown")
        seen.append(page.evaluate("() => document.activeElement.dataset.id"))
    assert seen == [live_id, "saved-failed", "saved-done"]  # newest first
    page.keyboard.press("Enter")
    expect(row(panel, "saved-done")).to_have_attribute("aria-selected", "true")
    page.wait_for_function(CELL_IN_VIEW, arg="cell-done", timeout=10_000, polling=100)
    assert page.evaluate("() => document.activeElement.dataset.id") == "saved-done"

    # Copy the request id and the code that makes it again.
    detail = panel.locator(".sora-widget-gen-detail")
    detail.get_by_role("button", name="Copy request id").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == "req-saved-done"
    detail.get_by_role("button", name="Copy code").click()
    code = page.evaluate("() => navigator.clipboard.readText()")
    assert 'sw.generate(\n    "a lighthouse at dusk\\nwaves below",\n    duration=4,\n' in code

    assert axe_violations(page, PANEL) == []
    panel.get_by_label("Status").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-id", "saved-failed")
    panel.get_by_label("Status").select_option("")

    # Done: the totals are the records' (as saved in the notebook).
    expect(live).to_have_attribute("data-status", "COMPLETED", timeout=60_000)
    page.wait_for_function(MIRRORED, arg=live_id, timeout=10_000, polling=100)
    records = list(nb.save()["metadata"]["sora_widget"]["generations"].values())
    assert len(records) == 3
    expect(panel.locator(".sora-widget-gen-totals")).to_have_text(expected_totals(records))

    # With the kernel shut down, the live clip plays in the panel, served from the notebook's folder.
    nb.shutdown_kernel()
    live.focus()
    page.keyboard.press("Enter")
    video = detail.locator("video")
    expect(video).to_have_count(1)
    page.wait_for_function(
        "v => v.readyState >= 2 && !v.paused && v.currentTime > 0",
        arg=video.element_handle(),
        timeout=30_000,
        polling=100,
    )
    assert "/files/" in video.evaluate("v => v.currentSrc")

    # A clip whose file changed is marked, plainly.
    clip = jupyter.root_dir / "clips" / "lighthouse.mp4"
    with clip.open("ab") as handle:
        handle.write(b"\0" * 10)
    row(panel, "saved-done").click()
    badge = row(panel, "saved-done").locator(".sora-widget-gen-badge")
    expect(badge).to_have_text(re.compile("file differs"))

    if jupyter.flavour == "lab" and screenshots_dir is not None:
        live.click()
        page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=30_000)
        video.evaluate("v => { v.pause(); v.currentTime = 1.5; }")
        page.wait_for_timeout(500)  # the seek's frame drawn, for the picture only
        nb.run_command("application:toggle-left-area")  # the notebook and the panel side by side
        page.screenshot(path=str(screenshots_dir / "panel.png"))
        nb.run_command("application:toggle-left-area")
        # the theme switch costs seconds, so the dark theme is checked where pictures are taken
        nb.set_theme(dark=True)
        assert axe_violations(page, PANEL) == []
        nb.set_theme(dark=False)

    page.remove_listener("console", console)
    ours = [e for e in errors if "sora" in e.lower() or "comm" in e.lower()]
    assert ours == []
    page.evaluate("() => window.jupyterapp.shell.collapseRight()")  # the next tests' notebooks at full width
