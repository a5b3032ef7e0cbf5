"""The ledger under the worst a process can do: killed (SIGKILL) at any point of a write,
and written by several processes at once. Real processes, real SQLite files."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time

from sora_widget.ledger import Ledger

# Writes generations as a submit does (a row before the POST, then its request id), and
# prints each request id once `append` has returned — the moment the ledger promised it.
WRITER = textwrap.dedent(
    """
    import sys
    from sora_widget.ledger import Ledger
    from sora_widget.params import GenerationParams
    from sora_widget.records import Generation
    ledger = Ledger.in_dir(sys.argv[1])
    tag, count = sys.argv[2], int(sys.argv[3])
    for i in range(count):
        g = Generation(id=f"{tag}-{i}", params=GenerationParams("p" * 500))
        ledger.append("submitting", g)
        g.request_id = f"req-{tag}-{i}"
        g.set_status("QUEUED")
        ledger.append("submitted", g)
        print(g.request_id, flush=True)
    """
)


def test_a_process_killed_mid_write_never_loses_a_promised_request_id(tmp_path):
    rng = random.Random(7)
    promised: list[str] = []
    for run in range(50):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), f"r{run}", "100000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        # The kill must land mid-write, not during the interpreter's start-up, which on a
        # busy machine can outlast any fixed delay: wait for the first promise, then let it
        # write for a random while before the kill.
        first = proc.stdout.readline()
        assert first, f"writer {run} exited before writing"
        promised.append(first.strip())
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        promised += rest.split()  # printed before the kill landed: promised too
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
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag, "500"], stdout=subprocess.PIPE)
        for tag in ("left", "right")
    ]
    for proc in procs:
        proc.communicate(timeout=300)
        assert proc.returncode == 0
    ledger = Ledger.in_dir(tmp_path)
    assert ledger.stats()["events"] == 2 * 1000  # 500 generations × 2 events, per process
    records = ledger.records()
    assert len(records) == 1000
    assert all(r.request_id == f"req-{r.id}" and r.status == "QUEUED" for r in records.values())
