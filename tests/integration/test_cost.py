"""Models, cost and a budget against the emulator on 127.0.0.1: what a clip costs is on
its record (the API's figure), a budget stops a submit before any request, a failed
job costs nothing, a retired model is a clear error that leaves nothing pending."""

from __future__ import annotations

import pytest

import sora_widget as sw
from sora_widget import cost
from sora_widget.client import AsyncSoraClient, PollPolicy, RetryPolicy
from sora_widget.params import MODELS

FAKE_KEY = "sk-test-FAKE-cost-71a2"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2, total_budget=10.0)


def make_client(emu, tmp_path, budget=None, **kwargs) -> AsyncSoraClient:
    return AsyncSoraClient(
        api_key=FAKE_KEY,
        base_url=emu.base_url,
        output_dir=tmp_path / "out",
        poll=FAST_POLL,
        retry=FAST_RETRY,
        budget=budget if budget is not None else cost.Budget(),
        **kwargs,
    )


async def test_a_clip_carries_the_apis_cost_and_counts_towards_the_spend(emulator, tmp_path):
    emu = emulator()
    budget = cost.Budget(1.0)
    async with make_client(emu, tmp_path, budget) as client:
        clip = await client.generate("a priced clip", duration=4)
    # the charge the account's request history names (the emulator's: the catalogue's price)
    assert clip.cost == {"usd": pytest.approx(0.4), "source": "segmind"}
    assert budget.spend().usd == pytest.approx(0.4) and budget.spend().jobs == 1


async def test_over_budget_nothing_is_sent(emulator, tmp_path):
    emu = emulator()
    budget = cost.Budget(0.5)
    async with make_client(emu, tmp_path, budget) as client:
        await client.generate("fits", duration=4)
        before = emu.stats()["requests"].get("submit", 0)
        with pytest.raises(sw.BudgetExceeded) as refused:
            await client.generate("does not fit", duration=4)
    assert emu.stats()["requests"].get("submit", 0) == before
    assert "$0.10 left" in str(refused.value)
    assert budget.spend().jobs == 1


async def test_a_failed_job_costs_nothing(emulator, tmp_path):
    emu = emulator(block_words=("forbidden",))
    budget = cost.Budget(0.4)
    async with make_client(emu, tmp_path, budget) as client:
        with pytest.raises(sw.GenerationFailed) as failed:
            await client.generate("a forbidden thing", duration=4)
        assert failed.value.record.cost["usd"] == 0.0
        assert budget.spend().usd == 0.0
        await client.generate("the budget is all there again", duration=4)


async def test_sora_2_pro_makes_a_large_landscape_clip(emulator, tmp_path):
    emu = emulator()
    async with make_client(emu, tmp_path, model="sora-2-pro") as client:
        clip = await client.generate("a wide valley", duration=4, size="1792x1024")
    assert clip.model == "sora-2-pro"
    assert (clip.video["width"], clip.video["height"], clip.video["codec"]) == (1792, 1024, "h264")
    assert clip.cost == {"usd": pytest.approx(2.0), "source": "segmind"}


async def test_a_size_the_model_does_not_offer_is_refused_before_any_request(emulator, tmp_path):
    emu = emulator()
    async with make_client(emu, tmp_path) as client:
        with pytest.raises(sw.InvalidParams, match="sora-2-pro also offers"):
            await client.generate("too wide for sora-2", duration=4, size="1792x1024")
    assert emu.stats()["requests"].get("submit", 0) == 0


async def test_a_retired_model_is_model_unavailable_and_leaves_nothing_pending(emulator, tmp_path):
    emu = emulator(retired_models=("sora-2-pro",))
    async with make_client(emu, tmp_path, model="sora-2-pro") as client:
        with pytest.raises(sw.ModelUnavailable) as caught:
            await client.generate("a retired model", duration=4)
        assert client.ledger.pending() == []
    error = caught.value
    assert error.http_status == 410 and isinstance(error, sw.NotFound)
    assert error.available == [m for m in MODELS if m != "sora-2-pro"] and "sora-2" in error.hint
    assert error.record.cost["usd"] == 0.0


async def test_a_batch_past_the_budget_is_refused_whole_saying_how_many_fit(emulator, tmp_path):
    emu = emulator()
    async with make_client(emu, tmp_path, cost.Budget(1.0)) as client:
        with pytest.raises(sw.BudgetExceeded, match=r"4 clip.s. not yet paid for.*2 of them would fit"):
            await sw.agenerate_many(["a", "b", "c", "d"], client=client, duration=4, show=False)
    assert emu.stats()["requests"].get("submit", 0) == 0


async def test_when_segmind_no_longer_serves_sora_2_the_error_says_so_and_names_what_to_try(
    emulator, tmp_path
):
    """OpenAI shut Sora 2 down on 2026-09-24: a 410 for the default model is said in words,
    names the catalogued models to try, and is remembered for the session (`sw.models()`,
    the widget's `backend.unavailable`)."""
    from sora_widget.client._sightings import SIGHTINGS

    SIGHTINGS.clear()
    emu = emulator(retired_models=("sora-2",))
    async with make_client(emu, tmp_path) as client:
        with pytest.raises(sw.ModelUnavailable) as caught:
            await client.generate("a lighthouse at dusk", duration=4)
        made = await client.generate("a lighthouse at dusk", model="veo-3.1-fast", duration=4)
    error = caught.value
    others = [m for m in MODELS if m != "sora-2"]
    assert str(error).startswith(f"the API at {client.api_host} no longer serves sora-2 (HTTP 410")
    assert error.available == others and f"Try another model: {', '.join(others)}" in error.hint
    assert made.status == "COMPLETED" and made.model == "veo-3.1-fast"
    seen = {m: s.state for m, s in SIGHTINGS.of(client.api_host).items()}
    assert seen == {"sora-2": "refused", "veo-3.1-fast": "answered"}
    assert SIGHTINGS.refused_models(client.api_host) == ["sora-2"]
    assert emu.stats()["answers"]["submit"]["410"] == 1
