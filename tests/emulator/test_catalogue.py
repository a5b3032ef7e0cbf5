"""Which models the emulator serves, and what their jobs take and cost: read from the
model table in `params`, never written down a second time."""

from __future__ import annotations

import pytest

from sora_widget.emulator.catalogue import cost_usd, latency_scale, listing, refusal, served
from sora_widget.emulator.config import EmulatorConfig
from sora_widget.params import MODELS, GenerationParams, validate


def test_every_model_of_the_table_is_served_unless_retired():
    assert served(EmulatorConfig()) == list(MODELS)
    retired = EmulatorConfig(retired_models=("sora-2-pro", "sora-1"))
    assert served(retired) == [m for m in MODELS if m != "sora-2-pro"]
    assert listing(retired) == {"served": served(retired), "retired": ["sora-2-pro", "sora-1"]}


def test_refusals_retired_410_naming_what_is_available_unknown_404():
    config = EmulatorConfig(retired_models=("sora-2-pro", "sora-1"))
    assert refusal("sora-2", config) is None
    status, message, extra = refusal("sora-2-pro", config)  # type: ignore[misc]
    assert status == 410 and "retired" in message and "sora-2-pro" in message
    available = [m for m in MODELS if m != "sora-2-pro"]
    assert f"available models: {', '.join(available)}" in message and extra == {"available_models": available}
    # a model the table no longer lists can still be played as retired
    assert refusal("sora-1", config)[0] == 410  # type: ignore[index]
    assert refusal("sora-3", config) == (404, "model not found: sora-3", {})
    assert refusal("SORA-2", config)[0] == 404  # type: ignore[index]  # slugs are exact


def test_sora_2_is_the_latency_unit():
    assert latency_scale("sora-2") == 1.0
    expected = MODELS["sora-2-pro"].typical_latency_s / MODELS["sora-2"].typical_latency_s
    assert latency_scale("sora-2-pro") == pytest.approx(expected)


@pytest.mark.parametrize("model", list(MODELS))
def test_cost_follows_the_models_price_rule(model):
    entry = MODELS[model]
    frame = {"first_frame": "https://example.com/f.png"} if entry.field("first_frame").required else {}
    rule = entry.price
    picks = {"size": "size", "sound": "sound", "resolution": "resolution", "duration": "duration"}
    for key, price in rule.usd.items():
        given: dict = dict(frame)
        if rule.by in ("size", "resolution", "duration"):
            given[picks[rule.by]] = int(key) if rule.by == "duration" else key
        elif rule.by == "sound":
            given["sound"] = key == "sound"
        params = validate("x", model=model, **given)
        expected = price * params.duration if rule.per == "second" else price
        assert cost_usd(model, params) == pytest.approx(expected), (model, key)
    # rounded: a cost reads as money, not 0.4000000000000001
    assert cost_usd("sora-2", GenerationParams("x", duration=4)) == 0.4
