"""Request identity and reuse: which earlier generation answers a request, and what to do.

The notebook is its own cache: a request asked again (same API, model, parameters,
reference images by their bytes, take) is answered by the clip its identity already made
— 0 requests — or by its job still running. An attempt of unknown outcome is never
resubmitted blindly. Everything here reads the ledger (indexed) off the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

from .._files import MAX_CLIP_BYTES, FileRefused, RecordFileMissing, file_sha256, open_record_file
from .._text import terminal_safe
from ..errors import InvalidParams, SubmitOutcomeUnknown
from ..ledger import Ledger
from ..params import Request, decode_data_uri, reference_kind
from ..records import Generation, identity, parse_time


@dataclass(frozen=True)
class Reuse:
    """What an earlier generation of the same request identity means for a new request.

    done        its clip is saved and intact: the answer, at no cost
    attach      it is running (its request id is known): wait for it, submit nothing
    unknown     its submit's outcome is unknown: it may be running and billed
    regenerate  its clip is missing or changed (`why`): generate again
    """

    kind: Literal["done", "attach", "unknown", "regenerate"]
    record: Generation
    why: str = ""


def request_key(api_host: str, request: Request, *, first_frame_digest: str | None = None) -> str:
    """What `request` asks for, as a digest (the take aside): its images by their bytes
    (a data URI's, a local file's; `first_frame_digest` when the first frame's URL names
    bytes we uploaded ourselves) or by their URLs."""
    extra = request.identity_extra()
    if request.last_frame is not None:
        extra["last_frame"] = reference_digest(request.last_frame)
    return identity.request_key(
        api_host=api_host,
        model=request.model,
        prompt=request.prompt,
        duration=request.duration,
        size=request.size,
        reference=first_frame_digest or reference_digest(request.first_frame),
        extra=extra,
    )


def next_take(ledger: Ledger, key: str) -> int:
    """The first take of request `key` this API has no generation of (indexed reads)."""
    take = 1
    while ledger.has_identity(identity.identity(key, take)):
        take += 1
    return take


def check_take(take: object) -> int:
    if isinstance(take, bool) or not isinstance(take, int) or take < 1:
        raise InvalidParams("take", take, "a whole number ≥ 1 (1 is the first take of a request)")
    return take


async def find_reusable(
    ledger: Ledger,
    output_dir: Path,
    record: Generation,
    submitting: Mapping[str, asyncio.Future[None]],
) -> Reuse | None:
    """What the ledger knows of `record`'s request identity (the newest generation of it
    that matters), and what to do about it: reuse its saved clip, attach to its running
    job, refuse a blind resubmit of an attempt of unknown outcome, or generate again
    because its clip is missing or changed. None: never asked. `submitting`: this
    client's submits under way, by generation id (their answers decide)."""
    if record.identity is None:
        return None
    # the newest two that may answer (one of them may be `record` itself): a failure is
    # no answer, and a request asked a thousand times is still read in one index probe
    found = await asyncio.to_thread(ledger.with_identity, record.identity, answers=True, limit=2)
    for earlier in found:
        if earlier.id == record.id:
            continue
        if earlier.status == "COMPLETED" and earlier.video_path:
            problem = await asyncio.to_thread(saved_clip_problem, earlier, output_dir)
            if problem is None:
                return Reuse("done", earlier)
            return Reuse("regenerate", earlier, problem)
        if earlier.request_id:
            return Reuse("attach", earlier)  # accepted, not finished (or not saved)
        sending = submitting.get(earlier.id)
        if sending is not None:
            # its submit is under way on this client: its answer decides (accepted:
            # attach; refused: nothing to reuse; no answer: unknown)
            await asyncio.wait([sending])
            return await find_reusable(ledger, output_dir, record, submitting)
        if earlier.status in ("UNKNOWN", "SUBMITTING"):
            return Reuse("unknown", earlier)
    return None


def explain(found: Reuse, record: Generation) -> Reuse | None:
    """`found`, said in words: the earlier record's `note` (reused, attached) or `record`'s
    (its earlier clip is unusable: made again — then None is returned).
    `SubmitOutcomeUnknown` (carrying the earlier record) when an earlier attempt may be
    running and billed."""
    earlier = found.record
    made = when(earlier.completed_at or earlier.submitted_at)
    if found.kind == "done":
        earlier.note = (
            f"Reused clip {earlier.id}, made {made} for the same request: nothing was sent or "
            f"billed. For a new take: take={record.take + 1}, reuse=False or --new."
        )
        return found
    if found.kind == "attach":
        earlier.note = (
            f"Attached to job {earlier.id} (request {earlier.request_id}), submitted {made} for the "
            "same request and still running: waiting for it instead of submitting again."
        )
        return found
    if found.kind == "unknown":
        error = SubmitOutcomeUnknown(
            f"an earlier attempt at this request ({earlier.id}, submitted {made}) has an unknown "
            "outcome: it may be running and billed, so it is not submitted again blindly",
            ledger_id=earlier.id,
            hint=(
                "Segmind's request history could not settle it yet (sw.pending() asks again); "
                "to submit anyway pass reuse=False (or %sora --new, sora-widget generate --new)."
            ),
        )
        error.record = earlier
        error.request_id = earlier.request_id
        raise error
    record.note = (
        f"The clip made {made} for this request ({earlier.id}) is no longer usable — "
        f"{found.why}: generating it again."
    )
    return None


def when(moment: str | None) -> str:
    """ "2026-12-01 13:41 UTC" for a record's ISO time."""
    if not moment:
        return "at an unknown time"
    return parse_time(moment).strftime("%Y-%m-%d %H:%M UTC")


def reference_digest(reference: str | None) -> str:
    """The reference image by its bytes' sha256 (a data URI's, a local file's), or by its
    URL's (its pixels are the server's to fetch)."""
    if reference is None:
        return identity.NO_REFERENCE
    kind = reference_kind(reference)
    if kind == "data":
        return identity.reference_digest(kind, reference, decode_data_uri(reference)[1])
    if kind == "path":
        return file_sha256(reference)[0]
    return identity.reference_digest(kind, reference)


def clip_roots(output_dir: Path) -> list[Path]:
    """Where a clip a record names may lie: this process's folder (the notebook's, in a
    kernel) and the output dir — resolved, ours."""
    return [Path.cwd().resolve(), output_dir.resolve()]


def clip_candidates(text: str, output_dir: Path) -> tuple[tuple[str, Path], ...]:
    """Where to look for a clip a record names as `text`: from this process's folder (the
    one that saved it, normally), else by its name in the output dir."""
    return ((text, Path.cwd()), (PurePath(text.replace("\\", "/")).name, output_dir.resolve()))


def saved_clip_problem(record: Generation, output_dir: Path) -> str | None:
    """None when the record's clip is on disk as it was saved; else what is wrong. The file
    is read through `_files.open_record_file` (a record may come from someone else: inside
    this folder or the output dir, a regular file, never through a link, bounded) and must
    match the record's sha256 — a record without one is never taken as done. (Paths are
    relative to the folder of the process that saved it, normally this one's; else the clip
    is looked for by name in the output dir.)"""
    if not record.sha256:
        return "no sha256 is recorded for it, so its file cannot be checked"
    text = record.video_path or ""
    roots = clip_roots(output_dir)
    for candidate, base in clip_candidates(text, output_dir):
        try:
            with open_record_file(candidate, base=base, roots=roots, max_bytes=MAX_CLIP_BYTES) as found:
                digest = found.sha256()
        except RecordFileMissing:
            continue
        except FileRefused as refused:
            return f"its file {terminal_safe(text)} {refused.reason}"
        if digest == record.sha256:
            return None
        return f"its file {terminal_safe(text)} has changed since it was saved (sha256 {digest[:12]}…)"
    return f"its file {terminal_safe(text)} is missing"
