"""Where a batch stands: pure counting over its records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..records import Generation


@dataclass(frozen=True)
class BatchTally:
    """Where a batch stands: items whose work has ended, and how."""

    total: int
    completed: int = 0  # saved clips
    failed: int = 0  # ended without a clip: FAILED, EXPIRED, timed out, not saved
    unknown: int = 0  # submit outcome unknown: may be running and billed
    running: int = 0  # being worked on now

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.unknown

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else (100 * self.done) // self.total

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "done": self.done,
            "completed": self.completed,
            "failed": self.failed,
            "unknown": self.unknown,
            "running": self.running,
        }


def tally(records: Sequence[Generation], finished: Collection[str], active: Collection[str]) -> BatchTally:
    """Count a batch's records; `finished` and `active` hold the ids of records whose
    work has ended, or is going on now, in this call."""
    completed = failed = unknown = running = 0
    for record in records:
        if record.id in finished:
            if record.status == "COMPLETED" and record.video_path:
                completed += 1
            elif record.status == "UNKNOWN":
                unknown += 1
            else:
                failed += 1
        elif record.id in active:
            running += 1
    return BatchTally(len(records), completed, failed, unknown, running)
