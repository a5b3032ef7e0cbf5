"""What a batch call must do for each item, given what the ledger already knows.

The same `generate_many` call made again (after a kernel restart, a crash, a timeout)
must never pay twice for an item:

- COMPLETED with its file on disk → returned as it is;
- accepted by the server but not finished or not saved → waited for (resume: no POST);
- submit outcome unknown (a 5xx or a broken connection during the POST, or a process
  that died between writing "submitting" and reading the answer) → left alone: the job
  may be running and billed (the caller first asks the account's request history, which
  turns such a record into the job it found, or into NOT_SUBMITTED);
- NOT_SUBMITTED (the request history shows the lost submit never reached the server:
  nothing was billed) → submitted again, once (its claim follows that record);
- FAILED or EXPIRED → kept as it is, or submitted again with `retry_failed=True`;
- never seen → submitted.

Pure: the caller reads the ledger and says which files exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..records import Generation

Action = Literal["done", "wait", "unknown", "keep", "resubmit", "submit"]

#: a record's claim on its item, strongest first (a failure and a submit that never
#: reached the server weigh the same: the newer decides)
_RANK: dict[Action, int] = {"done": 0, "wait": 1, "unknown": 2, "keep": 3, "resubmit": 3}


@dataclass(frozen=True)
class Step:
    index: int
    action: Action
    #: the ledger's record for `done`, `wait`, `unknown` and `keep`; None for `submit`
    record: Generation | None = None
    #: for `submit`: the id of the failed generation this attempt follows ("" for the
    #: first) — with the item, the key two runs of the batch race for (ledger claims)
    after: str = ""


def batch_info(batch_id: str, index: int, param_hash: str, size: int) -> dict[str, object]:
    """What each record of a batch carries in its `batch` field."""
    return {"id": batch_id, "index": index, "param_hash": param_hash, "size": size}


def plan(
    batch_id: str,
    hashes: Sequence[str],
    known: Iterable[Generation],
    *,
    api_host: str,
    retry_failed: bool,
    file_exists: Callable[[Generation], bool],
) -> list[Step]:
    """One step per item, in order. Only records of jobs sent to `api_host` count: a
    request id means nothing to another API."""
    best: dict[int, tuple[Action, Generation]] = {}
    for record in known:
        index = _index_in(record, batch_id, hashes) if record.api_host == api_host else None
        if index is None:
            continue
        action = classify(record, file_exists)
        held = best.get(index)
        if held is None or _stronger((action, record), held):
            best[index] = (action, record)
    steps = []
    for index in range(len(hashes)):
        found = best.get(index)
        if found is None:
            steps.append(Step(index, "submit"))
        elif (found[0] == "keep" and retry_failed) or found[0] == "resubmit":
            steps.append(Step(index, "submit", after=found[1].id))
        else:
            steps.append(Step(index, found[0], found[1]))
    return steps


def classify(record: Generation, file_exists: Callable[[Generation], bool]) -> Action:
    """What one ledger record means for its item."""
    if record.status == "COMPLETED" and record.video_path and file_exists(record):
        return "done"
    if record.status == "NOT_SUBMITTED":
        return "resubmit"  # never reached the server: nothing billed, nothing to wait for
    if record.request_id:
        if record.status in ("FAILED", "EXPIRED"):
            return "keep"
        return "wait"  # accepted: unfinished, or finished without a saved file
    if record.status in ("UNKNOWN", "SUBMITTING"):
        return "unknown"  # may have been accepted (and billed) without our hearing of it
    return "keep"  # refused outright (FAILED without a request id): nothing was billed


def _index_in(record: Generation, batch_id: str, hashes: Sequence[str]) -> int | None:
    info = record.batch or {}
    index = info.get("index")
    if info.get("id") != batch_id or not isinstance(index, int) or not 0 <= index < len(hashes):
        return None
    # the same id with other items at this place (an explicit batch_id reused) is not ours
    return index if info.get("param_hash") == hashes[index] else None


def _stronger(a: tuple[Action, Generation], b: tuple[Action, Generation]) -> bool:
    """Does record `a` decide its item rather than `b`? By action, then the newer."""
    if _RANK[a[0]] != _RANK[b[0]]:
        return _RANK[a[0]] < _RANK[b[0]]
    return a[1].updated_at > b[1].updated_at
