"""Money, as pure arithmetic: the model table, estimates, users' prices, the budget."""

from __future__ import annotations

import threading

import pytest

import sora_widget as sw
from sora_widget import cost, params


def test_the_table_lists_each_model_with_its_sizes_durations_latency_and_prices():
    models = {m.name: m for m in sw.models()}
    assert list(models)[:2] == ["sora-2", "sora-2-pro"]  # the default first
    assert list(models["sora-2"].sizes) == ["720x1280", "1280x720"]
    assert list(models["sora-2-pro"].sizes) == ["720x1280", "1280x720", "1024x1792", "1792x1024"]
    assert models["sora-2-pro"].typical_latency_s > models["sora-2"].typical_latency_s
    for model in (models["sora-2"], models["sora-2-pro"]):
        assert set(model.usd_per_second) == set(model.sizes)
        assert model.durations == (4, 8, 12)
    # one place: what params validates against is what the table says
    assert set(params.SIZES) == {s for m in models.values() for s in m.sizes}


@pytest.mark.parametrize(
    ("model", "duration", "size", "usd"),
    [
        ("sora-2", 8, "720x1280", 0.80),
        ("sora-2", 12, "landscape", 1.20),
        ("sora-2-pro", 4, "1280x720", 1.20),
        ("sora-2-pro", 12, "1792x1024", 6.00),
    ],
)
def test_estimates_are_seconds_times_the_price_of_the_size(model, duration, size, usd, monkeypatch):
    monkeypatch.delenv(cost.PRICES_ENV, raising=False)
    estimate = cost.estimate(model=model, duration=duration, size=size)
    assert estimate.usd == pytest.approx(usd)
    assert params.PRICES_AS_OF in estimate.basis and "per second" in estimate.basis
    assert str(estimate).startswith(f"≈ ${usd:.2f} · {model} · {duration} s")


def test_a_value_the_model_does_not_offer_is_refused_naming_what_is_allowed():
    with pytest.raises(sw.InvalidParams, match="sora-2-pro also offers 1024x1792, 1792x1024"):
        cost.estimate(model="sora-2", size="1792x1024")
    with pytest.raises(sw.InvalidParams, match=r"model='sora-1'.*'sora-2', 'sora-2-pro'"):
        cost.estimate(model="sora-1")
    with pytest.raises(sw.InvalidParams, match="duration=5"):
        cost.estimate(duration=5)


def test_users_prices_override_the_table_and_say_so(monkeypatch):
    monkeypatch.setenv(cost.PRICES_ENV, '{"sora-2": 0.2}')
    from_env = cost.estimate(duration=8)
    assert from_env.usd == pytest.approx(1.6) and "your price" in from_env.basis
    configured = cost.effective_prices(cost.parse_prices({"sora-2": {"1280x720": 0.05}}, source="prices"))
    assert configured["sora-2"] == {"720x1280": 0.2, "1280x720": 0.05}  # configure over the environment
    assert configured["sora-2-pro"]["1792x1024"] == 0.5  # the table where nobody said otherwise


@pytest.mark.parametrize(
    "bad",
    [
        '{"sora-3": 0.1}',
        {"sora-2": {"1792x1024": 0.1}},
        {"sora-2": -1},
        {"sora-2": float("nan")},
        "not json",
        [1],
    ],
)
def test_bad_prices_are_refused(bad):
    with pytest.raises(sw.InvalidParams):
        cost.parse_prices(bad, source="prices")


def test_the_budget_counts_reservations_then_real_costs_and_refuses_past_it():
    budget = cost.Budget(2.0)
    budget.reserve("a", 0.8)
    budget.reserve("b", 0.8)
    with pytest.raises(sw.BudgetExceeded) as refused:
        budget.reserve("c", 0.8)
    assert refused.value.needed_usd == 0.8 and refused.value.remaining_usd == pytest.approx(0.4)
    assert "nothing was sent" in str(refused.value) and "budget_usd" in refused.value.hint
    budget.settle("a", 0.0)  # it failed: failures cost nothing
    budget.release("b")  # refused outright: not a job at all
    budget.reserve("c", 0.8)
    spent = budget.spend()
    assert (spent.usd, spent.jobs, spent.budget_usd, spent.remaining_usd) == (0.8, 2, 2.0, 1.2)
    assert "$0.80 spent on 2 job(s)" in str(spent)


def test_no_budget_refuses_nothing_and_has_no_remainder():
    budget = cost.Budget()
    budget.reserve("a", 1000.0)
    assert budget.spend().remaining_usd is None


def test_submits_racing_for_the_last_dollars_never_pass_the_budget():
    budget = cost.Budget(5.0)
    barrier = threading.Barrier(40)
    refused: list[str] = []

    def submit(i: int) -> None:
        barrier.wait()
        try:
            budget.reserve(f"job-{i}", 0.4)
        except sw.BudgetExceeded:
            refused.append(f"job-{i}")

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = budget.spend()
    assert spent.usd <= 5.0 and spent.jobs == 12 and len(refused) == 28


@pytest.mark.parametrize("bad", [-1, float("inf"), "lots", True])
def test_a_bad_budget_is_refused(bad):
    with pytest.raises(sw.InvalidParams, match="budget_usd"):
        cost.check_budget(bad)
