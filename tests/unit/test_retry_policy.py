from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from sora_widget.client._policy import RetryPolicy, decide_retry, parse_retry_after, retry_delay

POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0, max_retry_after=30.0, total_budget=60.0)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_reads_retry_on_transient_statuses(status):
    decision = decide_retry(POLICY, "read", status, attempt=1, elapsed=0.0)
    assert decision.retry


@pytest.mark.parametrize("outcome", ["not_sent", "timeout", "transport"])
def test_reads_retry_on_transport_failures(outcome):
    assert decide_retry(POLICY, "read", outcome, attempt=1, elapsed=0.0).retry


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406, 422])
def test_reads_do_not_retry_final_answers(status):
    assert not decide_retry(POLICY, "read", status, attempt=1, elapsed=0.0).retry


def test_submit_retries_only_when_certainly_not_accepted():
    assert decide_retry(POLICY, "submit", "not_sent", attempt=1, elapsed=0.0).retry
    assert decide_retry(POLICY, "submit", 429, attempt=1, elapsed=0.0).retry


@pytest.mark.parametrize("outcome", [500, 502, 503, 504, "timeout", "transport"])
def test_submit_with_unknown_outcome_is_never_retried(outcome):
    decision = decide_retry(POLICY, "submit", outcome, attempt=1, elapsed=0.0)
    assert not decision.retry
    assert decision.outcome_unknown


@pytest.mark.parametrize("status", [400, 401, 406])
def test_submit_refusals_are_final_and_known(status):
    decision = decide_retry(POLICY, "submit", status, attempt=1, elapsed=0.0)
    assert not decision.retry
    assert not decision.outcome_unknown


def test_attempts_are_bounded():
    assert decide_retry(POLICY, "read", 503, attempt=3, elapsed=0.0).retry
    assert not decide_retry(POLICY, "read", 503, attempt=4, elapsed=0.0).retry


def test_total_time_is_bounded():
    assert not decide_retry(POLICY, "read", 503, attempt=1, elapsed=59.9, jitter=0.99).retry


def test_backoff_is_exponential_with_full_jitter_and_capped():
    ceilings = [retry_delay(POLICY, n, retry_after=None, jitter=1.0) for n in range(1, 7)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert retry_delay(POLICY, 3, retry_after=None, jitter=0.25) == 0.5
    assert retry_delay(POLICY, 3, retry_after=None, jitter=0.0) == 0.0


def test_retry_after_is_honoured_up_to_the_cap():
    decision = decide_retry(POLICY, "read", 429, attempt=1, elapsed=0.0, retry_after=7.0, jitter=0.1)
    assert decision.retry and decision.delay == 7.0
    assert not decide_retry(POLICY, "read", 429, attempt=1, elapsed=0.0, retry_after=31.0).retry


def test_parse_retry_after_seconds_and_dates():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=20), usegmt=True), now) == 20.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=20), usegmt=True), now) == 0.0
    for bad in (None, "", "soon", "-3", "nan"):
        assert parse_retry_after(bad, now) is None
