"""What clients asked of the emulator: counts tests use to prove client behaviour
(how often it polled, that it never resubmitted, that it never sent the key to the
output host). Only counts and ids — never headers."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from typing import Any

#: handling times kept per endpoint, for percentiles (the most recent ones)
SAMPLES = 20_000


class Traffic:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.answers: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.by_request: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.outputs_with_api_key = 0
        self.handling: defaultdict[str, deque[float]] = defaultdict(lambda: deque(maxlen=SAMPLES))
        #: when a client was first told a job had ended (benchmarks measure detection lag)
        self.detected_at: dict[str, float] = {}

    def arrived(self, endpoint: str) -> None:
        self.requests[endpoint] += 1

    def answered(self, endpoint: str, status: int, seconds: float) -> None:
        """A response is ready, `seconds` after the request arrived (chaos delays included)."""
        self.answers[endpoint][str(status)] += 1
        self.handling[endpoint].append(seconds)
        if status == 429:
            self.requests["rate_limited"] += 1

    def concerns(self, request_id: str, endpoint: str) -> None:
        self.by_request[request_id][endpoint] += 1

    def told_status(self, request_id: str, status: str, at: float) -> None:
        if status in ("COMPLETED", "FAILED"):
            self.detected_at.setdefault(request_id, at)

    def forget(self, request_id: str) -> None:
        """A job the emulator no longer remembers: its counts go with it."""
        self.by_request.pop(request_id, None)
        self.detected_at.pop(request_id, None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "answers": {endpoint: dict(counts) for endpoint, counts in self.answers.items()},
            "by_request": {rid: dict(counts) for rid, counts in self.by_request.items()},
            "outputs_with_api_key": self.outputs_with_api_key,
            "handling_ms": {endpoint: _summary(times) for endpoint, times in self.handling.items()},
            "detected_at": dict(self.detected_at),
        }


def _summary(seconds: deque[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)

    return {"p50": at(0.5), "p99": at(0.99), "max": at(1.0)}
