"""Requests per second per API key, as a token bucket.

Buckets are keyed by a hash of the key, so the key itself is never kept here (and
cannot leak into the stats through this table)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity`; starts full."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when there was one, else the seconds until there is."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    def __init__(self, rate: float | None, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.rate = rate
        self._buckets: dict[str, TokenBucket] = {}

    def configure(self, rate: float | None) -> None:
        if rate != self.rate:
            self.rate = rate
            self._buckets.clear()

    def wait_for(self, api_key: str) -> float:
        """0.0 when this request may go ahead, else seconds to wait before retrying."""
        if self.rate is None:
            return 0.0
        now = self.clock()
        digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
        bucket = self._buckets.get(digest)
        if bucket is None:
            bucket = self._buckets[digest] = TokenBucket(self.rate, max(1.0, self.rate), now)
        return bucket.take(now)


def retry_after(wait: float) -> str:
    """A Retry-After value: whole seconds, never 0 (a client would retry at once)."""
    return str(max(1, math.ceil(wait)))
