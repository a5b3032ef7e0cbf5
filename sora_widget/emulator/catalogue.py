"""Which models the emulator serves, how long each takes and what each job costs — all
read from the model table in `params`, so a model added there is served here too.

A retired model (`retired_models`) answers 410 Gone, whether or not the table still
lists it: the emulator can play a model that was withdrawn after a client was written.
A model neither served nor retired is unknown: 404, as Segmind answers.
"""

from __future__ import annotations

from typing import Any

from ..params import DEFAULT_MODEL, MODELS, Request, clip_price
from .config import EmulatorConfig


def served(config: EmulatorConfig) -> list[str]:
    """The table's models that are not retired, in the table's order."""
    return [name for name in MODELS if name not in config.retired_models]


def listing(config: EmulatorConfig) -> dict[str, list[str]]:
    """What `GET /` and the stats show: the models served and the ones retired."""
    return {"served": served(config), "retired": list(config.retired_models)}


def latency_scale(model: str) -> float:
    """How much longer than sora-2 this model typically takes: the configured `latency`
    is sora-2's, and a model's is that times its typical latency over sora-2's."""
    return MODELS[model].typical_latency_s / MODELS[DEFAULT_MODEL].typical_latency_s


def cost_usd(model: str, params: Request) -> float:
    """US dollars a clip costs at the catalogue's prices (its model's price rule)."""
    return clip_price(params.with_model(model))[0]


def refusal(model: str, config: EmulatorConfig) -> tuple[int, str, dict[str, Any]] | None:
    """(status, message, extra body keys) when `model` is not served; None when it is."""
    available = served(config)
    if model in config.retired_models:
        names = ", ".join(available) or "none"
        return (
            410,
            f"model retired: {model} is no longer served; available models: {names}",
            {"available_models": available},
        )
    if model not in MODELS:
        return 404, f"model not found: {model}", {}
    return None
