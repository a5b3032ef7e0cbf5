"""Injected failures: server errors, slow answers and connections cut mid-body.

One seeded generator draws every decision, the same number of draws per request, so
a run with the same seed and the same request order fails the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .config import EmulatorConfig

ERROR_STATUSES = (500, 502, 504)


@dataclass(frozen=True)
class Verdict:
    #: seconds to wait before answering
    delay: float = 0.0
    #: answer this 5xx instead of handling the request
    error: int | None = None
    #: cut the connection partway through the body
    drop: bool = False


class Chaos:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self.errors = 0
        self.drops = 0
        self.delays = 0

    def configure(self, config: EmulatorConfig) -> None:
        if config.seed != self.config.seed:
            self._rng = random.Random(config.seed)
        self.config = config

    def decide(self, endpoint: str) -> Verdict:
        config = self.config
        if endpoint not in config.chaos_endpoints:
            return Verdict()
        delay_draw, error_draw, drop_draw = self._rng.random(), self._rng.random(), self._rng.random()
        status = self._rng.choice(ERROR_STATUSES)
        delay = config.chaos_delay if config.chaos_delay > 0 and delay_draw < config.chaos_delay_rate else 0.0
        error = status if error_draw < config.chaos_error_rate else None
        drop = error is None and drop_draw < config.chaos_drop_rate
        self.delays += delay > 0
        self.errors += error is not None
        self.drops += drop
        return Verdict(delay=delay, error=error, drop=drop)

    def counts(self) -> dict[str, int]:
        return {"errors": self.errors, "drops": self.drops, "delays": self.delays}
