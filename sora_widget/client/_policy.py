"""When to poll and when to retry: pure functions of time, nothing here sleeps or does I/O.

Polling. A Sora 2 job takes about three minutes, and what matters is how soon after it
finishes we notice (detection lag) and how many status requests that costs. Checking
at a fixed interval spends most requests while the job cannot possibly be done. Here
the gap to the next check follows the *hazard* of the latency distribution — the
chance that a job still running at time t finishes in the next second. Minimising
expected lag + λ·requests gives gap(t) = sqrt(2λ / hazard(t)): long gaps while a
finish is unlikely, short ones around the expected finish, clamped to
[min_interval, max_interval]. The first check comes within two seconds so that fast
failures (content blocks, bad references) surface at once.

The latency model is a log-normal around a median learned from past jobs of the same
duration, size and API host (the ledger keeps them), with a prior per duration, plus a
small share of early finishes (fast failures) so early checks are never abandoned.

Retrying. Reads (status, result, download) may be repeated: they change nothing on the
server. A submit may not be repeated unless the server certainly did not take it —
otherwise the same clip could be paid for twice. `decide_retry` encodes both rules.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

from ..params import DEFAULT_MODEL, typical_latency_s

# -- polling ------------------------------------------------------------------------------

PRIOR_SIGMA = 0.25  # log-space spread of the prior: most jobs within ±30 %
LEARNED_SIGMA_FLOOR = 0.08
EARLY_FINISH_SHARE = 0.03  # fast failures: a small chance of finishing in the first seconds
EARLY_FINISH_MEAN_S = 8.0
# Once a job is well past the expected finish the model was wrong about it; a broad
# straggler component lets the schedule relax back towards max_interval.
STRAGGLER_SHARE = 0.04
STRAGGLER_FACTOR = 3.0
STRAGGLER_SIGMA = 0.8


@dataclass(frozen=True)
class LatencyModel:
    """What we expect of one job's latency: log-normal(median, sigma), plus a few early
    finishes (fast failures) and a few stragglers (a backlog, an outage) far beyond it."""

    median_s: float
    sigma: float = PRIOR_SIGMA
    early_share: float = EARLY_FINISH_SHARE
    early_mean_s: float = EARLY_FINISH_MEAN_S
    straggler_share: float = STRAGGLER_SHARE

    def survival(self, t: float) -> float:
        """P(latency > t)."""
        main = 1 - self.early_share - self.straggler_share
        return (
            main * _lognormal_survival(t, self.median_s, self.sigma)
            + self.early_share * math.exp(-max(t, 0.0) / self.early_mean_s)
            + self.straggler_share * _lognormal_survival(t, self.median_s * STRAGGLER_FACTOR, STRAGGLER_SIGMA)
        )

    def density(self, t: float) -> float:
        main = 1 - self.early_share - self.straggler_share
        return (
            main * _lognormal_density(t, self.median_s, self.sigma)
            + self.early_share * math.exp(-max(t, 0.0) / self.early_mean_s) / self.early_mean_s
            + self.straggler_share * _lognormal_density(t, self.median_s * STRAGGLER_FACTOR, STRAGGLER_SIGMA)
        )

    def hazard(self, t: float) -> float:
        survival = self.survival(t)
        return self.density(t) / survival if survival > 1e-12 else 1.0


def latency_model(
    duration: int, past_latencies: Sequence[float] = (), *, model: str = DEFAULT_MODEL
) -> LatencyModel:
    """The model for a new job: learned from past latencies when there are any, else the
    prior of its model's catalogue entry for its duration (`params.typical_latency_s`)."""
    past = [x for x in past_latencies if x > 0]
    if not past:
        return LatencyModel(median_s=typical_latency_s(model, duration))
    median = statistics.median(past)
    if len(past) < 3:
        # One or two observations say where, not how spread: keep the prior's width.
        return LatencyModel(median_s=median)
    logs = [math.log(x) for x in past]
    sigma = max(LEARNED_SIGMA_FLOOR, statistics.pstdev(logs))
    return LatencyModel(median_s=median, sigma=min(sigma, 1.0))


@dataclass(frozen=True)
class PollPolicy:
    """How a job is polled. Times are seconds since the submit was accepted."""

    first_check: float = 1.5
    min_interval: float = 1.0
    max_interval: float = 15.0
    #: request cost in seconds of expected lag; larger → fewer requests, more lag
    request_cost: float = 0.025
    #: no gap in which more than this share of the still-running jobs would finish
    max_finish_share: float = 0.1
    #: overrides the learned/prior expectation (seconds), e.g. for a known-fast backend
    expected_s: float | None = None
    #: how fast the backend's clock runs against ours: every other field (and the latency
    #: model) is in the backend's seconds, so a benchmark can replay 3-minute jobs in 18 s
    time_scale: float = 1.0

    def scaled(self, factor: float) -> PollPolicy:
        """The same schedule on a time axis compressed by `factor` (benchmarks scale time)."""
        return replace(self, time_scale=self.time_scale * factor)


def next_poll_delay(
    policy: PollPolicy,
    model: LatencyModel,
    elapsed: float,
    *,
    checks_done: int,
    retry_after: float | None = None,
) -> float:
    """Seconds from now until the next status check.

    `elapsed` is the time since the submit; `checks_done` how many status checks were
    made. A server's Retry-After always wins: polling earlier would only be refused.
    """
    scale = policy.time_scale
    elapsed = elapsed / scale
    if checks_done == 0:
        delay = max(0.0, policy.first_check - elapsed)
    else:
        if policy.expected_s is not None:
            model = replace(model, median_s=policy.expected_s)
        hazard = max(model.hazard(elapsed), 1e-9)
        delay = math.sqrt(2 * policy.request_cost / hazard)
        delay = min(policy.max_interval, delay, _gap_within_share(model, elapsed, policy.max_finish_share))
        delay = max(policy.min_interval, delay)
    delay *= scale
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _gap_within_share(model: LatencyModel, t: float, share: float, longest: float = 3600.0) -> float:
    """The longest gap after `t` in which at most `share` of the jobs still running
    would finish. The hazard rule looks only at the present instant; when the finish
    is near but the hazard still low (short jobs, early on), it would leap over it."""
    left = model.survival(t)
    if left <= 0.0 or (left - model.survival(t + longest)) <= share * left:
        return longest
    low, high = 0.0, longest
    for _ in range(40):  # bisection to well under a millisecond
        middle = (low + high) / 2
        if left - model.survival(t + middle) <= share * left:
            low = middle
        else:
            high = middle
    return low


def _lognormal_survival(t: float, median: float, sigma: float) -> float:
    if t <= 0:
        return 1.0
    z = (math.log(t) - math.log(median)) / sigma
    return 0.5 * math.erfc(z / math.sqrt(2))


def _lognormal_density(t: float, median: float, sigma: float) -> float:
    if t <= 0:
        return 0.0
    z = (math.log(t) - math.log(median)) / sigma
    return math.exp(-0.5 * z * z) / (t * sigma * math.sqrt(2 * math.pi))


def finish_chance(model: LatencyModel, since: float, until: float) -> float:
    """The chance that a job last seen running `since` seconds after its submit has ended
    by `until` seconds: what one status check then is worth (backend seconds)."""
    if until <= since:
        return 0.0
    left = model.survival(max(since, 0.0))
    if left <= 1e-12:
        return 1.0
    return min(1.0, max(0.0, (left - model.survival(until)) / left))


# -- sharing a plan's allowance -----------------------------------------------------------
#
# With a cap on requests a minute (a plan's allowance), requests wait their turn, and who
# goes next matters: whatever a caller is waiting on first (a submit, a result, an upload,
# a look in the request history), then the status check most likely to find its job
# ended — across every running job — and last what nobody waits on (a finished job's
# charge). The waiting is `_ratelimit.Allowance`'s; the choice is here.

#: ranks of a turn, most pressing first
URGENT = 0
STATUS = 1
LATER = 2


@dataclass(frozen=True)
class Turn:
    """A request's place in the queue for the allowance: its `rank`, and for a status
    check the `chance` (a function of the clock's time) that its job has ended since it
    was last seen running."""

    rank: int = URGENT
    chance: Callable[[float], float] | None = None


NOW = Turn(URGENT)
WHENEVER = Turn(LATER)


def status_turn(chance: Callable[[float], float]) -> Turn:
    return Turn(STATUS, chance)


def next_in_line(waiting: Sequence[Turn], now: float) -> int:
    """The position in `waiting` (oldest first) of the request that goes next: the most
    pressing rank; among status checks the likeliest to find its job ended; else the oldest."""

    def key(position: int) -> tuple[int, float, int]:
        turn = waiting[position]
        chance = turn.chance(now) if turn.rank == STATUS and turn.chance is not None else 0.0
        return (turn.rank, -chance, position)

    return min(range(len(waiting)), key=key)


def pace_s(per_minute: float, margin: float) -> float:
    """Seconds between two requests that keep under `per_minute`, `margin` to spare (a
    window the server counts may start a little before or after ours)."""
    return 60.0 / per_minute * (1.0 + margin)


# -- retrying -----------------------------------------------------------------------------

RequestKind = Literal["submit", "read"]
#: what happened to one attempt, as far as retrying is concerned
#:  not_sent   — the connection was never established; the server saw nothing
#:  timeout    — no answer in time; the server may have acted
#:  transport  — the connection broke after the request went out
Outcome = int | Literal["not_sent", "timeout", "transport"]

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    #: a Retry-After longer than this is not waited for: the error is raised instead
    max_retry_after: float = 120.0
    #: no retry starts once this much time has passed since the first attempt
    total_budget: float = 180.0


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0
    #: for a submit that is not retried: whether the server may have accepted it
    outcome_unknown: bool = False


def decide_retry(
    policy: RetryPolicy,
    kind: RequestKind,
    outcome: Outcome,
    *,
    attempt: int,
    elapsed: float,
    retry_after: float | None = None,
    jitter: float = 1.0,
) -> RetryDecision:
    """Whether attempt number `attempt` (1-based) should be followed by another.

    `jitter` is a number in [0, 1) drawn by the caller, so this stays deterministic.
    """
    unknown = kind == "submit" and not _certainly_rejected(outcome)
    if unknown:
        # A submit the server may have accepted is never repeated: it could bill twice.
        return RetryDecision(retry=False, outcome_unknown=True)
    retryable = outcome in ("not_sent", "timeout", "transport") or outcome in RETRYABLE_STATUSES
    if not retryable or attempt >= policy.max_attempts:
        return RetryDecision(retry=False)
    if retry_after is not None and retry_after > policy.max_retry_after:
        return RetryDecision(retry=False)
    delay = retry_delay(policy, attempt, retry_after=retry_after, jitter=jitter)
    if elapsed + delay > policy.total_budget:
        return RetryDecision(retry=False)
    return RetryDecision(retry=True, delay=delay)


def _certainly_rejected(outcome: Outcome) -> bool:
    """For a submit: the server did not take it (so nothing was billed)."""
    if outcome == "not_sent":
        return True
    # 429 means the server refused before doing anything; any other 4xx is a final,
    # equally certain refusal (not retried, but not an unknown outcome either).
    return isinstance(outcome, int) and 400 <= outcome < 500


def retry_delay(policy: RetryPolicy, attempt: int, *, retry_after: float | None, jitter: float) -> float:
    """Full-jitter exponential backoff; a server's Retry-After is honoured instead."""
    if retry_after is not None:
        return max(0.0, retry_after)
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
    return jitter * ceiling


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = now or datetime.now(timezone.utc)
        return max(0.0, (when - now).total_seconds())
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds
