"""The adaptive limiter: pure decisions on an injected clock, then the waiting on a manual one."""

from __future__ import annotations

import asyncio
import math

import pytest

from sora_widget.client import AdaptiveLimiter, AimdPacer, AsyncSoraClient, Clock, RateSettings
from sora_widget.emulator.ratelimit import TokenBucket

SETTINGS = RateSettings(
    decrease=0.5, recovery_s=10.0, recovery_requests=1, min_rate=0.5, default_pause_s=1.0, window_s=1.0
)


def test_nothing_is_paced_before_the_first_429():
    pacer = AimdPacer(SETTINGS)
    for i in range(100):
        assert pacer.reserve(5.0 + i * 0.001) == 5.0 + i * 0.001
        pacer.sent(5.0 + i * 0.001)
        pacer.observe(5.0 + i * 0.001, 200, None)
    assert pacer.rate is None and pacer.delayed == 0


def test_a_429_pauses_everyone_for_retry_after_then_paces_below_what_was_sent():
    pacer = AimdPacer(SETTINGS)
    for i in range(40):  # 40 requests in the last second
        pacer.sent(9.0 + (i + 1) * 0.025)
    pacer.observe(10.0, 429, 3.0)
    assert pacer.paused_until == 13.0
    assert pacer.rate == pytest.approx(20.0)  # half of the 40/s that overshot
    assert pacer.reserve(10.5) == 13.0  # the pause holds every request
    assert pacer.reserve(10.5) == pytest.approx(13.05)  # then one every 1/20 s
    assert pacer.reserve(20.0) == 20.0  # nobody waits when the rate is not used up


def test_a_429_without_retry_after_pauses_for_the_default():
    pacer = AimdPacer(SETTINGS, rate=4.0)
    pacer.observe(0.0, 429, None)  # too few sends to measure: the rate itself is halved
    assert pacer.paused_until == 1.0
    assert pacer.rate == 2.0


def test_one_overshoot_decreases_once_however_many_429s_it_draws():
    pacer = AimdPacer(SETTINGS, rate=10.0)
    for i in range(10):
        pacer.sent((i + 1) * 0.1)
    pacer.observe(1.0, 429, 1.0)
    pacer.observe(1.01, 429, 1.0)  # answers already on the wire
    pacer.observe(1.02, 429, 1.0)
    assert pacer.rate == 5.0 and pacer.decreases == 1 and pacer.refusals == 3
    assert pacer.paused_until == pytest.approx(2.02)  # but each one's Retry-After is honoured
    pacer.sent(3.5)
    pacer.observe(3.5, 429, 1.0)  # a later overshoot counts again
    assert pacer.decreases == 2 and pacer.rate < 5.0


def test_the_rate_climbs_back_linearly_while_pacing_holds_requests_back():
    pacer = AimdPacer(SETTINGS, rate=8.0)
    for i in range(8):
        pacer.sent((i + 1) / 8)
    pacer.observe(1.0, 429, 1.0)  # rate 4, resumes at 2.0, back to 8 in 10 s
    assert pacer.rate == 4.0
    t = 2.0
    while t < 7.0:
        t = pacer.reserve(t)  # demand beyond the rate: every request is held back
        pacer.sent(t)
        pacer.observe(t, 200, None)
    assert pacer.rate == pytest.approx(6.0, abs=0.2)  # half way after 5 s


def test_an_unused_allowance_does_not_grow():
    pacer = AimdPacer(SETTINGS, rate=8.0)
    pacer.sent(0.5)
    pacer.observe(1.0, 429, 1.0)
    rate = pacer.rate
    for t in range(3, 60, 5):  # one request every 5 s: never held back
        assert pacer.reserve(float(t)) == float(t)
        pacer.observe(float(t), 200, None)
    assert pacer.rate == rate


def test_server_errors_neither_grow_nor_shrink_the_rate():
    pacer = AimdPacer(SETTINGS, rate=3.0)
    pacer.observe(1.0, 503, 30.0)
    pacer.observe(1.0, 500, None)
    assert pacer.rate == 3.0 and pacer.paused_until == -math.inf


def test_the_rate_stays_within_its_bounds():
    pacer = AimdPacer(RateSettings(min_rate=1.0, max_rate=5.0, recovery_s=1.0, recovery_requests=1), rate=1.0)
    pacer.observe(0.0, 429, 0.0)
    assert pacer.rate == 1.0  # never below min_rate
    t = 0.0
    for _ in range(200):
        t = pacer.reserve(t)
        pacer.sent(t)
        pacer.observe(t, 200, None)
    assert pacer.rate == 5.0


def test_a_retry_after_beyond_the_cap_pauses_nobody():
    pacer = AimdPacer(RateSettings(max_pause_s=60.0), rate=2.0)
    pacer.observe(0.0, 429, 3600.0)
    assert pacer.reserve(1.0) == 1.0


def test_settings_are_checked():
    with pytest.raises(ValueError):
        RateSettings(decrease=1.0)
    with pytest.raises(ValueError):
        RateSettings(min_rate=0.0)


@pytest.mark.parametrize("limit", [0.5, 2.0, 20.0, 50.0])
def test_against_a_token_bucket_server_few_429s_and_most_of_the_allowance(limit):
    """Unbounded demand for 10 minutes against the emulator's own bucket (capacity one
    second's worth), at most 32 requests on the wire, answers after 50 ms. Once the limit
    is found (the first two minutes), under 1 % of requests are refused and over 70 % of
    the allowance is used."""
    pacer = AimdPacer()
    server = TokenBucket(limit, max(1.0, limit), now=0.0)
    answers: list[tuple[float, int, float | None]] = []  # (when, status, retry-after), in order
    t = 0.0
    counts = {"sent": 0, "refused": 0, "accepted": 0}
    while t < 600.0:
        if len(answers) >= 32:
            t = max(t, answers[0][0])
        epoch = pacer.epoch
        at = pacer.reserve(t)
        while answers and answers[0][0] <= at:  # answers that came back while waiting
            pacer.observe(*answers.pop(0))
        t = at
        if pacer.epoch != epoch:
            continue  # as AdaptiveLimiter.acquire: a 429 came meanwhile, book again
        pacer.sent(t)
        wait = server.take(t)
        answers.append((t + 0.05, 429, float(max(1, math.ceil(wait)))) if wait > 0 else (t + 0.05, 200, None))
        if t >= 120.0:
            counts["sent"] += 1
            counts["refused"] += wait > 0
            counts["accepted"] += wait <= 0
        t += 1e-4  # the next request is booked a moment later
    assert counts["refused"] / counts["sent"] <= 0.01, counts
    assert counts["accepted"] / 480.0 >= 0.7 * limit, counts


async def test_the_limiter_waits_and_books_again_after_a_429():
    clock = ManualClock()
    limiter = AdaptiveLimiter(Clock(now=clock.now, sleep=clock.sleep), SETTINGS, rate=2.0)
    await limiter.acquire()  # first one goes at once
    second = asyncio.ensure_future(limiter.acquire())  # booked for t = 0.5
    await asyncio.sleep(0)
    assert not second.done()
    limiter.observe(429, 4.0)  # meanwhile: a 429 pausing everyone until t = 4
    await clock.advance(0.5)
    assert not second.done()  # woke at 0.5, saw the 429, booked again
    await clock.advance(4.0)
    assert second.done()
    assert limiter.snapshot()["refusals"] == 1


def test_every_client_has_its_own_adaptive_limiter_by_default(tmp_path):
    a = AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path)
    b = AsyncSoraClient(api_key="k", base_url="http://127.0.0.1:9", output_dir=tmp_path)
    assert isinstance(a.limiter, AdaptiveLimiter) and a.limiter is not b.limiter
    assert a.requester.limiter is a.limiter


class ManualClock:
    """Time moves only when the test says; sleepers wake when it passes their deadline."""

    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.t + seconds, future))
        await future

    async def advance(self, to: float) -> None:
        self.t = to
        for deadline, future in list(self._sleepers):
            if deadline <= to and not future.done():
                future.set_result(None)
                self._sleepers.remove((deadline, future))
        for _ in range(5):  # let the woken tasks run (and perhaps sleep again)
            await asyncio.sleep(0)
