"""A kernel restart mid-batch: the process running generate_many is killed (SIGKILL, no
cleanup) while some items are saved and others still rendering; the same call in a new
process finishes the batch without a second submit and without regenerating anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sora_widget.ledger import Ledger
from sora_widget.records import Generation

from .conftest import FAKE_KEY, PROMPTS, audit

# The batch as a user's cell would run it, in a process of its own.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    import sora_widget as sw
    from sora_widget.client import AsyncSoraClient, PollPolicy

    PROMPTS = json.loads(sys.argv[1])

    async def main():
        poll = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.2, expected_s=0.5)
        async with AsyncSoraClient(poll=poll) as client:
            clips = await sw.agenerate_many(PROMPTS, client=client, duration=4, concurrency=8, show=False)
        print(json.dumps([c.to_dict() for c in clips]))

    asyncio.run(main())
    """
)


def test_a_batch_killed_mid_way_is_finished_by_the_same_call_in_a_new_process(emulator, tmp_path):
    emu = emulator(latency=0.6, workers=2)  # two at a time: the batch ends in steps
    out = tmp_path / "out"
    env = {
        **os.environ,
        "SEGMIND_API_KEY": FAKE_KEY,
        "SEGMIND_BASE_URL": emu.base_url,
        "SORA_WIDGET_OUTPUT_DIR": str(out),
    }
    command = [sys.executable, "-c", SCRIPT, json.dumps(PROMPTS)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        before = _kill_when_part_done(child, Ledger.in_dir(out))
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    saved = {r.id: r for r in before if r.status == "COMPLETED" and r.video_path}
    running = {r.id: r for r in before if r.request_id and not r.done}
    mtimes = {i: Path(r.video_path).stat().st_mtime_ns for i, r in saved.items() if r.video_path}

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
    clips = [Generation.from_dict(d) for d in json.loads(again.stdout.splitlines()[-1])]
    assert [c.params.prompt for c in clips] == PROMPTS
    assert all(c.status == "COMPLETED" for c in clips), [(c.status, c.error) for c in clips]
    by_id = {c.id: c for c in clips}
    for record_id, record in saved.items():  # returned as they were: not regenerated
        assert by_id[record_id].video_path == record.video_path
        assert Path(record.video_path or "").stat().st_mtime_ns == mtimes[record_id]
    for record_id, record in running.items():  # resumed: the same request, waited for
        assert by_id[record_id].request_id == record.request_id
    stats = emu.stats()
    assert stats["submits"] == len(PROMPTS)  # zero duplicate submits
    audit(stats, Ledger.in_dir(out), clips)


def _kill_when_part_done(child: subprocess.Popen[str], ledger: Ledger) -> list[Generation]:
    """SIGKILL the child once two items are saved, two still run, and no submit is
    under way (one cut mid-POST would rightly stay unknown, which is another test)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert child.poll() is None, "the batch ended before it could be interrupted"
        records = list(ledger.records().values())
        saved = [r for r in records if r.status == "COMPLETED" and r.video_path]
        running = [r for r in records if r.request_id and not r.done]
        sending = [r for r in records if not r.request_id]
        if len(records) == len(PROMPTS) and len(saved) >= 2 and len(running) >= 2 and not sending:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
            return records
        time.sleep(0.02)
    raise AssertionError("the batch never reached a state to interrupt")
