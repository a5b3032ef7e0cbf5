"""Journaling a job: every event goes to the ledger (durably, then to its observers), and
what a job's end means for this kernel's spend.

One rule: an event is written through `Journal.log` — never appended to the ledger file
directly — or the notebook's metadata mirror never hears of it.
"""

from __future__ import annotations

from ..cost import Budget
from ..errors import SoraError, SubmitOutcomeUnknown
from ..ledger import Ledger
from ..records import Generation


class Journal:
    """The events of one client's jobs, and their cost against the kernel's budget."""

    def __init__(self, ledger: Ledger, budget: Budget) -> None:
        self.ledger = ledger
        self.budget = budget

    async def log(self, event: str, record: Generation) -> None:
        await self.ledger.log(event, record)

    async def fail(
        self, record: Generation, status: str, error: SoraError, *, event: str | None = None
    ) -> None:
        """The job ended without a clip (FAILED, EXPIRED) or its submit's outcome is UNKNOWN."""
        record.error = error.to_dict()
        record.set_status(status)
        if status == "FAILED":
            self.costs_nothing(record, refused=event == "rejected")
        await self.log(event or status.lower(), record)

    def costs_nothing(self, record: Generation, *, refused: bool) -> None:
        """A failed job costs 0; a refused submit does not count as a job at all."""
        record.cost = {"usd": 0.0, "source": (record.cost or {}).get("source", "estimate")}
        if refused:
            self.budget.release(record.id)
        else:
            self.budget.settle(record.id, 0.0)

    async def mark_unknown(self, record: Generation, reason: str) -> None:
        """A submit's outcome is unknown (e.g. its process died mid-POST): the job may be
        running and billed; it is never resubmitted blindly."""
        await self.fail(record, "UNKNOWN", SubmitOutcomeUnknown(reason, ledger_id=record.id))
