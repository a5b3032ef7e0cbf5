"""The widget's controls follow the model, and its keys stay in it, in a real JupyterLab 4
and Notebook 7 against the emulator: from Sora 2 to Veo 3.1 Fast the fields change and a
clip with a first and a last frame is made and recorded; arrows, Enter and Escape do what
they do in the widget and never move the notebook."""

from __future__ import annotations

import base64
import io
import re

from playwright.sync_api import expect

from .harness import NotebookPage

MIME = "application/vnd.sora-widget.generation+json"

# which cell the notebook has active, and in which mode (a key that leaked to it changes these)
ACTIVE_CELL = """(name) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === name) { return [w.content.activeCellIndex, w.content.mode]; }
  }
  return null;
}"""


def png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 36), color).save(out, format="PNG")
    return out.getvalue()


def open_widget(page, jupyter, name: str, cells: list[str]):
    nb = NotebookPage.open(page, jupyter, name, cells)
    nb.run_cell(0)
    widget = nb.output(0).locator(".sora-widget")
    expect(widget.get_by_role("button", name="Generate")).to_be_visible(timeout=60_000)
    return nb, widget


def test_veo_fields_replace_soras_and_a_clip_with_a_first_and_a_last_frame_is_recorded(
    page, jupyter, e2e_emulator, tmp_path
):
    e2e_emulator.configure(latency=0.5)
    nb, widget = open_widget(
        page,
        jupyter,
        "veo.ipynb",
        ["import sora_widget as sw\nw = sw.SoraWidget(prompt='a kite over the dunes', duration=4)\nw"],
    )
    expect(widget.get_by_role("radiogroup", name="Size")).to_be_visible()
    expect(widget.get_by_label("Reference image")).to_be_visible()

    widget.get_by_label("Model").select_option("veo-3.1-fast")
    expect(widget.get_by_role("radiogroup", name="Size")).to_have_count(0)
    expect(widget.get_by_label("Reference image")).to_have_count(0)
    for name in ("Aspect ratio", "Resolution"):
        expect(widget.get_by_role("radiogroup", name=name)).to_be_visible()
    durations = widget.get_by_role("radiogroup", name="Duration").get_by_role("radio")
    expect(durations).to_have_count(3)
    assert [durations.nth(i).get_attribute("value") for i in range(3)] == ["4", "6", "8"]
    expect(widget.get_by_role("switch", name="Sound")).to_be_checked()
    expect(widget.get_by_role("spinbutton", name="Seed")).to_be_visible()
    first, last = widget.locator('[data-field="first_frame"]'), widget.locator('[data-field="last_frame"]')
    expect(widget.get_by_text("≈ $0.60 · veo-3.1-fast · 4 s", exact=True)).to_be_visible()  # $0.15 a second

    # the first frame as a data URI, the last one a local file uploaded for its own field
    first.get_by_label("First frame").fill(
        "data:image/png;base64," + base64.b64encode(png((20, 90, 200))).decode()
    )
    image = tmp_path / "end.png"
    image.write_bytes(png((240, 120, 20)))
    with page.expect_file_chooser() as chooser:
        last.get_by_role("button", name="Choose image…").click()
    chooser.value.set_files(str(image))
    expect(last.get_by_label("Last frame")).to_have_value(re.compile("/assets/"), timeout=30_000)
    widget.get_by_role("spinbutton", name="Seed").fill("7")
    widget.get_by_role("radio", name="9:16 portrait").check()
    widget.get_by_role("button", name="Generate").click()

    expect(widget.locator(".sw-card").get_by_text("COMPLETED").first).to_be_visible(timeout=90_000)
    card = widget.locator(".sw-card").first
    expect(card.get_by_text("Last frame", exact=True)).to_be_visible()
    saved = nb.save()
    records = [
        g
        for o in saved["cells"][0]["outputs"]
        for g in (o.get("data", {}).get(MIME) or {}).get("generations", [])
    ]
    assert len(records) == 1, records
    record = records[0]
    assert record["status"] == "COMPLETED" and record["model"] == "veo-3.1-fast"
    assert record["request_id"] in e2e_emulator.stats()["jobs"]
    p = record["params"]
    assert p["input_reference"].startswith("data:image/png;base64,")
    assert "/assets/" in p["last_frame"]
    assert (p["duration"], p["aspect_ratio"], p["resolution"], p["seed"], p["size"]) == (
        4,
        "9:16",
        "720p",
        7,
        "720x1280",
    )

    # the card offers to end the next clip on this one's last frame (Veo has a last frame)
    card.get_by_role("button", name="End on this frame").click()
    expect(last.get_by_label("Last frame")).not_to_have_value(p["last_frame"], timeout=60_000)
    expect(last.get_by_label("Last frame")).to_have_value(re.compile("/assets/"))


def test_keys_in_the_widget_work_there_and_never_reach_the_notebook(page, jupyter):
    nb, widget = open_widget(
        page,
        jupyter,
        "keys.ipynb",
        [
            "import sora_widget as sw\nw = sw.SoraWidget(prompt='a kite', duration=8)\nw",
            "print(w.duration, w.model)",
        ],
    )
    eight = widget.get_by_role("radio", name="8 s")
    eight.focus()  # the widget's cell becomes the active one
    active = page.evaluate(ACTIVE_CELL, nb.name)
    page.keyboard.press("ArrowDown")  # the next duration, not the next cell
    expect(widget.get_by_role("radio", name="12 s")).to_be_checked()
    expect(widget.get_by_role("radio", name="12 s")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(eight).to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(widget.get_by_role("radio", name="12 s")).to_be_checked()

    menu = widget.get_by_label("Model")
    menu.focus()
    page.keyboard.press("ArrowDown")  # the next model in the menu
    expect(menu).to_have_value("sora-2-pro")
    expect(widget.get_by_role("radio", name=re.compile("Landscape HD"))).to_be_visible()

    # Enter and Space press a button (Enter in the notebook's command mode would edit the cell)
    reference = widget.get_by_label("Reference image")
    for key in ("Enter", " "):
        reference.fill("https://img.example.com/a.png")
        widget.get_by_role("button", name="Remove").focus()
        page.keyboard.press(key)
        expect(reference).to_have_value("")

    assert page.evaluate(ACTIVE_CELL, nb.name) == active  # no key moved the notebook
    nb.run_cell(1)
    assert "12 sora-2-pro" in nb.output_text(1)  # and each choice reached the kernel
