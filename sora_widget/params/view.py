"""What the widget's controls offer, sent to the view through its `options` trait: every
model with its fields (the controls are built from them), its price rule at the prices in
use, and the sizes any model can make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .catalogue import DEFAULT_MODEL, MODELS, READ_ON, Field, Model
from .references import IMAGE_TYPES, MAX_REFERENCE_BYTES
from .request import DEFAULT_DURATION, DEFAULT_SIZE, DURATIONS, SIZES


def view_options(prices: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, Any]:
    """The `options` trait: `prices` is model → price key → US dollars (per second or per
    clip, as each model's rule says); the catalogue's when None."""
    return {
        "model": DEFAULT_MODEL,
        "models": [_model(m, prices.get(m.name) if prices else None) for m in MODELS.values()],
        "prices_as_of": READ_ON,
        "durations": list(DURATIONS),
        "sizes": [
            {
                "value": size,
                "label": label,
                "width": int(size.split("x")[0]),
                "height": int(size.split("x")[1]),
            }
            for size, label in SIZES.items()
        ],
        "default_duration": DEFAULT_DURATION,
        "default_size": DEFAULT_SIZE,
        "image_types": sorted(set(IMAGE_TYPES.values())),
        "max_reference_bytes": MAX_REFERENCE_BYTES,
    }


def _model(model: Model, prices: Mapping[str, float] | None) -> dict[str, Any]:
    return {
        "name": model.name,
        "label": model.label,
        "summary": model.summary,
        "sizes": list(model.sizes),
        "durations": list(model.durations),
        "typical_latency_s": model.typical_latency_s,
        "sound": model.sound,
        "fields": [_field(f) for f in model.fields],
        "price": {
            "per": model.price.per,
            "by": model.price.by,
            "usd": {**model.price.usd, **(prices or {})},
        },
        # (aspect ratio, resolution) → "WxH": the view shows a shape-taking model's pixels
        "pixels": [{"aspect_ratio": a, "resolution": r, "size": p} for (a, r), p in model.pixels.items()],
    }


def _field(f: Field) -> dict[str, Any]:
    return {
        "name": f.name,
        "label": f.label,
        "kind": f.kind,
        "choices": [{"value": c.value, "label": c.label} for c in f.choices],
        "default": f.default,
        "required": f.required,
        "minimum": f.minimum,
        "maximum": f.maximum,
        "help": f.help,
    }
