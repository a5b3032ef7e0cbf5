"""What the request history's answers mean for our jobs, and the ledger events they make.

- A submit whose answer was lost (UNKNOWN) is looked for (`_history.judge`): found, it
  becomes that request's job (its request id and status: collected like any other, nothing
  submitted again — "found in history"); certainly absent, it is NOT_SUBMITTED (nothing
  billed; batch items and re-runs may submit it again — "not submitted"); when the history
  cannot say, it stays UNKNOWN ("history unresolved", the reason in its error's detail).
- A finished job's charge becomes the history's `credits_deduction` ("cost").
- A request of any age the ledger does not hold can be imported from its row ("imported").

Every change goes through the journal, so the ledger and the notebook's metadata hear of it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..errors import GenerationFailed, InvalidParams, SoraError, UnexpectedResponse
from ..ledger import Ledger
from ..params import MODELS, from_payload
from ..records import Generation, format_time, new_id, parse_time
from ._history import HistoryRow, RequestHistory, Resolution, judge, window
from ._journal import Journal
from ._policy import WHENEVER
from ._provenance import versions
from ._requests import Clock, ReadDeadline

log = logging.getLogger(__name__)

#: the record error of a submit the history shows was never taken
NOT_SUBMITTED_TYPE = "NotSubmitted"
#: how long a submit can take, retries included (RetryPolicy.total_budget plus a request
#: timeout): a row still SUBMITTING after this was cut off (its process died)
SUBMIT_MAX_S = 240.0


@dataclass
class Inquiries:
    """The client's questions to the request history about its own jobs."""

    history: RequestHistory
    ledger: Ledger
    journal: Journal
    clock: Clock
    api_host: str

    # -- lost submits ---------------------------------------------------------------------------

    async def resolve(self, record: Generation, *, patience: float = 0.0) -> Resolution:
        """Look for `record`'s lost submit in the history and act on the answer (the record
        changes in place; every outcome is a ledger event). `patience`: seconds to keep
        asking while the history may simply not list the request yet."""
        if record.request_id or record.status not in ("UNKNOWN", "SUBMITTING"):
            return Resolution("found" if record.request_id else "unknown", why="nothing to resolve")
        resolution = await self._ask(record, patience)
        if resolution.verdict == "found" and resolution.row is not None:
            self._adopt(record, resolution.row)
            await self.journal.log("found in history", record)
        elif resolution.verdict == "absent":
            self._not_submitted(record)
            await self.journal.log("not submitted", record)
        else:
            _note_unresolved(record, resolution.why)
            await self.journal.log("history unresolved", record)
        return resolution

    async def _ask(self, record: Generation, patience: float) -> Resolution:
        if record.submitted_at is None:
            return Resolution("unknown", why="no time of the attempt is recorded")
        attempted = parse_time(record.submitted_at)
        policy = self.history.policy
        sent = record.params.payload()
        give_up_at = self.clock.now() + patience
        gaps = iter(policy.ask_every_s)
        gap = 0.0
        while True:
            now = datetime.now(timezone.utc)
            first, last = window(attempted, policy, now.date())
            try:
                rows, complete = await self.history.between(first, last, model=record.model)
            except (SoraError, ReadDeadline) as exc:
                return Resolution("unknown", why=f"the request history could not be read ({_said(exc)})")
            holders = await asyncio.to_thread(self.ledger.holders, [row.request_id for row in rows])
            taken = {rid for rid, holder in holders.items() if holder != record.id}
            resolution = judge(
                rows,
                model=record.model,
                sent=sent,
                attempted_at=attempted,
                now=datetime.now(timezone.utc),
                complete=complete,
                taken=taken,
                policy=policy,
            )
            waiting = resolution.verdict == "unknown" and (now - attempted).total_seconds() < policy.settle_s
            gap = next(gaps, gap)
            if not waiting or gap <= 0 or self.clock.now() + gap > give_up_at:
                return resolution
            await self.clock.sleep(gap)

    def _adopt(self, record: Generation, row: HistoryRow) -> None:
        record.request_id = row.request_id
        record.error = None
        if row.status == "FAILED":
            record.error = _failed(row)
            self.journal.costs_nothing(record, refused=False)
            record.set_status("FAILED")
            return
        if row.status == "COMPLETED" and row.usd is not None:
            record.cost = {"usd": row.usd, "source": "segmind"}
            self.journal.budget.settle(record.id, row.usd)
        # accepted: its status is read from the API like any job's (a COMPLETED one's result
        # is fetched, or past the hour its generation_url)
        record.set_status("QUEUED")

    def _not_submitted(self, record: Generation) -> None:
        before = record.error or {}
        record.error = {
            "type": NOT_SUBMITTED_TYPE,
            "message": (
                "the submit's answer was lost, and Segmind's request history holds no such request: "
                "it never reached the queue and nothing was billed"
            ),
            "http_status": before.get("http_status"),
            "request_id": None,
            "detail": before.get("detail"),
            "hint": "Submitting it again is safe: run the same call (a batch submits the item again).",
            "retryable": True,
        }
        record.cost = {"usd": 0.0, "source": (record.cost or {}).get("source", "estimate")}
        self.journal.budget.release(record.id)
        record.set_status("NOT_SUBMITTED")

    # -- a finished job's charge ----------------------------------------------------------------

    async def real_cost(self, record: Generation) -> bool:
        """Set a COMPLETED job's cost to what Segmind charged, when its history says
        (within `cost_read_s`); whether it did. Anything that goes wrong leaves the cost."""
        if record.status != "COMPLETED" or not record.request_id or not self.history.policy.charges:
            return False
        if (record.cost or {}).get("source") == "segmind":
            return False
        # nobody waits on it: under a cap on requests a minute it goes last, and may wait
        # for a couple of slots
        waited = max(self.history.policy.cost_read_s, 2.5 * self.history.requester.pace_s)
        try:
            row = await self.history.get(record.request_id, deadline=self.clock.now() + waited, turn=WHENEVER)
        except (SoraError, ReadDeadline) as exc:
            log.debug("no charge read for %s: %s", record.request_id, exc)
            return False
        if row is None or row.usd is None or row.status != "COMPLETED":
            return False
        record.cost = {"usd": row.usd, "source": "segmind"}
        self.journal.budget.settle(record.id, row.usd)
        await self.journal.log("cost", record)
        return True

    # -- requests the ledger does not hold ------------------------------------------------------

    def record_from_row(self, row: HistoryRow) -> Generation:
        """A record of a request the history lists: its model, its inputs as sent (checked
        as the server checks them), its status and charge. `InvalidParams` for a model or
        inputs sora-widget cannot take as a clip's request."""
        if row.model not in MODELS:
            raise InvalidParams(
                "model",
                row.model,
                list(MODELS),
                message=(
                    f"the request {row.request_id} is of {row.model or 'an unnamed model'}, "
                    "not a video model sora-widget knows"
                ),
            )
        try:
            request = from_payload(row.model, row.body or {})
        except InvalidParams as invalid:
            raise InvalidParams(
                invalid.field,
                invalid.value,
                invalid.allowed,
                message=(
                    f"the inputs of request {row.request_id} are not a request sora-widget can make: "
                    f"{invalid.message}"
                ),
            ) from None
        record = Generation(
            id=new_id(),
            params=request,
            model=row.model,
            request_id=row.request_id,
            api_host=self.api_host,
            versions=versions(),
        )
        created = format_time(row.created_at) if row.created_at is not None else None
        record.submitted_at = created
        if row.status == "FAILED":
            record.error = _failed(row)
            record.cost = {"usd": 0.0, "source": "segmind"}
            finished = row.finished_at
            record.completed_at = format_time(finished) if finished is not None else None
            record.set_status("FAILED", at=record.completed_at)
        else:
            if row.usd is not None and row.status == "COMPLETED":
                record.cost = {"usd": row.usd, "source": "segmind"}
            record.set_status("QUEUED", at=created)
        return record

    async def import_row(self, row: HistoryRow) -> Generation:
        """The ledger's record of `row`'s request: the one it holds, or a new one written
        ("imported")."""
        holders = await asyncio.to_thread(self.ledger.holders, [row.request_id])
        if row.request_id in holders:
            known = await asyncio.to_thread(self.ledger.get, holders[row.request_id])
            if known is not None:
                return known
        record = self.record_from_row(row)
        await self.journal.log("imported", record)
        return record

    async def import_request(self, request_id: str) -> Generation:
        row = await self.history.get(request_id)
        if row is None:
            raise UnexpectedResponse(
                f"Segmind's request history has no request {request_id} of this account",
                request_id=request_id,
            )
        return await self.import_row(row)


def _failed(row: HistoryRow) -> dict[str, Any]:
    """The error a record keeps of a job the request history says FAILED."""
    reason = row.error or "the server gave no reason"
    failure = GenerationFailed(
        f"the generation failed: {reason}", request_id=row.request_id, detail=row.error
    )
    return failure.to_dict()


def _note_unresolved(record: Generation, why: str) -> None:
    """The record stays UNKNOWN; its error says why the history could not settle it."""
    error: dict[str, Any] = dict(record.error or {})
    error.setdefault("type", "SubmitOutcomeUnknown")
    error.setdefault("message", "the submit got no definite answer; the job may be running and billed")
    error.setdefault("http_status", None)
    error.setdefault("request_id", None)
    error["detail"] = f"Segmind's request history: {why}"
    error["hint"] = (
        "It may be running and billed. sw.pending() and sw.resume() ask the request history "
        "again; it is never submitted again blindly."
    )
    error["retryable"] = False
    record.error = error
    if record.status == "SUBMITTING":
        record.set_status("UNKNOWN")


def _said(exc: BaseException) -> str:
    return exc.message if isinstance(exc, SoraError) else str(exc) or type(exc).__name__
