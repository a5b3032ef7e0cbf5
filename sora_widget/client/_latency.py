"""Latency learning: what past jobs of the same kind on the same API say about the next.

The poll schedule (`_policy`) needs one number per job — when it is likely to finish.
Past latencies are read from the ledger once per kind of job (an indexed query, off the
loop) and grow with each job this client finishes; before any, the model's prior is used.
"""

from __future__ import annotations

import asyncio

from ..ledger import Ledger
from ..records import Generation
from ._policy import LatencyModel, PollPolicy, latency_model

#: how many past jobs of a kind the poll schedule learns from
LEARN_FROM = 20

#: a kind of job: (model, duration, size) — jobs of one kind take about as long
Kind = tuple[str, int, str | None]


def kind_of(record: Generation) -> Kind:
    return (record.model, record.params.duration, record.params.size)


def finish_time(record: Generation) -> float | None:
    """Seconds from submit to the job's end: estimated between two checks when known."""
    return record.timings.get("finish_estimate_s") or record.latency_s


class LatencyBook:
    """Past latencies of this client's API, by kind of job, oldest first."""

    def __init__(self, ledger: Ledger, api_host: str, poll: PollPolicy) -> None:
        self._ledger = ledger
        self._api_host = api_host
        self._poll = poll
        self._latencies: dict[Kind, list[float]] = {}

    async def learn(self, record: Generation) -> None:
        """Read past latencies of jobs like `record` (once per kind): an indexed query, off the loop."""
        kind = kind_of(record)
        if kind not in self._latencies:
            model, duration, size = kind
            past = await asyncio.to_thread(
                self._ledger.latencies, self._api_host, model, duration, size, LEARN_FROM
            )
            self._latencies.setdefault(kind, past)

    def past(self, record: Generation) -> list[float]:
        """What is known of past latencies of jobs like `record` (no I/O)."""
        return self._latencies.get(kind_of(record), [])[-LEARN_FROM:]

    def remember(self, record: Generation) -> None:
        """A job finished: its latency joins its kind's (when that kind was learned)."""
        latency = finish_time(record)
        if latency and kind_of(record) in self._latencies:
            self._latencies[kind_of(record)].append(latency)

    def model_for(self, record: Generation) -> LatencyModel:
        """The latency model of `record`'s job, in the backend's seconds."""
        scale = self._poll.time_scale  # past latencies are in our seconds
        past = [x / scale for x in self.past(record)]
        return latency_model(record.params.duration, past, model=record.model)

    def expected_seconds(self, record: Generation) -> float:
        """The typical latency of a job like this one (learned, else the prior)."""
        if self._poll.expected_s is not None:
            return self._poll.expected_s * self._poll.time_scale
        return self.model_for(record).median_s * self._poll.time_scale


def note_phase(record: Generation, status: str, *, elapsed: float, unfinished_at: float) -> None:
    """Time spent queued, and the job's latency once it ended."""
    if status == "PROCESSING":
        record.timings["queued_s"] = round(elapsed, 3)
    elif status in ("COMPLETED", "FAILED"):
        record.timings["latency_s"] = round(elapsed, 3)
        # It ended between the last check that saw it running and this one; learning
        # from the detection time instead would feed each lag into the next schedule.
        record.timings["finish_estimate_s"] = round((unfinished_at + elapsed) / 2, 3)
