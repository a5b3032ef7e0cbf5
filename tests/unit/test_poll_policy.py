"""The poll schedule: properties that must hold whatever the tuning."""

import itertools
import math
import random

import pytest

from sora_widget.client._policy import (
    LatencyModel,
    PollPolicy,
    latency_model,
    next_poll_delay,
)


def schedule(policy, model, horizon=1200.0):
    """Times of the status checks of a job that never finishes (pure: no clock)."""
    t, times = 0.0, []
    while t < horizon:
        t += next_poll_delay(policy, model, t, checks_done=len(times))
        times.append(t)
    return times


def detection(times, latency):
    """(requests, lag) for a job finishing at `latency`."""
    for n, t in enumerate(times, start=1):
        if t >= latency:
            return n, t - latency
    raise AssertionError("job never detected")


POLICY = PollPolicy()


def test_first_check_within_two_seconds():
    assert schedule(POLICY, latency_model(8))[0] <= 2.0
    assert next_poll_delay(POLICY, latency_model(8), 0.0, checks_done=0) <= 2.0


@pytest.mark.parametrize("duration", [4, 8, 12])
def test_no_gap_exceeds_max_interval(duration):
    times = schedule(POLICY, latency_model(duration), horizon=3000)
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert max(gaps) <= POLICY.max_interval + 1e-9
    assert min(gaps[1:]) >= POLICY.min_interval - 1e-9


def test_sparse_early_dense_around_expected_finish():
    model = latency_model(8)  # median 180 s
    times = schedule(POLICY, model)
    early = [t for t in times if 10 <= t <= 90]
    near = [t for t in times if 160 <= t <= 200]
    assert len(early) <= 8
    assert len(near) >= 15
    late_gaps = [b - a for a, b in itertools.pairwise(times) if a > 600]
    assert late_gaps and min(late_gaps) > 5  # long after the expected finish, back off


def test_beats_fixed_interval_polling_on_a_realistic_spread():
    rng = random.Random(7)
    latencies = [180 * math.exp(rng.gauss(0, 0.15)) for _ in range(2000)]
    times = schedule(POLICY, latency_model(8))
    ours = [detection(times, x) for x in latencies]
    our_requests = sum(n for n, _ in ours) / len(ours)
    our_lag = sum(lag for _, lag in ours) / len(ours)
    fixed2_requests = sum(math.ceil(x / 2.0) for x in latencies) / len(latencies)
    # goal: no worse lag than polling every 2 s (mean 1 s) at most half its requests
    assert our_lag <= 1.0
    assert our_requests <= fixed2_requests / 2


def test_schedule_learns_from_past_latencies():
    fast = latency_model(8, [20.0, 21.0, 19.5, 20.5])
    assert fast.median_s == pytest.approx(20.25)
    times = schedule(POLICY, fast, horizon=60)
    assert len([t for t in times if 15 <= t <= 25]) >= 7


def test_one_observation_sets_the_median_but_keeps_the_prior_spread():
    model = latency_model(8, [42.0])
    assert model.median_s == 42.0
    assert model.sigma == LatencyModel(1.0).sigma


def test_retry_after_wins():
    assert next_poll_delay(POLICY, latency_model(8), 170, checks_done=5, retry_after=30.0) == 30.0
    assert next_poll_delay(POLICY, latency_model(8), 0.0, checks_done=0, retry_after=5.0) == 5.0


def test_expected_override_and_scaling():
    quick = PollPolicy(expected_s=5.0)
    times = schedule(quick, latency_model(8), horizon=10)
    assert len([t for t in times if 4 <= t <= 8]) >= 3
    scaled = POLICY.scaled(0.1)
    model = latency_model(8)
    assert next_poll_delay(scaled, model, 0.0, checks_done=0) == pytest.approx(0.15)
    for t in (5.0, 17.0, 40.0):  # the same schedule, ten times faster
        assert next_poll_delay(scaled, model, t, checks_done=3) == pytest.approx(
            0.1 * next_poll_delay(POLICY, model, t * 10, checks_done=3)
        )


def test_hazard_is_a_probability_rate():
    model = latency_model(8)
    assert model.survival(0) == pytest.approx(1.0)
    assert model.survival(10_000) < 1e-4
    assert all(model.hazard(t) > 0 for t in (0.5, 60, 180, 600))


def test_a_near_finish_is_never_leapt_over():
    # Learned: jobs like this take ~2.5 s. At the first check (1.5 s) the hazard is still
    # low, but most jobs will finish within the next second: the next check must not wait
    # past them.
    model = latency_model(4, [2.5])
    times = schedule(POLICY, model, horizon=10)
    assert times[0] == pytest.approx(1.5)
    assert times[1] <= 2.6
    late = [detection(times, x)[1] for x in (2.2, 2.5, 2.9, 3.4)]
    assert max(late) <= POLICY.min_interval + 1e-9
