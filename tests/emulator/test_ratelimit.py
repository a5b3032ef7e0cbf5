from __future__ import annotations

from sora_widget.emulator.ratelimit import RateLimiter, TokenBucket, retry_after


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_of_the_rate_then_refills():
    bucket = TokenBucket(rate=2.0, capacity=2.0, now=0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == 0.5
    assert bucket.take(0.5) == 0.0


def test_slow_rates_still_allow_one_request_and_advise_whole_seconds():
    clock = Clock()
    limiter = RateLimiter(0.5, clock)
    assert limiter.wait_for("k") == 0.0
    wait = limiter.wait_for("k")
    assert wait == 2.0 and retry_after(wait) == "2"
    assert retry_after(0.01) == "1"
    assert retry_after(1.2) == "2"


def test_each_key_has_its_own_bucket_and_keys_are_not_kept():
    clock = Clock()
    limiter = RateLimiter(1.0, clock)
    assert limiter.wait_for("sk-alpha") == 0.0
    assert limiter.wait_for("sk-alpha") > 0
    assert limiter.wait_for("sk-beta") == 0.0
    assert "sk-alpha" not in repr(limiter._buckets)


def test_no_limit_and_reconfiguring():
    clock = Clock()
    limiter = RateLimiter(None, clock)
    assert all(limiter.wait_for("k") == 0.0 for _ in range(100))
    limiter.configure(1.0)
    assert limiter.wait_for("k") == 0.0
    assert limiter.wait_for("k") == 1.0
    limiter.configure(None)
    assert limiter.wait_for("k") == 0.0
