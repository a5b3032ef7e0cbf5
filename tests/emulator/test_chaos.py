from __future__ import annotations

from sora_widget.emulator.chaos import ERROR_STATUSES, Chaos
from sora_widget.emulator.config import EmulatorConfig


def decisions(n: int = 2000, **config):
    chaos = Chaos(EmulatorConfig(**config))
    return chaos, [chaos.decide("status") for _ in range(n)]


def test_off_by_default():
    chaos, verdicts = decisions(200)
    assert all(v.delay == 0 and v.error is None and not v.drop for v in verdicts)
    assert chaos.counts() == {"errors": 0, "drops": 0, "delays": 0}


def test_rates_are_roughly_the_configured_ones():
    chaos, verdicts = decisions(chaos_error_rate=0.2, chaos_drop_rate=0.1, seed=5)
    errors = [v.error for v in verdicts if v.error is not None]
    drops = sum(v.drop for v in verdicts)
    assert 0.16 * 2000 < len(errors) < 0.24 * 2000
    # a drop is only decided for a request that did not already get an error
    assert 0.06 * 2000 < drops < 0.11 * 2000
    assert set(errors) == set(ERROR_STATUSES)
    assert chaos.counts() == {"errors": len(errors), "drops": drops, "delays": 0}


def test_same_seed_same_failures():
    _, first = decisions(300, chaos_error_rate=0.3, seed=1)
    _, again = decisions(300, chaos_error_rate=0.3, seed=1)
    _, other = decisions(300, chaos_error_rate=0.3, seed=2)
    assert first == again and first != other


def test_only_the_chosen_endpoints_suffer():
    chaos = Chaos(EmulatorConfig(chaos_error_rate=1.0, chaos_endpoints=("submit",)))
    assert chaos.decide("status").error is None
    assert chaos.decide("submit").error in ERROR_STATUSES


def test_delay_with_a_probability():
    _, verdicts = decisions(1000, chaos_delay=0.5, chaos_delay_rate=0.25, seed=3)
    delayed = [v.delay for v in verdicts if v.delay]
    assert set(delayed) == {0.5}
    assert 200 < len(delayed) < 300


def test_reseeding_at_run_time_restarts_the_sequence():
    chaos = Chaos(EmulatorConfig(chaos_error_rate=0.5, seed=9))
    first = [chaos.decide("result") for _ in range(50)]
    chaos.configure(EmulatorConfig(chaos_error_rate=0.5, seed=10))
    chaos.configure(EmulatorConfig(chaos_error_rate=0.5, seed=9))
    assert [chaos.decide("result") for _ in range(50)] == first
