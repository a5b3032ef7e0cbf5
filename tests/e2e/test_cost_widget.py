"""The widget's model choice, estimate and budget in JupyterLab 4 and Notebook 7: sizes
follow the model, the estimate follows the choices, and over budget Generate says why."""

from __future__ import annotations

from playwright.sync_api import expect

from .harness import NotebookPage


def test_model_sizes_estimate_and_budget(page, jupyter):
    nb = NotebookPage.open(
        page,
        jupyter,
        "cost.ipynb",
        [
            "import sora_widget as sw\nsw.configure(budget_usd=1.0)\n"
            "w = sw.SoraWidget(prompt='a kite', duration=8)\nw"
        ],
    )
    nb.run_cell(0)
    widget = nb.output(0).locator(".sora-widget")
    generate = widget.get_by_role("button", name="Generate")
    expect(generate).to_be_visible(timeout=60_000)
    expect(widget.get_by_text("≈ $0.80 · sora-2 · 8 s", exact=True)).to_be_visible()
    expect(widget.get_by_text("Landscape HD")).to_have_count(0)
    expect(generate).to_be_enabled()

    widget.get_by_label("Model").select_option("sora-2-pro")
    expect(widget.get_by_text("Landscape HD")).to_be_visible()
    expect(widget.get_by_text("≈ $2.40 · sora-2-pro · 8 s", exact=True)).to_be_visible()
    expect(generate).to_be_disabled()
    expect(widget.get_by_text("Over budget: this clip ≈ $2.40")).to_be_visible()

    widget.get_by_role("radio", name="4 s").check()
    expect(widget.get_by_text("≈ $1.20 · sora-2-pro · 4 s", exact=True)).to_be_visible()
    expect(generate).to_be_disabled()

    widget.get_by_label("Model").select_option("sora-2")
    expect(widget.get_by_text("≈ $0.40 · sora-2 · 4 s", exact=True)).to_be_visible()
    expect(generate).to_be_enabled()
