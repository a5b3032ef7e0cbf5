"""The disk fills up during a download: a DownloadError that names the disk problem, no
partial file left, a ledger that still reads, and — once there is space again — the
same call saves the clip without submitting it again.

Where we may mount (root, as in this project's CI container), the output dir is a real
tmpfs too small for a clip but big enough for the ledger: the write fails with ENOSPC
exactly as on a full disk. Elsewhere the first run goes to a subprocess whose
RLIMIT_FSIZE is below a clip's size (SIGXFSZ ignored), so the write fails with EFBIG:
the same code path, a different errno.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sora_widget as sw
from sora_widget.ledger import Ledger
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

from .conftest import FAKE_KEY, audit, make_client

PROMPT = ["fault suite: a clip for a full disk"]
#: a 4 s clip is ~480 KB; the ledger (a SQLite database, ~75 KB, and its write-ahead
#: log, ~45 KB a write until a checkpoint) of one job about 350 KB: the clip cannot fit
SMALL = "640k"
LIMIT_BYTES = 100_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A tmpfs of SMALL bytes, or None where mounting is not allowed."""
    mount_point = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


async def test_a_full_disk_during_a_download_is_clear_and_resumable(emulator, tmp_path, small_disk):
    emu = emulator()
    if small_disk is not None:
        out = small_disk / "out"
        async with make_client(emu, out) as client:
            first = (await sw.agenerate_many(PROMPT, client=client, duration=4, show=False))[0]
        expected_errno = "No space left on device"
    else:
        out = tmp_path / "out"
        first = await asyncio.to_thread(_first_run_with_a_file_size_limit, emu, out)
        expected_errno = "File too large"

    # the job is done on the server; saving it failed, and the record says why
    assert first.status == "COMPLETED" and first.video_path is None and first.request_id
    error = first.error or {}
    assert error["type"] == "DownloadError"
    assert "could not save the video" in error["message"] and "no space for the file" in error["message"]
    assert expected_errno in error["message"]
    assert "Free some space" in error["hint"]
    # the ledger is readable, and knows the job is still to be saved
    events = list(Ledger.in_dir(out).events())
    assert events and all(e["id"] == first.id for e in events)
    assert [r.id for r in Ledger.in_dir(out).pending()] == [first.id]
    assert not [p for p in out.iterdir() if p.suffix in (".mp4", ".part")]

    if small_disk is not None:  # space is back
        remount = ["mount", "-o", "remount,size=8m", str(small_disk)]
        await asyncio.to_thread(subprocess.run, remount, check=True)
    async with make_client(emu, out) as client:
        again = await sw.agenerate_many(PROMPT, client=client, duration=4, show=False)
        stats = emu.stats()
        audit(stats, client.ledger, again)
    assert again[0].id == first.id and again[0].request_id == first.request_id
    assert again[0].status == "COMPLETED" and again[0].error is None
    assert stats["submits"] == 1


def _first_run_with_a_file_size_limit(emu, out: Path) -> Generation:
    script = textwrap.dedent(
        """
        import asyncio, json, sys
        import sora_widget as sw
        from sora_widget.client import AsyncSoraClient, PollPolicy

        async def main():
            async with AsyncSoraClient(poll=PollPolicy(first_check=0.05, expected_s=0.3)) as client:
                items = json.loads(sys.argv[1])
                clips = await sw.agenerate_many(items, client=client, duration=4, show=False)
            print(json.dumps(clips[0].to_dict()))

        asyncio.run(main())
        """
    )

    def limit() -> None:
        # a write past the limit then fails with EFBIG instead of killing the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))

    env = {
        **os.environ,
        "SEGMIND_API_KEY": FAKE_KEY,
        "SEGMIND_BASE_URL": emu.base_url,
        "SORA_WIDGET_OUTPUT_DIR": str(out),
    }
    run = subprocess.run(
        [sys.executable, "-c", script, json.dumps(PROMPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        check=True,
    )
    return Generation.from_dict(json.loads(run.stdout.splitlines()[-1]))


def test_a_ledger_write_that_does_not_fit_leaves_the_ledger_intact(small_disk):
    if small_disk is None:
        pytest.skip("no permission to mount a small filesystem here")
    ledger = Ledger.in_dir(small_disk)
    record = Generation(id="a" * 12, params=GenerationParams("first"))
    ledger.append("submitting", record)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    with pytest.raises(OSError):
        ledger.append("submitting", Generation(id="b" * 12, params=GenerationParams("x" * 400_000)))
    filler.unlink()
    ledger.append("submitted", record)
    assert [e["event"] for e in ledger.events()] == ["submitting", "submitted"]
    assert sorted(ledger.records()) == ["a" * 12]
