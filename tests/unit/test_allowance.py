"""A plan's allowance: at most N requests a minute, evenly spaced, each slot to the request
that matters most — pure choices, then the waiting on a manual clock (no sleeps)."""

from __future__ import annotations

import asyncio

import pytest

from sora_widget import api
from sora_widget.client import Clock
from sora_widget.client._policy import (
    NOW,
    WHENEVER,
    LatencyModel,
    Turn,
    finish_chance,
    next_in_line,
    pace_s,
    status_turn,
)
from sora_widget.client._ratelimit import RPM_ENV, PlanAllowance, check_rpm, rpm_from_env
from sora_widget.errors import InvalidParams

from .test_ratelimit import ManualClock


def chance_of(value: float) -> Turn:
    return status_turn(lambda now: value)


def test_a_check_is_worth_most_around_the_expected_finish():
    model = LatencyModel(median_s=180.0)
    assert finish_chance(model, 100.0, 100.0) == 0.0
    early = finish_chance(model, 0.0, 30.0)
    middle = finish_chance(model, 150.0, 180.0)
    assert 0.0 < early < 0.05 < middle < 1.0  # fast failures only, early on
    assert finish_chance(model, 0.0, 400.0) > 0.9
    assert finish_chance(model, 0.0, 10_000.0) == pytest.approx(1.0, abs=1e-3)


def test_next_in_line_a_waited_on_request_then_the_likeliest_check_then_the_rest():
    assert next_in_line([chance_of(0.9), NOW], 0.0) == 1  # a submit or a result first
    assert next_in_line([chance_of(0.1), chance_of(0.7), chance_of(0.3)], 0.0) == 1
    assert next_in_line([WHENEVER, chance_of(0.0)], 0.0) == 1  # a charge nobody waits on last
    assert next_in_line([NOW, NOW], 0.0) == 0  # the oldest among equals
    rising = status_turn(lambda now: now / 100)
    assert (
        next_in_line([chance_of(0.5), rising], 10.0) == 0
        and next_in_line([chance_of(0.5), rising], 90.0) == 1
    )


def test_the_pace_keeps_every_minute_under_the_cap():
    assert pace_s(5, 0.03) == pytest.approx(12.36)
    gaps = pace_s(50, 0.03)
    assert 60 / gaps < 50  # any 60 s window holds at most 49 evenly spaced requests


async def test_slots_go_evenly_spaced_to_whoever_matters_most():
    clock = ManualClock()
    allowance = PlanAllowance(6, Clock(now=clock.now, sleep=clock.sleep), margin=0.0)  # one per 10 s
    granted: list[str] = []

    async def ask(name: str, turn: Turn) -> None:
        await allowance.take(turn)
        granted.append(f"{name}@{clock.now():g}")

    await ask("first", NOW)  # nothing was sent yet: at once
    tasks = [
        asyncio.ensure_future(ask(name, turn))
        for name, turn in (
            ("unlikely", chance_of(0.1)),
            ("likely", chance_of(0.8)),
            ("charge", WHENEVER),
            ("submit", NOW),
        )
    ]
    await clock.advance(0.0)
    for t in (9.9, 10.0, 20.0, 30.0, 40.0):
        await clock.advance(t)
    await asyncio.gather(*tasks)
    assert granted == ["first@0", "submit@10", "likely@20", "unlikely@30", "charge@40"]
    assert allowance.snapshot()["granted"] == {0: 2, 1: 2, 2: 1}


async def test_a_429_met_all_the_same_holds_every_request_for_its_retry_after():
    clock = ManualClock()
    allowance = PlanAllowance(60, Clock(now=clock.now, sleep=clock.sleep), margin=0.0)  # one a second
    await allowance.take()
    allowance.refused(30.0)  # another program spends the same key
    waiting = asyncio.ensure_future(allowance.take())
    await clock.advance(29.0)
    assert not waiting.done()
    await clock.advance(30.0)
    await waiting
    assert allowance.snapshot()["refusals"] == 1


async def test_without_a_cap_nothing_waits():
    allowance = PlanAllowance(None, Clock(sleep=_never))
    for _ in range(100):
        await allowance.take()
    assert allowance.pace_s == 0.0


async def _never(seconds: float) -> None:
    raise AssertionError("slept")


def test_the_cap_is_a_positive_number_or_none(monkeypatch):
    assert check_rpm(None) is None and check_rpm("50") == 50.0
    for bad in (0, -5, "lots", float("nan"), True):
        with pytest.raises(InvalidParams):
            check_rpm(bad)
    monkeypatch.setenv(RPM_ENV, "5")
    assert rpm_from_env() == 5.0
    monkeypatch.setenv(RPM_ENV, "five")
    with pytest.raises(InvalidParams, match=RPM_ENV):
        rpm_from_env()


def test_configure_sets_the_kernels_cap(monkeypatch):
    from sora_widget.client import _ratelimit

    monkeypatch.setattr(_ratelimit, "_session", None)
    monkeypatch.delenv(RPM_ENV, raising=False)
    assert api.settings()["requests_per_minute"] is None
    api.configure(requests_per_minute=5)
    assert api.settings()["requests_per_minute"] == 5.0
    assert _ratelimit.session_allowance().pace_s == pytest.approx(12.36)
    api.configure(requests_per_minute=None)
    assert _ratelimit.session_allowance().pace_s == 0.0
