# sora-widget in marimo: `marimo edit notebooks/marimo_quickstart.py` (or `marimo run …`).
# Without SEGMIND_API_KEY everything runs on the local emulator: synthetic clips, offline, free.
# marimo keeps no outputs or metadata in this file: every generation's record is in the
# ledger (sora-outputs/ledger.sqlite), each naming this file: run marimo from this folder,
# then `sora-widget export marimo_quickstart.py -o page.html` makes a page of them.
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    import sora_widget as sw

    backend = sw.connect()  # Segmind when SEGMIND_API_KEY is set; otherwise the local emulator
    mo.md(backend)
    return mo, sw


@app.cell
def _(mo, sw):
    # Press Generate: the clip plays in the widget, and its record is drawn beneath it.
    widget = sw.SoraWidget(
        prompt="A paper boat drifting down a rainy street at dusk", duration=4, size="landscape"
    )
    mo.ui.anywidget(widget)
    return (widget,)


@app.cell
def _(mo):
    make_batch = mo.ui.run_button(label="Make two clips")
    make_batch  # noqa: B018 - a cell shows its last expression
    return (make_batch,)


@app.cell
def _(make_batch, mo, sw):
    # A batch shows a gallery of its items as they go; it runs only when asked (a real key bills it).
    mo.stop(not make_batch.value, mo.md("Press **Make two clips** for a batch of two, shown as a gallery."))
    batch = sw.generate_many(
        ["A lighthouse at dusk, waves against the rocks", "A kite over a windy beach"],
        duration=4,
        size="landscape",
    )
    return (batch,)


if __name__ == "__main__":
    app.run()
