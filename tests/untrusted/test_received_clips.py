"""Clips a received record names are read only through the one rule of `_files` (inside the
notebook's folder or the output dir, a regular file, never through a link, bounded) and
only when the record names their sha256 — so nothing a record names outside those folders
is hashed, streamed, returned as a clip, or uploaded as a frame, and no device or FIFO
hangs a call. Each test sets up what a crafted notebook or ledger can, against the
emulator on 127.0.0.1, and counts what reached it.

Issue 28, points 1–3: replay/extend of a shot whose parent names `../private/secret.mp4`
(no sha256) uploaded that file's last frame; `sw.remix` uploaded the local image a record's
`input_reference` names; the reuse check hashed `/dev/zero` forever and blocked on a FIFO;
`generate_many` returned a private clip outside the folder as COMPLETED with 0 requests.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

import sora_widget as sw
from sora_widget import api, cost
from sora_widget.client import PollPolicy
from sora_widget.ledger import Ledger
from sora_widget.records import Generation, identity

from .corpus import good_record

FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)


@pytest.fixture
def here(project, emulator, monkeypatch):
    server = emulator(latency=0.2)
    monkeypatch.setenv("SEGMIND_BASE_URL", server.base_url)
    monkeypatch.setattr(api, "_defaults", {"poll": FAST_POLL})
    monkeypatch.setattr(cost, "_session", cost.Budget())
    return server


def counts(server) -> tuple[int, int]:
    requests = server.stats()["requests"]
    return int(requests.get("upload", 0)), int(requests.get("submit", 0))


def a_real_clip(project: Path, name: str) -> tuple[Path, str, int]:
    """A clip made for real on the emulator, moved to `name`: (path, sha256, size)."""
    made = sw.generate("a private clip", duration=4, reuse=False)
    target = project / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(made.video_path, target)
    return target, made.sha256, made.bytes


def plant(output_dir: Path, *records: Generation) -> None:
    ledger = Ledger.in_dir(output_dir)
    try:
        for record in records:
            asyncio.run(ledger.log("completed", record))
    finally:
        ledger.close()


def test_replaying_a_shot_whose_parent_names_a_private_file_sends_no_frame_of_it(here, project):
    secret, _sha, _size = a_real_clip(project, "../private/secret.mp4")
    parent = Generation.from_dict(good_record(id="parent1", video_path="../private/secret.mp4", sha256=None))
    child = Generation.from_dict(
        good_record(
            id="child1",
            request_id="req-child",
            derived_from={"id": "parent1", "how": "extend"},
            params={
                "prompt": "the next shot",
                "duration": 4,
                "size": "1280x720",
                "input_reference": "https://example.com/as-sent.png",
            },
        )
    )
    plant(project / "sora-outputs", parent, child)
    before = counts(here)
    with pytest.warns(sw.LineageWarning, match="parent's file cannot be used"):
        again = sw.replay("child1")
    uploads, submits = counts(here)
    assert uploads == before[0]  # nothing of secret.mp4 went up
    assert submits == before[1] + 1 and again.params.input_reference == "https://example.com/as-sent.png"
    with pytest.raises(sw.InvalidParams, match="climbs out of its folder"):
        sw.extend(parent, "continue it")
    assert counts(here)[0] == before[0]
    assert secret.exists()


def test_a_parent_without_a_sha256_is_never_continued(here, project):
    _path, _sha, _size = a_real_clip(project, "clip.mp4")
    parent = Generation.from_dict(good_record(id="nosha", video_path="clip.mp4", sha256=None))
    before = counts(here)
    with pytest.raises(sw.InvalidParams, match="records no sha256"):
        sw.extend(parent, "continue it")
    assert counts(here) == before


def test_remix_never_uploads_the_local_image_a_record_names(here, project):
    private = project.parent / "private-photo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, format="PNG")
    private.write_bytes(buffer.getvalue())
    record = Generation.from_dict(
        good_record(
            id="remixme",
            params={"prompt": "x", "duration": 4, "size": "1280x720", "input_reference": str(private)},
        )
    )
    before = counts(here)
    with pytest.raises(sw.InvalidParams, match="never uploads a local file a record names"):
        sw.remix(record, prompt="y")
    assert counts(here) == before
    # a reference the caller gives is theirs to send
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    made = sw.remix(record, prompt="y", input_reference=data)
    assert made.status == "COMPLETED" and counts(here)[1] == before[1] + 1


def _ledger_answer(project: Path, video_path: str, sha256: str = "0" * 64, size: int | None = None) -> str:
    """A completed record in the ledger answering the request `sw.generate('a heron',
    duration=4)` makes, naming `video_path`; returns its id."""
    key = identity.request_key(
        api_host=api.client().api_host,
        model="sora-2",
        prompt="a heron",
        duration=4,
        size="720x1280",
        reference=identity.NO_REFERENCE,
    )
    record = Generation.from_dict(
        good_record(
            id="planted1",
            params={"prompt": "a heron", "duration": 4, "size": "720x1280"},
            video_path=video_path,
            sha256=sha256,
            bytes=size,
            identity=key,
        )
    )
    plant(project / "sora-outputs", record)
    return record.id


@pytest.mark.parametrize("where", ["/dev/zero", "fifo", "../secret.mp4", "link"])
def test_the_reuse_check_reads_nothing_a_received_ledger_names_outside_or_special(here, project, where):
    secret, sha, size = a_real_clip(project, "../secret.mp4")
    if where == "fifo":
        os.mkfifo(project / "clip.fifo")
        where = "clip.fifo"
    elif where == "link":
        (project / "sora-outputs" / "link.mp4").symlink_to(secret)
        where = "sora-outputs/link.mp4"
    planted = _ledger_answer(project, where, sha256=sha, size=size)
    before = counts(here)

    async def generate() -> Generation:
        # bounded: before the rule, /dev/zero was hashed forever and a FIFO blocked the open
        return await asyncio.wait_for(sw.agenerate("a heron", duration=4), timeout=60)

    made = asyncio.run(generate())
    assert made.id != planted and made.video_path != where  # not the planted answer
    assert counts(here)[1] == before[1] + 1  # made again, for real


def test_a_batch_never_returns_a_file_outside_the_folder_as_its_clip(here, project):
    secret, sha, size = a_real_clip(project, "../secret.mp4")
    _ledger_answer(project, "../secret.mp4", sha256=sha, size=size)
    before = counts(here)
    batch = sw.generate_many(["a heron"], duration=4, show=False)
    (clip,) = batch
    assert clip.status == "COMPLETED" and Path(clip.video_path).resolve() != secret.resolve()
    assert counts(here)[1] == before[1] + 1
