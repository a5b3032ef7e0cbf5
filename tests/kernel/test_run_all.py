"""Run All against a real kernel: several execute requests at once, the first a blocking
call. nbclient sends a cell only after the previous one replied, so it never shows what
a frontend's Run All does — cells queued behind a blocking call on the kernel's loop.

On ipykernel 7 with the archived nest_asyncio, only the first cell ran: the nested loop
picked up the next cell's step in an already-entered context and dropped it.
"""

from __future__ import annotations

import re

import pytest

from ..kernels import CellRun, KernelSession

#: what a dropped cell left in the first cell's output
REENTRY_ERRORS = re.compile(
    r"cannot enter context|Task was destroyed but it is pending|was never awaited|RuntimeError"
)

SETUP = "import sora_widget as sw"


def assert_all_ran(runs: list[CellRun], last_prints: str) -> None:
    statuses = [run.status for run in runs]
    assert statuses == ["ok"] * len(runs), "\n---\n".join(run.text for run in runs)
    for run in runs:
        assert not REENTRY_ERRORS.search(run.text), run.text
    assert runs[-1].text.strip().endswith(last_prints), runs[-1].text


# One case per blocking helper: the cells Run All would queue behind it.
CASES = {
    "generate": ["clip = sw.generate('a fox in snow', duration=4)\nprint(clip.status)"],
    "generate_many": [
        "clips = sw.generate_many(['a heron', 'a kite'], duration=4, show=False)\nprint(clips.summary())"
    ],
    "replay": [
        "first = sw.generate('a lighthouse', duration=4)",
        "again = sw.replay(first)\nprint(again.status, again.replay_of == first.id)",
    ],
    "resume": [
        # not blocking: submit and leave the job pending, as a restarted kernel would
        "c = sw.AsyncSoraClient()\nleft = await c.submit('a paper boat', duration=4)\nawait c.aclose()",
        "done = sw.resume(left.request_id, timeout=120)\nprint(done.status)",
    ],
    "magic --wait": ["%load_ext sora_widget", "clip = %sora --wait -d 4 a red kite\nprint(clip.status)"],
    "magic job.result()": [
        "%load_ext sora_widget",
        "job = %sora --no-wait -d 4 a grey heron",
        "clip = job.result()\nprint(clip.status)",
    ],
    "%sora_wait": [
        "%load_ext sora_widget",
        "job = %sora --no-wait -d 4 a fox",
        "%sora_wait",
    ],
    "%sora_resume": [
        "c = sw.AsyncSoraClient()\nleft = await c.submit('rain on a tin roof', duration=4)\nawait c.aclose()",
        "%load_ext sora_widget",
        "%sora_resume",
    ],
}


@pytest.mark.parametrize("case", list(CASES))
def test_cells_queued_behind_a_blocking_call_all_run(kernel: KernelSession, case: str) -> None:
    cells = [SETUP, *CASES[case], "after = 41", "print('next cell ran', after + 1)"]
    runs = kernel.run_all(cells, timeout=180)
    assert_all_ran(runs, "next cell ran 42")


def test_a_widget_job_keeps_progressing_during_a_blocking_call(kernel: KernelSession) -> None:
    cells = [
        SETUP,
        "w = sw.SoraWidget(duration=4)\njob = w.start('a widget job')",
        # two clips one after the other: longer than the widget's single job
        "a = sw.generate('first blocking clip', duration=4)\n"
        "b = sw.generate('second blocking clip', duration=4)\n"
        "print('widget job at the end of the blocking cell:', w.generations[0].status)",
        "print('next cell ran', 42)",
    ]
    runs = kernel.run_all(cells, timeout=180)
    assert_all_ran(runs, "next cell ran 42")
    assert "widget job at the end of the blocking cell: COMPLETED" in runs[2].text


def test_every_way_of_generating_in_a_kernel_shares_one_client(kernel: KernelSession) -> None:
    cells = [
        SETUP + "\n%load_ext sora_widget\nimport asyncio\n"
        "shared = sw.api.shared_client()\nbefore = shared.requester.sent.get('submit', 0)",
        "clip = sw.generate('one client: generate', duration=4)",
        "magic = %sora --wait -d 4 one client: magic",
        "clips = sw.generate_many(['one client: batch'], duration=4, show=False)",
        "w = sw.SoraWidget(duration=4)\njob = w.start('one client: widget')\nawait w.wait_for(job.id)",
        "clients = sw.api._shared[asyncio.get_running_loop()]\n"
        "print('clients:', len(clients), 'widget uses it:', w.client is shared, "
        "'submits through it:', shared.requester.sent.get('submit', 0) - before)",
    ]
    runs = kernel.run_all(cells, timeout=240)
    assert_all_ran(runs, "submits through it: 4")
    assert "clients: 1 widget uses it: True" in runs[-1].text
