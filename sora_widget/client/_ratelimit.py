"""One adaptive rate limiter per client, shared by every job that client runs.

Segmind does not publish its rate limit, and it may differ per account, so the limiter
learns it instead of guessing a number. It lets requests go freely until the API
answers 429; from then on it paces them (a token bucket of capacity one, kept as the
"theoretical arrival time" of GCRA, so a thousand waiting jobs cost a thousand timers
and no polling) at a rate it adapts AIMD-style:

- on a 429, every request waits out the Retry-After (a pause for all, not just the
  refused one: the others would be refused too), and the rate drops to `decrease`
  times what was actually being sent — once per overshoot, not once per 429 of the
  burst that was already on the wire;
- while the pacing is what holds requests back and the API answers, the rate climbs
  linearly, back to where it was in `recovery_s` seconds, and then past it (probing
  whether the limit went up). A client that is not using its allowance does not grow
  it, so an idle kernel does not come back with a rate it never tried.

`AimdPacer` is the whole policy as plain methods of the times passed in (unit-tested
with an injected clock, no sleeps); `AdaptiveLimiter` adds the waiting, on the
client's clock, and implements `Limiter` for the Requester.

A known limit is better than a learned one: `PlanAllowance` keeps a kernel under the
requests a minute its plan allows (`sw.configure(requests_per_minute=5)`,
SORA_WIDGET_RPM) — every request of every client, submits, status checks, results and
the request history — and spends the slots where they matter most (`_policy.next_in_line`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from ..checks import check_limit
from ._policy import NOW, Turn, next_in_line, pace_s
from ._requests import Clock


@dataclass(frozen=True)
class RateSettings:
    #: a 429 sets the rate to this share of what was being sent
    decrease: float = 0.7
    #: after a decrease the rate climbs back to its old value in this many seconds, or
    #: over this many requests if that takes longer: each probe past the limit costs a
    #: 429 or two, so at a low limit probing must be rarer to keep their share small
    recovery_s: float = 30.0
    recovery_requests: int = 200
    #: Segmind's smallest plan allows 5 requests a minute
    min_rate: float = 0.05
    max_rate: float = 10_000.0
    #: the pause after a 429 that names no Retry-After
    default_pause_s: float = 1.0
    #: a longer Retry-After pauses only the refused request (its retry policy decides)
    max_pause_s: float = 120.0
    #: the window over which the send rate is measured (and pacing counts as recent)
    window_s: float = 1.0
    #: fewer sends than this in the window say too little about the send rate
    min_samples: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.decrease < 1.0:
            raise ValueError("decrease must be between 0 and 1")
        if not 0.0 < self.min_rate <= self.max_rate:
            raise ValueError("min_rate must be > 0 and at most max_rate")
        if self.recovery_s <= 0 or self.window_s <= 0:
            raise ValueError("recovery_s and window_s must be > 0")


class AimdPacer:
    """The limiter's decisions. Times are seconds on any monotonic clock."""

    def __init__(self, settings: RateSettings | None = None, rate: float | None = None) -> None:
        self.settings = settings or RateSettings()
        #: requests per second; None until the first 429 (nothing is paced)
        self.rate = rate
        self.paused_until = -math.inf
        #: changes at every 429: a waiter booked before it books again
        self.epoch = 0
        self.refusals = 0
        self.decreases = 0
        self.delayed = 0
        self._next_at = -math.inf  # when the next request may go at the current rate
        self._slope = 0.0  # rate added per second while pacing holds requests back
        self._grown_at: float | None = None
        self._held_back_at = -math.inf
        self._decrease_blocked_until = -math.inf
        self._sent: deque[float] = deque()

    def reserve(self, now: float) -> float:
        """Book the next request: the moment (≥ now) it may be sent."""
        at = max(now, self.paused_until)
        if self.rate is not None:
            at = max(at, self._next_at)
            self._next_at = at + 1.0 / self.rate
        if at > now:
            self._held_back_at = now
            self.delayed += 1
        return at

    def sent(self, now: float) -> None:
        """A request went out at `now` (the send rate is measured from these)."""
        self._sent.append(now)
        self._forget(now)

    def sent_rate(self, now: float) -> float:
        """Requests per second sent over the last window."""
        self._forget(now)
        return len(self._sent) / self.settings.window_s

    def observe(self, now: float, status: int, retry_after: float | None) -> None:
        """The API answered `status` (with Retry-After seconds, if it said)."""
        if status == 429:
            self._refused(now, retry_after)
        elif status < 500:
            self._answered(now)

    def _refused(self, now: float, retry_after: float | None) -> None:
        s = self.settings
        self.refusals += 1
        self.epoch += 1
        pause = s.default_pause_s if retry_after is None else retry_after
        if pause <= s.max_pause_s:
            self.paused_until = max(self.paused_until, now + pause)
        # The requests already on the wire when the first 429 came back are refused
        # too: one overshoot, one decrease.
        if now < self._decrease_blocked_until:
            return
        sending = max(self.sent_rate(now), s.min_rate)
        if self.rate is None:
            base = sending  # the first overshoot: what was sent is all there is to go by
        elif len(self._sent) < s.min_samples:
            base = self.rate  # too few sends to say more than the rate does
        else:
            base = min(self.rate, sending)  # the rate may be above what is sent (demand fell)
        new_rate = max(s.min_rate, base * s.decrease)
        recovery = max(s.recovery_s, s.recovery_requests / base)
        self._slope = max(base - new_rate, s.min_rate) / recovery
        self.rate = new_rate
        self.decreases += 1
        resume_at = max(now, self.paused_until)
        self._next_at = resume_at
        self._grown_at = resume_at
        self._decrease_blocked_until = resume_at + s.window_s

    def _answered(self, now: float) -> None:
        if self.rate is None or self._grown_at is None or now <= self._grown_at:
            return
        if now - self._held_back_at <= self.settings.window_s:
            self.rate = min(self.settings.max_rate, self.rate + self._slope * (now - self._grown_at))
        self._grown_at = now

    def _forget(self, now: float) -> None:
        horizon = now - self.settings.window_s
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def snapshot(self, now: float) -> dict[str, Any]:
        return {
            "rate": None if self.rate is None else round(self.rate, 3),
            "paused_s": round(max(0.0, self.paused_until - now), 3),
            "refusals": self.refusals,
            "decreases": self.decreases,
            "delayed": self.delayed,
        }


class AdaptiveLimiter:
    """The client's `Limiter`: waits as `AimdPacer` says, on the client's clock."""

    def __init__(
        self, clock: Clock | None = None, settings: RateSettings | None = None, rate: float | None = None
    ) -> None:
        self.clock = clock or Clock()
        self.pacer = AimdPacer(settings, rate)

    @property
    def rate(self) -> float | None:
        return self.pacer.rate

    async def acquire(self) -> None:
        pacer, clock = self.pacer, self.clock
        while True:
            epoch = pacer.epoch
            now = clock.now()
            at = pacer.reserve(now)
            if at > now:
                await clock.sleep(at - now)
                if pacer.epoch != epoch:
                    continue  # a 429 came meanwhile: book again under the new pace
            pacer.sent(clock.now())
            return

    def observe(self, status: int, retry_after: float | None) -> None:
        self.pacer.observe(self.clock.now(), status, retry_after)

    def snapshot(self) -> dict[str, Any]:
        return self.pacer.snapshot(self.clock.now())

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:.2f}/s"
        return f"AdaptiveLimiter({rate})"


# -- a plan's allowance ----------------------------------------------------------------------

RPM_ENV = "SORA_WIDGET_RPM"
#: what a request is spaced by beyond 60 / rpm: a server counting its own minute sees us
#: a little late or early, and one request too many in its window is a 429
PACE_MARGIN = 0.03


def check_rpm(value: object, *, source: str = "requests_per_minute") -> float | None:
    """A cap on requests a minute: a number > 0, or None for none."""
    allowed = "requests a minute, > 0 (or None for no cap)"
    return check_limit(value, source=source, allowed=allowed, zero_allowed=False)


def rpm_from_env() -> float | None:
    text = os.environ.get(RPM_ENV, "").strip()
    return check_rpm(text, source=RPM_ENV) if text else None


class PlanAllowance:
    """At most `per_minute` API requests a minute — a plan's limit (Segmind's: 5 a minute
    on the free plan, 50 on Pro) — for every client of the process that shares it: spaced
    evenly, so no minute the server counts holds one too many; and when several wait, the
    next slot goes to the one `_policy.next_in_line` names (a submit or a result before a
    status check, the status check likeliest to find its job ended before the others).

    Waiters may come from any thread's loop; each sleeps on its own loop until the next
    slot, and whoever wakes first then hands that slot out. `per_minute` None: no cap
    (every `take` returns at once)."""

    def __init__(
        self, per_minute: float | None = None, clock: Clock | None = None, *, margin: float = PACE_MARGIN
    ) -> None:
        self.clock = clock or Clock()
        self.margin = margin
        self._lock = threading.Lock()
        self._per_minute: float | None = None
        self._pace = 0.0
        self._next_at = -math.inf
        self._waiting: list[_Waiter] = []
        #: slots handed out, by the rank of the request; 429s met despite the pacing
        self.granted: dict[int, int] = {}
        self.refusals = 0
        self.set(per_minute)

    @property
    def per_minute(self) -> float | None:
        return self._per_minute

    @property
    def pace_s(self) -> float:
        """Seconds between two requests (0: no cap)."""
        return self._pace

    def set(self, per_minute: float | None) -> None:
        with self._lock:
            self._per_minute = per_minute
            self._pace = 0.0 if per_minute is None else pace_s(per_minute, self.margin)

    async def take(self, turn: Turn = NOW) -> None:
        """Wait for this request's slot."""
        if self._pace <= 0.0:
            return
        loop = asyncio.get_running_loop()
        me = _Waiter(turn, loop, loop.create_future())
        with self._lock:
            self._waiting.append(me)
        try:
            while True:
                with self._lock:
                    self._hand_out(self.clock.now())
                    if me.granted:
                        return
                    wait = max(0.0, self._next_at - self.clock.now())
                await _first_of(me.woken, self.clock.sleep(wait))
        finally:
            with self._lock:
                if me in self._waiting:
                    self._waiting.remove(me)

    def _hand_out(self, now: float) -> None:
        """The slot that is due, if one is, to the waiter next in line (under the lock)."""
        if not self._waiting or now < self._next_at:
            return
        chosen = self._waiting.pop(next_in_line([w.turn for w in self._waiting], now))
        chosen.granted = True
        self._next_at = now + self._pace
        self.granted[chosen.turn.rank] = self.granted.get(chosen.turn.rank, 0) + 1
        if not chosen.woken.done():
            with contextlib.suppress(RuntimeError):  # its loop has closed: nobody to wake
                chosen.loop.call_soon_threadsafe(_wake, chosen.woken)

    def refused(self, retry_after: float | None) -> None:
        """A 429 met all the same (another program spending the same key): nothing goes
        before the server's Retry-After, or a whole pace."""
        with self._lock:
            self.refusals += 1
            pause = max(self._pace, retry_after or 0.0)
            self._next_at = max(self._next_at, self.clock.now() + pause)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "per_minute": self._per_minute,
                "waiting": len(self._waiting),
                "granted": dict(self.granted),
                "refusals": self.refusals,
            }

    def __repr__(self) -> str:
        cap = "no cap" if self._per_minute is None else f"{self._per_minute:g} a minute"
        return f"PlanAllowance({cap})"


@dataclass
class _Waiter:
    turn: Turn
    loop: asyncio.AbstractEventLoop
    woken: asyncio.Future[None]
    granted: bool = False


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _first_of(future: asyncio.Future[None], sleeping: Awaitable[None]) -> None:
    """Until `future` is done or the sleep ends, whichever comes first."""
    sleeper = asyncio.ensure_future(sleeping)
    try:
        await asyncio.wait([future, sleeper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()


_session: PlanAllowance | None = None
_session_lock = threading.Lock()


def session_allowance() -> PlanAllowance:
    """This kernel's (this process's) cap on API requests a minute, shared by all its
    clients: SORA_WIDGET_RPM until `sw.configure(requests_per_minute=...)` says otherwise."""
    global _session
    with _session_lock:
        if _session is None:
            _session = PlanAllowance(rpm_from_env())
        return _session
