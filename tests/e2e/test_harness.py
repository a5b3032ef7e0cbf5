"""The harness itself works in both flavours: a kernel runs code, the kernel stays free
for a second cell while a background task runs, and a saved notebook reaches the disk."""

from __future__ import annotations

from .harness import NotebookPage


def test_cells_run_and_the_kernel_stays_free(page, jupyter):
    nb = NotebookPage.open(
        page,
        jupyter,
        "harness.ipynb",
        [
            "print(6 * 7)",
            "import asyncio\nlate = []\nasync def later():\n    await asyncio.sleep(3)\n    late.append(1)\n"
            "task = asyncio.get_running_loop().create_task(later())",
            "print('free while pending:', not task.done(), len(late))",
        ],
    )
    nb.run_cell(0)
    assert "42" in nb.output_text(0)
    nb.run_cell(1)
    nb.run_cell(2)
    assert "free while pending: True 0" in nb.output_text(2)
    saved = nb.save()
    assert "42" in "".join(saved["cells"][0]["outputs"][0]["text"])
