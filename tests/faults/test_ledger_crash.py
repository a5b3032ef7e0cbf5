"""The ledger under the worst a process can do: killed (SIGKILL) at any point of a write,
and written by several processes at once. Real processes, real SQLite files."""

from __future__ import annotations

import os
import random
import signal
import time
import traceback
from pathlib import Path
from typing import IO

from sora_widget.ledger import Ledger
from sora_widget.params import GenerationParams
from sora_widget.records import Generation


def _write(directory: Path, tag: str, count: int, out: int) -> None:
    """A writer's whole life: generations written as a submit writes them (a row before the
    POST, then its request id), each request id printed on `out` once `append` has returned,
    the moment the ledger promised it."""
    ledger = Ledger.in_dir(directory)
    with os.fdopen(out, "w") as promises:
        for i in range(count):
            g = Generation(id=f"{tag}-{i}", params=GenerationParams("p" * 500))
            ledger.append("submitting", g)
            g.request_id = f"req-{tag}-{i}"
            g.set_status("QUEUED")
            ledger.append("submitted", g)
            promises.write(g.request_id + "\n")
            promises.flush()


def _forked_writer(directory: Path, tag: str, count: int = 100_000) -> tuple[int, IO[str]]:
    """A writer process, forked rather than started: 50 interpreters each importing the
    package cost seconds of CPU, and a SIGKILL ends a forked child just as abruptly (it holds
    no lock or connection of ours: the parent's ledger is closed whenever it forks)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write until killed, never return into pytest
        status = 0
        try:
            os.close(read_end)
            _write(directory, tag, count, write_end)
        except BaseException:
            traceback.print_exc()  # a writer's own failure shows, and exits 1
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, os.fdopen(read_end)


def test_a_process_killed_mid_write_never_loses_a_promised_request_id(tmp_path):
    rng = random.Random(7)
    promised: list[str] = []
    for run in range(50):
        pid, promises = _forked_writer(tmp_path, f"r{run}")
        with promises:
            # The kill must land mid-write, not before the first row: wait for the first
            # promise, then let it write for a random while before the kill.
            first = promises.readline()
            assert first, f"writer {run} exited before writing"
            promised.append(first.strip())
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(pid, signal.SIGKILL)
            promised += promises.read().split()  # printed before the kill landed: promised too
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (run, status)
        # the next process opens the database as it was left, and finds every promised id
        ledger = Ledger.in_dir(tmp_path)
        for request_id in promised[-60:]:
            assert ledger.get(request_id) is not None, (run, request_id)
        ledger.close()
    final = Ledger.in_dir(tmp_path)
    known = {r.request_id for r in final.records().values()}
    assert set(promised) <= known
    # the kills landed mid-loop: most runs promised more than their first row
    assert len(promised) > 2 * 50


def test_two_processes_writing_a_thousand_events_each_lose_none(tmp_path):
    writers = [_forked_writer(tmp_path, tag, 500) for tag in ("left", "right")]
    for pid, promises in writers:
        with promises:
            assert len(promises.read().split()) == 500
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    ledger = Ledger.in_dir(tmp_path)
    assert ledger.stats()["events"] == 2 * 1000  # 500 generations × 2 events, per process
    records = ledger.records()
    assert len(records) == 1000
    assert all(r.request_id == f"req-{r.id}" and r.status == "QUEUED" for r in records.values())
