"""What clients asked of the emulator: counts tests use to prove client behaviour
(how often it polled, that it never resubmitted, that it never sent the key to the
output host). Only counts and ids — never headers."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any


class Traffic:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.answers: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.by_request: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.outputs_with_api_key = 0

    def arrived(self, endpoint: str) -> None:
        self.requests[endpoint] += 1

    def answered(self, endpoint: str, status: int) -> None:
        self.answers[endpoint][str(status)] += 1
        if status == 429:
            self.requests["rate_limited"] += 1

    def concerns(self, request_id: str, endpoint: str) -> None:
        self.by_request[request_id][endpoint] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "answers": {endpoint: dict(counts) for endpoint, counts in self.answers.items()},
            "by_request": {rid: dict(counts) for rid, counts in self.by_request.items()},
            "outputs_with_api_key": self.outputs_with_api_key,
        }
