"""What a blocking call leaves behind when it is interrupted, in words a user can act on.

A blocking helper (`sw.generate`, `generate_many`, `resume`, `replay`, a waiting magic)
watches the records of the jobs it waits for; if the wait is interrupted, `explain()`
says which jobs keep running on the server (and are billed) and how to collect them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .records import Generation

NOTHING_LEFT = "Stopped waiting. Nothing was left running on the server."


class Watch:
    """Collects the latest record of every job a call works on, through its `on_update`.

    `idle`: what to say when no job was seen yet (a resume that had not started)."""

    def __init__(self, idle: str = NOTHING_LEFT) -> None:
        self.records: dict[str, Generation] = {}
        self.idle = idle

    def seen(self, record: Generation) -> None:
        self.records[record.id] = record

    def tee(self, on_update: Callable[[Generation], Any] | None) -> Callable[[Generation], Any]:
        """An `on_update` that notes the record, then calls the caller's own."""

        def update(record: Generation) -> Any:
            self.seen(record)
            return on_update(record) if on_update is not None else None

        return update

    def explain(self) -> str:
        return explain_stopped(list(self.records.values()), idle=self.idle)


def explain_stopped(records: list[Generation], *, idle: str = NOTHING_LEFT) -> str:
    """What goes on after a wait for `records` stopped: each job still running on the
    server, each submit still under way, and how to collect them."""
    running = [r for r in records if r.request_id and not r.done]
    sending = [r for r in records if not r.request_id and r.status == "SUBMITTING"]
    if not running and not sending:
        return idle
    lines = ["Stopped waiting."]
    for record in running:
        lines.append(
            f"Job {record.id} (request {record.request_id}) is still {record.status} on the server "
            f"and will be billed: sw.resume({record.request_id!r}) collects it within the hour."
        )
    for record in sending:
        lines.append(
            f"Job {record.id} was being submitted: the submit finishes in the background and its "
            "request id goes to the ledger; it may be running and billed. sw.pending() lists it."
        )
    if len(running) + len(sending) > 1:
        lines.append("sw.resume() collects every pending job.")
    return "\n".join(lines)
