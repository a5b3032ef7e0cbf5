"""What a repeated generate_many does with each item, from what the ledger knows."""

from __future__ import annotations

import pytest

from sora_widget.batch.plan import batch_info, classify, plan
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

BATCH = "b" * 16
HASHES = ["h0", "h1", "h2"]
HOST = "api.segmind.com"


def record(index, status, *, request_id="req", video_path=None, updated="2026-01-01T00:00:00.000Z", **batch):
    info = batch_info(BATCH, index, HASHES[index] if index < len(HASHES) else "x", len(HASHES))
    info.update(batch)
    r = Generation(id=f"{index}-{status}-{updated}", params=GenerationParams(f"item {index}", 4))
    r.status, r.request_id, r.video_path = status, request_id, video_path
    r.updated_at, r.batch, r.api_host = updated, info, HOST
    return r


def moved(r: Generation, **batch) -> Generation:
    assert r.batch is not None
    r.batch = {**r.batch, **batch}
    return r


def on_disk(record: Generation) -> bool:
    return record.video_path == "saved.mp4"


def actions(known, retry_failed=False):
    steps = plan(BATCH, HASHES, known, api_host=HOST, retry_failed=retry_failed, file_exists=on_disk)
    return [s.action for s in steps]


@pytest.mark.parametrize(
    ("status", "request_id", "video_path", "action"),
    [
        ("COMPLETED", "req", "saved.mp4", "done"),
        ("COMPLETED", "req", "deleted.mp4", "wait"),  # finished, file gone: download again
        ("COMPLETED", "req", None, "wait"),  # killed during the download
        ("QUEUED", "req", None, "wait"),
        ("PROCESSING", "req", None, "wait"),
        ("FAILED", "req", None, "keep"),
        ("EXPIRED", "req", None, "keep"),
        ("FAILED", None, None, "keep"),  # refused outright (400, 406, 429s): nothing billed
        ("UNKNOWN", None, None, "unknown"),
        ("SUBMITTING", None, None, "unknown"),  # the process died during the POST
    ],
)
def test_classify(status, request_id, video_path, action):
    r = record(0, status, request_id=request_id, video_path=video_path)
    assert classify(r, on_disk) == action


def test_items_never_seen_are_submitted_and_the_rest_follow_their_records():
    known = [record(0, "COMPLETED", video_path="saved.mp4"), record(2, "PROCESSING")]
    steps = plan(BATCH, HASHES, known, api_host=HOST, retry_failed=False, file_exists=on_disk)
    assert [(s.index, s.action) for s in steps] == [(0, "done"), (1, "submit"), (2, "wait")]
    assert steps[0].record is known[0] and steps[1].record is None


def test_failed_items_are_submitted_again_only_when_asked():
    known = [record(0, "FAILED"), record(1, "EXPIRED"), record(2, "UNKNOWN", request_id=None)]
    assert actions(known) == ["keep", "keep", "unknown"]
    # unknown outcomes are never resubmitted: they may be running and billed
    assert actions(known, retry_failed=True) == ["submit", "submit", "unknown"]


def test_the_strongest_record_of_an_item_decides():
    older_failure = record(0, "FAILED", updated="2026-01-01T00:00:00.000Z")
    retried = record(0, "COMPLETED", video_path="saved.mp4", updated="2026-01-01T01:00:00.000Z")
    pending_retry = record(1, "PROCESSING", updated="2026-01-01T02:00:00.000Z")
    failed_later = record(1, "FAILED", updated="2026-01-01T03:00:00.000Z")
    two_failures = [
        record(2, "FAILED", updated=t) for t in ("2026-01-01T01:00:00.000Z", "2026-01-02T00:00:00.000Z")
    ]
    steps = plan(
        BATCH,
        HASHES,
        [older_failure, retried, pending_retry, failed_later, *two_failures],
        api_host=HOST,
        retry_failed=False,
        file_exists=on_disk,
    )
    assert [s.action for s in steps] == ["done", "wait", "keep"]
    assert steps[0].record is retried and steps[2].record is two_failures[1]


def test_records_of_other_batches_or_other_items_are_ignored():
    known = [
        record(0, "COMPLETED", video_path="saved.mp4", id="another batch"),
        record(1, "COMPLETED", video_path="saved.mp4", param_hash="other item at this place"),
        moved(record(2, "COMPLETED", video_path="saved.mp4"), index=7),
        Generation(id="no batch", params=GenerationParams("x")),
    ]
    assert actions(known) == ["submit", "submit", "submit"]


def test_jobs_sent_to_another_api_are_not_this_batchs():
    on_the_emulator = record(0, "COMPLETED", video_path="saved.mp4")
    on_the_emulator.api_host = "127.0.0.1:8765"
    assert actions([on_the_emulator, record(1, "PROCESSING")]) == ["submit", "wait", "submit"]


@pytest.mark.parametrize(
    ("status", "sha256", "over"),
    [
        ("COMPLETED", "ab" * 32, True),
        ("COMPLETED", None, False),  # another run saw COMPLETED and is still downloading
        ("FAILED", None, True),
        ("PROCESSING", None, False),
        ("EXPIRED", None, True),
    ],
)
def test_a_followed_job_is_over_once_it_ended_and_a_completed_clip_is_saved(status, sha256, over):
    from sora_widget.batch.run import _over

    followed = record(0, status)
    followed.sha256 = sha256
    assert _over(followed) is over
