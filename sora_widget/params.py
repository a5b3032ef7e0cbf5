"""The one place that knows which parameters Sora 2 accepts.

The client validates with it before any request, the emulator answers 400 with it,
and the widget's controls are filled from `view_options()` — so a new size or
duration is added here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import InvalidParams


@dataclass(frozen=True)
class Model:
    """One model Segmind serves on its v2 API: what it accepts, how long it takes, and
    what it costs."""

    name: str
    #: size → its label; the first is the model's default
    sizes: dict[str, str]
    durations: tuple[int, ...]
    #: seconds from submit to a finished clip, typically (the poll schedule's prior)
    typical_latency_s: float
    #: US dollars per second of video, by size (see PRICES_AS_OF)
    usd_per_second: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sizes": list(self.sizes),
            "durations": list(self.durations),
            "typical_latency_s": self.typical_latency_s,
            "usd_per_second": dict(self.usd_per_second),
        }


#: Segmind's listed prices as of this date (per second of generated video); override
#: them with sw.configure(prices=...) or SORA_WIDGET_PRICES
PRICES_AS_OF = "2026-11-15"
PRICE_SOURCE = "Segmind's listed prices for Sora 2 on its API"

_PORTRAIT, _LANDSCAPE = "720x1280", "1280x720"
_PORTRAIT_HD, _LANDSCAPE_HD = "1024x1792", "1792x1024"

#: every model of the API, the default first
MODELS: dict[str, Model] = {
    "sora-2": Model(
        name="sora-2",
        sizes={_PORTRAIT: "Portrait", _LANDSCAPE: "Landscape"},
        durations=(4, 8, 12),
        typical_latency_s=180.0,
        usd_per_second={_PORTRAIT: 0.10, _LANDSCAPE: 0.10},
    ),
    "sora-2-pro": Model(
        name="sora-2-pro",
        sizes={
            _PORTRAIT: "Portrait",
            _LANDSCAPE: "Landscape",
            _PORTRAIT_HD: "Portrait HD",
            _LANDSCAPE_HD: "Landscape HD",
        },
        durations=(4, 8, 12),
        typical_latency_s=400.0,
        usd_per_second={_PORTRAIT: 0.30, _LANDSCAPE: 0.30, _PORTRAIT_HD: 0.50, _LANDSCAPE_HD: 0.50},
    ),
}
DEFAULT_MODEL = "sora-2"
#: the default model's name (records made before there was a choice name it)
MODEL = DEFAULT_MODEL

#: every duration some model accepts
DURATIONS: tuple[int, ...] = tuple(sorted({d for m in MODELS.values() for d in m.durations}))
DEFAULT_DURATION = 8

#: seconds a blocking call (or the CLI) waits for a job before it stops waiting
DEFAULT_TIMEOUT_S = 900.0
#: the API page's typical latency of a job, before any job has been seen (seconds)
PRIOR_LATENCY_S = MODELS[DEFAULT_MODEL].typical_latency_s

#: every size some model accepts → the label the API page gives it
SIZES: dict[str, str] = {size: label for m in MODELS.values() for size, label in m.sizes.items()}
DEFAULT_SIZE = _PORTRAIT
#: "portrait" and "landscape" name the sizes every model offers
_SIZE_ALIASES = {"portrait": _PORTRAIT, "landscape": _LANDSCAPE}

#: image types accepted as a local reference file (uploaded before the submit)
IMAGE_TYPES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
#: a reference travels inside a JSON body as base64; beyond this it is refused early
MAX_REFERENCE_BYTES = 10 * 1024 * 1024

ReferenceKind = Literal["url", "data", "path"]

_DATA_URI = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class GenerationParams:
    """Validated, normalised parameters of one generation."""

    prompt: str
    duration: int = DEFAULT_DURATION
    size: str = DEFAULT_SIZE
    input_reference: str | None = None

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])

    @property
    def orientation(self) -> str:
        return SIZES[self.size]

    def payload(self) -> dict[str, Any]:
        """The JSON body of the submit request."""
        body: dict[str, Any] = {"prompt": self.prompt, "duration": self.duration, "size": self.size}
        if self.input_reference is not None:
            body["input_reference"] = self.input_reference
        return body

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        return validate(
            data.get("prompt"),
            duration=data.get("duration", DEFAULT_DURATION),
            size=data.get("size", DEFAULT_SIZE),
            input_reference=data.get("input_reference"),
        )


def validate(
    prompt: object,
    *,
    duration: object = DEFAULT_DURATION,
    size: object = DEFAULT_SIZE,
    input_reference: object = None,
    model: object = DEFAULT_MODEL,
    allow_local_reference: bool = True,
) -> GenerationParams:
    """Check and normalise parameters, or raise `InvalidParams` naming what is wrong.

    `duration` may be an int or a numeric string (the API page's own example sends
    "8"); `size` may be "WxH" or "portrait"/"landscape"; both must be offered by
    `model`. A local image path is accepted only when the caller can upload it.
    """
    chosen = validate_model(model)
    return GenerationParams(
        prompt=validate_prompt(prompt),
        duration=validate_duration(duration, chosen),
        size=validate_size(size, chosen),
        input_reference=validate_reference(input_reference, allow_local=allow_local_reference),
    )


#: the prior's shape over durations: the API page quotes ~180 s for the default 8 s clip
_SORA_LATENCY_BY_DURATION = {4: 140.0 / 180.0, 8: 1.0, 12: 220.0 / 180.0}


def typical_latency_s(model: str, duration: int) -> float:
    """Seconds from submit to a finished clip of `model` and `duration`, before any job of
    that kind has been seen (the poll schedule's prior)."""
    entry = MODELS.get(model, MODELS[DEFAULT_MODEL])
    return entry.typical_latency_s * _SORA_LATENCY_BY_DURATION.get(duration, 1.0)


def validate_model(model: object) -> str:
    if isinstance(model, str) and model.strip().lower() in MODELS:
        return model.strip().lower()
    raise InvalidParams("model", model, list(MODELS))


#: the longest prompt accepted, in characters (a prompt is a description, not a document;
#: a longer one is refused before anything is sent, rather than billed and then refused)
MAX_PROMPT_CHARS = 32_000


def validate_prompt(prompt: object) -> str:
    """Non-blank text of at most `MAX_PROMPT_CHARS` characters that can be sent as UTF-8
    (no lone surrogates)."""
    allowed = f"a non-empty text describing the video, of at most {MAX_PROMPT_CHARS:,} characters"
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidParams("prompt", prompt, allowed)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidParams("prompt", f"{len(prompt):,} characters", allowed)
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidParams(
            "prompt", prompt[max(0, error.start - 20) : error.end + 20], f"{allowed} (valid Unicode text)"
        ) from None
    return prompt


def validate_duration(duration: object, model: str = DEFAULT_MODEL) -> int:
    allowed = MODELS[model].durations
    value: int | None = None
    if isinstance(duration, int) and not isinstance(duration, bool):
        value = duration
    elif isinstance(duration, float) and duration.is_integer():
        value = int(duration)
    elif isinstance(duration, str) and duration.strip().isdigit():
        value = int(duration.strip())
    if value not in allowed:
        raise InvalidParams("duration", duration, [*allowed])
    return value


def validate_size(size: object, model: str = DEFAULT_MODEL) -> str:
    offered = MODELS[model].sizes
    if isinstance(size, str):
        text = size.strip().lower().replace("×", "x").replace(" ", "")
        text = _SIZE_ALIASES.get(text, text)
        if text in offered:
            return text
    allowed = ", ".join(f"{s!r} ({label.lower()})" for s, label in offered.items())
    elsewhere = [
        f"{other.name} also offers {', '.join(extra)}"
        for other in MODELS.values()
        if (extra := [s for s in other.sizes if s not in offered])
    ]
    if model != DEFAULT_MODEL or elsewhere:
        allowed = f"{allowed} for {model}" + (f" ({'; '.join(elsewhere)})" if elsewhere else "")
    raise InvalidParams("size", size, allowed)


def reference_kind(value: str) -> ReferenceKind:
    """Which of the three accepted forms a reference is (without validating it)."""
    lowered = value[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return "url"
    if lowered.startswith("data:"):
        return "data"
    return "path"


def validate_reference(value: object, *, allow_local: bool = True) -> str | None:
    """An http(s) URL, an image data URI, or (when `allow_local`) a local image file."""
    if value is None or value == "":
        return None
    allowed = "an http(s) URL or a data:image/...;base64 URI" + (
        ", or the path of a local image file (" + ", ".join(IMAGE_TYPES) + ")" if allow_local else ""
    )
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise InvalidParams("input_reference", value, allowed)
    kind = reference_kind(value)
    if kind == "url":
        if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE) or any(c.isspace() for c in value):
            raise InvalidParams("input_reference", value, allowed)
        return value
    if kind == "data":
        _decode_data_uri(value, allowed)
        return value
    if not allow_local:
        raise InvalidParams("input_reference", value, allowed)
    path = Path(value).expanduser()
    if path.suffix.lower() not in IMAGE_TYPES or not path.is_file():
        reason = "no such file" if not path.exists() else "not an image file"
        raise InvalidParams("input_reference", value, f"{allowed} ({reason}: {value})")
    if path.stat().st_size > MAX_REFERENCE_BYTES:
        raise InvalidParams("input_reference", value, f"an image of at most {MAX_REFERENCE_BYTES} bytes")
    return str(path)


def decode_data_uri(value: str) -> tuple[str, bytes]:
    """(mime type, bytes) of an image data URI; `InvalidParams` if it is not one."""
    return _decode_data_uri(value, "a data:image/...;base64 URI")


def _decode_data_uri(value: str, allowed: str) -> tuple[str, bytes]:
    match = _DATA_URI.match(value)
    if not match:
        raise InvalidParams("input_reference", value, allowed)
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParams("input_reference", value, f"{allowed} (the base64 part is malformed)") from None
    if not data:
        raise InvalidParams("input_reference", value, f"{allowed} (it is empty)")
    if len(data) > MAX_REFERENCE_BYTES:
        raise InvalidParams("input_reference", value, f"an image of at most {MAX_REFERENCE_BYTES} bytes")
    return match.group(1).lower(), data


def view_options(usd_per_second: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """What the widget's controls offer, sent to the view through a trait: every model
    with its sizes and durations, and what each clip would cost at `usd_per_second`
    (model → size → US dollars per second; the table's when None)."""
    prices = usd_per_second or {name: m.usd_per_second for name, m in MODELS.items()}
    return {
        "model": DEFAULT_MODEL,
        "models": [
            {
                "name": m.name,
                "sizes": list(m.sizes),
                "durations": list(m.durations),
                "typical_latency_s": m.typical_latency_s,
            }
            for m in MODELS.values()
        ],
        "estimates": [
            {
                "model": m.name,
                "size": size,
                "duration": seconds,
                "usd": round(prices[m.name][size] * seconds, 6),
            }
            for m in MODELS.values()
            for size in m.sizes
            for seconds in m.durations
        ],
        "prices_as_of": PRICES_AS_OF,
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
