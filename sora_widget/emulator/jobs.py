"""Jobs and their lifecycle, as a pure state machine driven by an injected clock.

A job waits QUEUED until one of `workers` is free, is PROCESSING for its latency
(and at least until its video is rendered), then ends COMPLETED — or FAILED when its
prompt was blocked or its render broke. A job's latency is the configured one scaled
by its model (`catalogue.latency_scale`), and a FAILED job gives back its credits:
Segmind charges only what it delivered. Nothing here sleeps or does I/O: `advance(now)`
replays everything that happened up to `now` in time order, so a queued job starts at
the very moment a worker freed up even if nobody looked then. That keeps the states a
client sees exact, and lets the tests drive time by hand.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..params import DEFAULT_MODEL, Request
from .catalogue import cost_usd, latency_scale
from .config import EmulatorConfig
from .render import VideoFile

QUEUED, PROCESSING, COMPLETED, FAILED = "QUEUED", "PROCESSING", "COMPLETED", "FAILED"
TERMINAL = frozenset({COMPLETED, FAILED})

CONTENT_POLICY_MESSAGE = (
    "Your request was blocked by our content policy: the prompt was flagged by moderation. "
    "Revise the prompt and try again."
)


class OutOfCredits(Exception):
    def __init__(self, cost: float, remaining: float) -> None:
        super().__init__(f"insufficient credits: this request costs {cost:g} and {remaining:g} remain")
        self.cost = cost
        self.remaining = remaining


@dataclass
class Job:
    request_id: str
    params: Request
    #: "async" (POST /v2) or "sync" (POST /v1, answered with the video itself)
    kind: str
    submitted_at: float
    #: how long it stays PROCESSING, drawn at submit
    processing_s: float
    seq: int
    #: the model of the table it was submitted to
    model: str = DEFAULT_MODEL
    #: what it costs at the table's prices (reported once it is COMPLETED)
    cost_usd: float = 0.0
    #: credits taken at submit (given back if it fails)
    charged: float = 0.0
    #: the reason it will fail, once known (a content block is known at submit)
    failure: str | None = None
    status: str = QUEUED
    started_at: float | None = None
    #: when its video was rendered, or found not to be needed
    ready_at: float | None = None
    completed_at: float | None = None
    video: VideoFile | None = None
    expired: bool = False

    @property
    def finishes_at(self) -> float | None:
        """When it leaves PROCESSING: never before its latency, never before its video."""
        if self.started_at is None or self.ready_at is None:
            return None
        return max(self.started_at + self.processing_s, self.ready_at)

    def metrics(self) -> dict[str, Any]:
        """Segmind's `metrics` keys (seconds; `cost` only once COMPLETED, since a failed
        job is not charged), plus the emulator's own: `render_time` and `synthetic`."""
        started = self.started_at if self.started_at is not None else self.submitted_at
        ended = self.completed_at if self.completed_at is not None else started
        metrics: dict[str, Any] = {
            "inference_time": round(ended - started, 3),
            "queue_time": round(started - self.submitted_at, 3),
            "total_time": round(ended - self.submitted_at, 3),
        }
        if self.status == COMPLETED:
            metrics["cost"] = self.cost_usd
        if self.video is not None:
            metrics["render_time"] = round(self.video.render_s, 3)
        metrics["synthetic"] = True
        return metrics

    def describe(self) -> dict[str, Any]:
        """What the stats endpoint shows about this job."""
        return {
            "kind": self.kind,
            "model": self.model,
            "status": self.status,
            "expired": self.expired,
            "params": _shown(self.params),
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "render_s": None if self.video is None else self.video.render_s,
            "bytes": None if self.video is None else self.video.size,
            "sha256": None if self.video is None else self.video.sha256,
            "error": self.failure if self.status == FAILED else None,
            "cost_usd": self.cost_usd if self.status == COMPLETED else None,
        }


@dataclass
class Events:
    """What changed during one `advance`."""

    started: list[Job] = field(default_factory=list)
    finished: list[Job] = field(default_factory=list)
    expired: list[Job] = field(default_factory=list)
    #: expired jobs now forgotten altogether (their stats go with them)
    forgotten: list[Job] = field(default_factory=list)


def blocked_word(prompt: str, block_words: tuple[str, ...]) -> str | None:
    lowered = prompt.casefold()
    return next((word for word in block_words if word.casefold() in lowered), None)


def cost_of(params: Request) -> float:
    """One credit per second of video."""
    return float(params.duration)


class JobStore:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.credits: float | None = config.credits
        self._rng = random.Random(config.seed)
        self._jobs: dict[str, Job] = {}
        #: finished jobs past their retention: gone for clients (their output may still
        #: answer, see `output_retention`), kept for the stats for one more retention
        #: period or until their output goes, then forgotten (a long-running emulator's
        #: memory stays bounded)
        self._expired: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._processing: list[Job] = []
        self._seq = 0
        #: the time of the last job that finished: a queued job cannot start before it
        self._last_finish = float("-inf")
        self._events = Events()

    def configure(self, config: EmulatorConfig) -> None:
        if config.credits != self.config.credits:
            self.credits = config.credits
        if config.seed != self.config.seed:
            self._rng = random.Random(config.seed)
        self.config = config

    # -- commands --------------------------------------------------------------------------

    def submit(self, params: Request, *, kind: str = "async", model: str = DEFAULT_MODEL) -> Job:
        """Accept a job of `model` (charging its credits), or raise `OutOfCredits`."""
        now = self.clock()
        self._replay(now)
        cost = cost_of(params)
        charged = 0.0
        if self.credits is not None:
            if cost > self.credits:
                raise OutOfCredits(cost, self.credits)
            self.credits -= cost
            charged = cost
        if self.config.latency_distribution == "lognormal":
            # a long right tail, like real generation times: jitter is the log-space sigma
            factor = math.exp(self._rng.gauss(0.0, self.config.latency_jitter))
        else:
            factor = 1 + self.config.latency_jitter * (2 * self._rng.random() - 1)
        self._seq += 1
        job = Job(
            request_id=str(uuid.uuid4()),
            params=params,
            kind=kind,
            submitted_at=now,
            processing_s=max(0.0, self.config.latency * latency_scale(model) * factor),
            seq=self._seq,
            model=model,
            cost_usd=cost_usd(model, params),
            charged=charged,
        )
        if blocked_word(params.prompt, self.config.block_words) is not None:
            job.failure = CONTENT_POLICY_MESSAGE
        self._jobs[job.request_id] = job
        self._queue.append(job)
        # start it now if a worker is free, so its start time is its submit time
        self._replay(now)
        return job

    def mark_ready(self, request_id: str, video: VideoFile | None, at: float) -> None:
        """The job's video is rendered (or, with None, none is needed)."""
        job = self._jobs.get(request_id)
        if job is not None and job.ready_at is None:
            job.video = video
            job.ready_at = at

    def mark_broken(self, request_id: str, reason: str, at: float) -> None:
        """Rendering failed: the job will end FAILED with `reason`."""
        job = self._jobs.get(request_id)
        if job is not None and job.ready_at is None:
            job.failure = reason
            job.ready_at = at

    # -- time ------------------------------------------------------------------------------

    def advance(self, now: float | None = None) -> Events:
        """Replay, in time order, every start, finish and expiry up to `now`, and say what
        happened since the last call (including starts a `submit` caused)."""
        self._replay(self.clock() if now is None else now)
        events, self._events = self._events, Events()
        return events

    def _replay(self, now: float) -> None:
        events = self._events
        while True:
            while (
                self._queue
                and len(self._processing) < self.config.workers
                and self._queue[0].submitted_at <= now
            ):
                job = self._queue.popleft()
                job.status = PROCESSING
                job.started_at = max(job.submitted_at, self._last_finish)
                self._processing.append(job)
                events.started.append(job)
            due = [(t, j.seq, j) for j in self._processing if (t := j.finishes_at) is not None and t <= now]
            if not due:
                break
            job = min(due, key=lambda item: item[:2])[2]
            self._finish(job)
            events.finished.append(job)
        events.expired += self._expire(now)
        events.forgotten += self._forget(now)

    def next_event_at(self) -> float | None:
        """When `advance` next has something to do, if that is known yet."""
        times = [t for t in (j.finishes_at for j in self._processing) if t is not None]
        times += [
            j.completed_at + self.config.retention for j in self._jobs.values() if j.completed_at is not None
        ]
        return min(times, default=None)

    def _finish(self, job: Job) -> None:
        finished = job.finishes_at
        assert finished is not None
        job.completed_at = finished
        job.status = FAILED if job.failure is not None else COMPLETED
        if job.status == FAILED and job.charged and self.credits is not None:
            self.credits += job.charged  # nothing delivered, nothing charged
            job.charged = 0.0
        self._processing.remove(job)
        self._last_finish = max(self._last_finish, finished)

    def _expire(self, now: float) -> list[Job]:
        gone = [
            j
            for j in self._jobs.values()
            if j.completed_at is not None and j.completed_at + self.config.retention <= now
        ]
        for job in gone:
            job.expired = True
            del self._jobs[job.request_id]
            self._expired[job.request_id] = job
        return gone

    def _forget(self, now: float) -> list[Job]:
        keep = self.config.retention + max(self.config.retention, self.output_kept_s)
        gone = [
            j for j in self._expired.values() if j.completed_at is not None and j.completed_at + keep <= now
        ]
        for job in gone:
            del self._expired[job.request_id]
        return gone

    # -- queries ---------------------------------------------------------------------------

    def get(self, request_id: str) -> Job | None:
        """The live job with this id; None when unknown or expired."""
        return self._jobs.get(request_id)

    @property
    def output_kept_s(self) -> float:
        """Seconds a finished job's output answers after it finished."""
        kept = self.config.output_retention
        return self.config.retention if kept is None else kept

    def output(self, request_id: str, now: float) -> Job | None:
        """The job whose output file still answers: live, or expired while its output is
        kept (`output_retention`)."""
        live = self._jobs.get(request_id)
        if live is not None or self.config.output_retention is None:
            return live  # without an output retention of its own, an output goes with its job
        job = self._expired.get(request_id)
        if job is None or job.completed_at is None or job.completed_at + self.output_kept_s <= now:
            return None
        return job

    def history(self) -> list[Job]:
        """The jobs submitted, in submission order: the live ones and those expired within
        the last retention period."""
        return sorted([*self._jobs.values(), *self._expired.values()], key=lambda j: j.seq)

    @property
    def submitted(self) -> int:
        return self._seq


def _shown(params: Request) -> dict[str, Any]:
    """The parameters for the stats: a data URI (up to megabytes) is summarised."""
    shown = params.to_dict()
    for name in ("input_reference", "last_frame"):
        reference = shown.get(name)
        if reference is not None and reference[:5].lower() == "data:":
            head = reference.split(",", 1)[0]
            digest = hashlib.sha256(reference.encode()).hexdigest()[:16]
            shown[name] = f"{head},… ({len(reference)} characters, sha256 {digest}…)"
    return shown
