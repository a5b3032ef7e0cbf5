"""Run All in the real UI: a widget job, a blocking `sw.generate` and a waiting `%sora`
queued in one go. Every cell must run (ipykernel 7 with the archived nest_asyncio ran
only the first), and every record must reach the notebook's metadata."""

from __future__ import annotations

from .harness import NotebookPage

CELLS = [
    "import sora_widget as sw\nw = sw.SoraWidget(prompt='a widget clip', duration=4)\ndisplay(w)\n"
    "job = w.start()",
    "%load_ext sora_widget",
    "clip = sw.generate('a blocking clip', duration=4)\nprint('generate', clip.status)",
    "magic = %sora --wait -d 4 a magic clip",
    "print('last cell ran', 6 * 7, magic.status)",
]


def test_run_all_runs_every_cell_and_records_every_generation(page, jupyter, e2e_emulator):
    e2e_emulator.configure(latency=0.5)
    nb = NotebookPage.open(page, jupyter, "run-all.ipynb", CELLS)
    nb.run_command("notebook:run-all-cells")
    last = len(CELLS) - 1
    nb.wait_cell(last, timeout=180_000)
    for index in range(len(CELLS)):
        assert "Error" not in nb.output_text(index), nb.output_text(index)
    assert "generate COMPLETED" in nb.output_text(2)
    assert "last cell ran 42 COMPLETED" in nb.output_text(last)

    # the widget's job may end after the last cell: wait for it in the kernel
    nb.set_source(last, "await w.wait_for(job.id)\nprint('widget', w.generations[0].status)")
    nb.run_cell(last)
    assert "widget COMPLETED" in nb.output_text(last)

    saved = nb.save()
    generations = saved["metadata"]["sora_widget"]["generations"]
    prompts = {g["params"]["prompt"]: g["status"] for g in generations.values()}
    assert prompts == {
        "a widget clip": "COMPLETED",
        "a blocking clip": "COMPLETED",
        "a magic clip": "COMPLETED",
    }
