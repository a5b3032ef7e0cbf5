"""One request value: a validated, frozen description of one generation, for any model.

`validate(...)` is the edge: it takes what a caller said (common names for common ideas,
the model's own options by their own names), checks it against the model's catalogue
entry, fills the model's defaults, and returns a `Request`. Every layer after it — the
client, the widget, the magics, the CLI, batches, shots, the emulator — passes that value
and never validates again (httpx's `build_request()` → `send(request)` is the model).
`Request.derive(...)` makes the next request from one already made (extend, remix,
continue): the parent's values, the changes, and what a new model cannot take dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParams
from .catalogue import COMMON_FIELDS, DEFAULT_MODEL, MODELS, Field, Model, price_key, with_field
from .references import validate_reference

#: the default model's defaults (what a call that names nothing asks for)
DEFAULT_DURATION = MODELS[DEFAULT_MODEL].default_duration
DEFAULT_SIZE = "720x1280"

#: every duration some model accepts
DURATIONS: tuple[int, ...] = tuple(sorted({d for m in MODELS.values() for d in m.durations}))
#: every size some model's clip can have → its label (the default model's first)
SIZES: dict[str, str] = {}
for _entry in MODELS.values():
    for _size, _label in _entry.sizes.items():
        SIZES.setdefault(_size, _label)
#: "portrait" and "landscape" name the sizes (and aspect ratios) every shape-taking model offers
_SIZE_ALIASES = {"portrait": "720x1280", "landscape": "1280x720"}
_ASPECT_ALIASES = {"portrait": "9:16", "landscape": "16:9", "square": "1:1"}

#: seconds a blocking call (or the CLI) waits for a job before it stops waiting
DEFAULT_TIMEOUT_S = 900.0
#: the API page's typical latency of a job, before any job has been seen (seconds)
PRIOR_LATENCY_S = MODELS[DEFAULT_MODEL].typical_latency_s

#: the longest prompt accepted, in characters (a prompt is a description, not a document;
#: a longer one is refused before anything is sent, rather than billed and then refused)
MAX_PROMPT_CHARS = 32_000

#: "not given" in `derive`, where None may be a change (no last frame, say)
_KEEP: Any = object()


@dataclass(frozen=True)
class Request:
    """A validated request for one clip of one model. Build it with `validate` (or
    `derive` from another); its `payload()` is the JSON body the model takes.

    `size` is the clip's pixel size ("WxH") whatever the model calls it — given, or made
    from `aspect_ratio` and `resolution` — and None when the clip takes the first frame's
    shape. `input_reference` is the first frame (`first_frame`, Sora's reference image:
    the field keeps the name the first records gave it). `sound`
    is None when the model has no choice (`makes_sound` says whether it has sound).
    `options` are the model's own options, by name.
    """

    prompt: str
    duration: int = DEFAULT_DURATION
    size: str | None = DEFAULT_SIZE
    #: the first frame (Sora's reference image; `first_frame` is its common name)
    input_reference: str | None = None
    last_frame: str | None = None
    model: str = DEFAULT_MODEL
    aspect_ratio: str | None = None
    resolution: str | None = None
    sound: bool | None = None
    seed: int | None = None
    options: tuple[tuple[str, Any], ...] = ()

    # -- what it is ------------------------------------------------------------------------

    @property
    def entry(self) -> Model:
        return MODELS.get(self.model, MODELS[DEFAULT_MODEL])

    @property
    def first_frame(self) -> str | None:
        """The image the clip starts on (Sora's reference image): `input_reference`, by
        its common name."""
        return self.input_reference

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0]) if self.size else 0

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1]) if self.size else 0

    @property
    def shape(self) -> str:
        """The size as people read it: "1280x720", or what a clip that takes its first
        frame's shape has instead."""
        return self.size or "the first frame's shape"

    @property
    def orientation(self) -> str:
        if self.size is None:
            return "the first frame's shape"
        return SIZES.get(self.size) or ("Landscape" if self.width >= self.height else "Portrait")

    @property
    def makes_sound(self) -> bool:
        """Whether the clip will have a sound track."""
        if self.sound is not None:
            return self.sound
        return self.entry.sound == "always"

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def values(self) -> dict[str, Any]:
        """What was asked, by the names a caller uses (None left out): `validate(prompt,
        model=..., **values())` makes this request again."""
        given = {name: getattr(self, name) for name in COMMON_FIELDS if getattr(self, name) is not None}
        # a shape-taking model's size is made from its aspect ratio and resolution
        if self.entry.pixels:
            given.pop("size", None)
        return {**given, **dict(self.options)}

    # -- what is sent, saved and compared -----------------------------------------------------

    def payload(self) -> dict[str, Any]:
        """The JSON body of the submit: the prompt, then each of the model's fields that has
        a value, under the model's own name."""
        body: dict[str, Any] = {"prompt": self.prompt}
        for f in self.entry.fields:
            value = self._value_of(f)
            if value is not None:
                body[f.wire] = value
        return body

    def _value_of(self, f: Field) -> Any:
        if f.name in COMMON_FIELDS:
            return getattr(self, f.name)
        return self.option(f.name)

    def to_dict(self) -> dict[str, Any]:
        """The record's `params`: prompt, duration, size and input_reference always (as in
        the first records), then whatever else this request says."""
        data: dict[str, Any] = {
            "prompt": self.prompt,
            "duration": self.duration,
            "size": self.size,
            "input_reference": self.input_reference,
        }
        for name in ("last_frame", "aspect_ratio", "resolution", "sound", "seed"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.options:
            data["options"] = dict(self.options)
        return data

    def identity_extra(self) -> dict[str, Any]:
        """What the request asks beyond (model, prompt, duration, size, first frame), for its
        identity: empty for a request the first catalogue could make, so clips made before
        are found again."""
        extra = {
            name: getattr(self, name)
            for name in ("aspect_ratio", "resolution", "sound", "seed")
            if getattr(self, name) is not None
        }
        if self.options:
            extra["options"] = dict(self.options)
        return extra

    # -- the next request ---------------------------------------------------------------------

    def derive(
        self, *, without: Iterable[str] = (), allow_local_reference: bool = True, **changes: Any
    ) -> Request:
        """The request made from this one with `changes` (prompt, model, any field), for an
        extend, a remix or a continuation. Values not changed are inherited; `without`
        names inherited values to leave out (an extended shot does not end on its parent's
        last frame). When the model changes, inherited values it does not take or allow are
        left out (its defaults apply) — changes it cannot take are `InvalidParams`."""
        model = changes.pop("model", None) or self.model
        prompt = changes.pop("prompt", None) or self.prompt
        if "input_reference" in changes:
            changes.setdefault("first_frame", changes.pop("input_reference"))
        dropped = set(without)
        inherited = {k: v for k, v in self.values().items() if k not in dropped and k not in changes}
        if model != self.model and "size" not in changes and self.size is not None:
            # a size says the shape the new model should keep, whatever it calls it
            inherited.pop("aspect_ratio", None)
            inherited.pop("resolution", None)
            inherited["size"] = self.size
        given = {k: v for k, v in changes.items() if v is not _KEEP}
        return validate_preferring(
            prompt, preferred=inherited, model=model, allow_local_reference=allow_local_reference, **given
        )

    # -- reading it back ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, model: object = None) -> Request:
        """A request from a record's `params` (and the record's model), validated again."""
        values = dict(data)
        options = values.pop("options", None) or {}
        prompt = values.pop("prompt", None)
        if "input_reference" in values:
            values["first_frame"] = values.pop("input_reference")
        given = {k: v for k, v in values.items() if v is not None}
        if MODELS.get(str(model or DEFAULT_MODEL), MODELS[DEFAULT_MODEL]).pixels:
            given.pop("size", None)
        return validate(prompt, model=model or DEFAULT_MODEL, **given, **dict(options))

    @classmethod
    def stored(cls, data: Mapping[str, Any], *, model: str = DEFAULT_MODEL) -> Request:
        """A request as a record saved it: rebuilt without checking (it was validated when it
        was sent, and a reference file may no longer exist on this machine)."""
        options = data.get("options") or {}
        return cls(
            prompt=str(data.get("prompt", "")),
            duration=int(data.get("duration", DEFAULT_DURATION)),
            size=data.get("size", DEFAULT_SIZE),
            input_reference=data.get("input_reference"),
            last_frame=data.get("last_frame"),
            model=model,
            aspect_ratio=data.get("aspect_ratio"),
            resolution=data.get("resolution"),
            sound=data.get("sound"),
            seed=data.get("seed"),
            options=tuple(sorted(options.items())) if isinstance(options, Mapping) else (),
        )

    def with_model(self, model: str) -> Request:
        """The same values under another model's name, unchecked (a record's own model wins
        over its parameters')."""
        return dataclasses.replace(self, model=model)


#: the name the first records and the public API give a request's parameters
GenerationParams = Request


def clip_price(request: Request, usd: Mapping[str, float] | None = None) -> tuple[float, float]:
    """(US dollars for the clip, US dollars per second of it) by its model's price rule, at
    the prices `usd` (price key → dollars; the catalogue's when None)."""
    entry = request.entry
    rule = entry.price
    if rule.by is None:
        value: Any = None
    elif rule.by == "sound":
        value = request.makes_sound
    elif rule.by in COMMON_FIELDS:
        value = getattr(request, rule.by)
    else:
        value = request.option(rule.by)
    rate = (usd if usd is not None else rule.usd)[price_key(entry, value)]
    if rule.per == "second":
        return round(rate * request.duration, 6), rate
    return round(rate, 6), round(rate / request.duration, 6)


def from_payload(model: str, body: Mapping[str, Any]) -> Request:
    """The request a submit's JSON body makes for `model` (the server's side of `payload`):
    every key one of the model's fields, every value one it allows; a local path is refused
    (a server never reads its caller's files). `InvalidParams` names the key as sent."""
    entry = MODELS[validate_model(model)]
    by_wire = {f.wire: f for f in entry.fields}
    for key, value in body.items():
        if key != "prompt" and key not in by_wire:
            raise InvalidParams(
                key,
                value,
                "prompt, " + ", ".join(by_wire),
                message=f"{entry.name} takes no parameter {key!r}",
                hint=f"Its parameters: prompt, {', '.join(by_wire)}.",
            )
    fields = {by_wire[k].name: v for k, v in body.items() if k != "prompt" and v is not None}
    try:
        return validate(body.get("prompt"), model=entry.name, allow_local_reference=False, **fields)
    except InvalidParams as error:
        sent = entry.field(error.field if error.field != "input_reference" else "first_frame")
        if sent is None or sent.wire == error.field:
            raise
        raise InvalidParams(sent.wire, error.value, error.allowed) from None


# -- validation ----------------------------------------------------------------------------------


def validate(
    prompt: object,
    *,
    model: object = DEFAULT_MODEL,
    duration: object = None,
    size: object = None,
    input_reference: object = None,
    first_frame: object = None,
    last_frame: object = None,
    aspect_ratio: object = None,
    resolution: object = None,
    sound: object = None,
    seed: object = None,
    allow_local_reference: bool = True,
    **options: Any,
) -> Request:
    """Check and normalise what a caller asked, or raise `InvalidParams` naming what is wrong
    and what is allowed — before anything is sent.

    `model`: a catalogued model (`sw.models()`); every other value must be one it takes.
    `duration`: an int or a numeric string; `size`: "WxH" or "portrait"/"landscape" (for a
    model that takes an aspect ratio it picks the ratio, and the resolution when given as
    pixels); `first_frame` (or `input_reference`, Sora's name) and `last_frame`: an http(s)
    URL, an image data URI, or — when the caller can upload it — a local image file;
    `sound`, `seed`; the model's own options by their names. A value left out takes the
    model's default.
    """
    entry = MODELS[validate_model(model)]
    first = _one_first_frame(first_frame, input_reference)
    given = {
        "duration": duration,
        "size": size,
        "first_frame": first,
        "last_frame": last_frame,
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
        "sound": sound,
        "seed": seed,
    }
    _refuse_what_the_model_lacks(
        entry, given, options, first_frame_name=_first_name(first_frame, input_reference)
    )
    size_value, aspect, res = _shape(entry, size, aspect_ratio, resolution)
    return Request(
        prompt=validate_prompt(prompt),
        duration=validate_duration(duration if duration is not None else entry.default_duration, entry.name),
        size=size_value,
        input_reference=_image(
            entry, "first_frame", first, allow_local_reference, _first_name(first_frame, input_reference)
        ),
        last_frame=_image(entry, "last_frame", last_frame, allow_local_reference, "last_frame"),
        model=entry.name,
        aspect_ratio=aspect,
        resolution=res,
        sound=_sound(entry, sound),
        seed=_int(entry.field("seed"), seed) if entry.has("seed") else None,
        options=_options(entry, options),
    )


def validate_preferring(prompt: object, *, preferred: Mapping[str, Any], **given: Any) -> Request:
    """`validate(prompt, **given)`, with the `preferred` values (a parent clip's, a magic's
    configured defaults) where `given` says nothing — each left out when the model does not
    take or allow it, so its default applies. A value in `given` the model refuses is
    `InvalidParams`, as always."""
    kept = {k: v for k, v in preferred.items() if k not in given and v is not None}
    while True:
        try:
            return validate(prompt, **kept, **given)
        except InvalidParams as error:
            name = error.field
            if name == "input_reference" and "first_frame" in kept:
                name = "first_frame"
            if name not in kept:
                raise
            del kept[name]


#: stands for a required first frame a draft does not have yet (never sent)
_DRAFT_FRAME = "https://draft.invalid/first-frame.png"


def validate_draft(prompt: str = "", *, preferred: Mapping[str, Any] | None = None, **fields: Any) -> Request:
    """The values of a request being composed (a widget's controls): checked as `validate`
    checks them, but the prompt and a required first frame may still be missing — the
    request they make is checked in full when it is sent. `preferred`: as in
    `validate_preferring` (the values a model switch keeps where the new model takes them)."""
    model = MODELS[validate_model(fields.get("model", DEFAULT_MODEL))]
    f = model.field("first_frame")
    has_frame = bool(fields.get("first_frame") or fields.get("input_reference"))
    if not has_frame and preferred:
        has_frame = bool(preferred.get("first_frame") or preferred.get("input_reference"))
    placeholder = f is not None and f.required and not has_frame
    draft = validate_preferring(
        prompt if prompt.strip() else "(draft)",
        preferred=preferred or {},
        **fields,
        **({"first_frame": _DRAFT_FRAME} if placeholder else {}),
    )
    first = None if placeholder else draft.input_reference
    return dataclasses.replace(draft, prompt=prompt, input_reference=first)


def validate_model(model: object) -> str:
    if isinstance(model, str) and model.strip().lower() in MODELS:
        return model.strip().lower()
    raise InvalidParams("model", model, list(MODELS))


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
    value = _whole_number(duration)
    if value is None or value not in allowed:
        raise InvalidParams("duration", duration, f"{', '.join(map(str, allowed))} for {model}")
    return value


def validate_size(size: object, model: str = DEFAULT_MODEL) -> str:
    """A size the model offers, as "WxH" (a shape-taking model's: one its aspect ratios and
    resolutions make)."""
    entry = MODELS[model]
    offered = entry.sizes
    if isinstance(size, str):
        text = size.strip().lower().replace("×", "x").replace(" ", "")
        text = _SIZE_ALIASES.get(text, text)
        if text in offered:
            return text
        if entry.pixels and text in _ASPECT_ALIASES:
            return entry.pixels[(_ASPECT_ALIASES[text], entry.default_shape[1])]
    if not offered:
        raise InvalidParams("size", size, f"none: {model} makes its clip the shape of the first frame")
    allowed = ", ".join(f"{s!r} ({label.lower()})" for s, label in offered.items())
    elsewhere = [
        f"{other.name} also offers {', '.join(extra)}"
        for other in MODELS.values()
        if other.has("size") and (extra := [s for s in other.sizes if s not in offered])
    ]
    if model != DEFAULT_MODEL or elsewhere:
        allowed = f"{allowed} for {model}" + (f" ({'; '.join(elsewhere)})" if elsewhere else "")
    raise InvalidParams("size", size, allowed)


# -- the parts of validate ------------------------------------------------------------------------


def _one_first_frame(first_frame: object, input_reference: object) -> object:
    if first_frame not in (None, "") and input_reference not in (None, "") and first_frame != input_reference:
        raise InvalidParams(
            "input_reference",
            input_reference,
            "the same image as first_frame (they name one thing), or leave one out",
        )
    return first_frame if first_frame not in (None, "") else input_reference


def _first_name(first_frame: object, input_reference: object) -> str:
    """The name the caller used for the first frame, for its errors."""
    return (
        "input_reference"
        if first_frame in (None, "") and input_reference not in (None, "")
        else "first_frame"
    )


def _refuse_what_the_model_lacks(
    entry: Model, given: dict[str, object], options: dict[str, Any], *, first_frame_name: str
) -> None:
    for name, value in given.items():
        if value in (None, "") or entry.has(name):
            continue
        if name == "size" and entry.pixels:
            continue  # a size picks the aspect ratio (and resolution)
        if name == "sound" and entry.sound != "optional":
            continue  # said by `_sound`, which knows whether it matches
        shown = first_frame_name if name == "first_frame" else name
        others = [m for m in with_field(name) if m != entry.name]
        what = name.replace("_", " ")
        raise InvalidParams(
            shown,
            value,
            f"nothing: {entry.name} takes no {what}",
            message=f"{entry.name} takes no {what} ({shown}={_shown(value)})",
            hint=f"Leave {shown} out, or use a model that takes one: {', '.join(others) or 'none'}.",
        )
    own = {f.name for f in entry.custom_options}
    for name, value in options.items():
        if name not in own:
            known = ", ".join(sorted(own)) or "none"
            raise InvalidParams(
                name,
                value,
                f"an option of {entry.name}",
                message=f"{entry.name} has no option {name!r}",
                hint=f"Its own options: {known}; the common ones: {', '.join(COMMON_FIELDS)}.",
            )


def _shape(
    entry: Model, size: object, aspect_ratio: object, resolution: object
) -> tuple[str | None, str | None, str | None]:
    """(pixel size, aspect ratio, resolution) of the clip, as the model takes them."""
    size_field = entry.field("size")
    if size_field is not None:
        return validate_size(size if size is not None else size_field.default, entry.name), None, None
    if not entry.pixels:
        return None, None, None
    aspect_field, resolution_field = entry.field("aspect_ratio"), entry.field("resolution")
    aspect = _choice(aspect_field, aspect_ratio) if aspect_ratio is not None else None
    res = _choice(resolution_field, resolution) if resolution is not None and resolution_field else None
    if size is not None:
        pixels = validate_size(size, entry.name)
        matches = [shape for shape, p in entry.pixels.items() if p == pixels]
        wanted = _SIZE_ALIASES.get(str(size).strip().lower())
        exact = [s for s in matches if (aspect is None or s[0] == aspect) and (res is None or s[1] == res)]
        if not exact:
            raise InvalidParams("size", size, f"a size matching aspect_ratio={aspect!r}, resolution={res!r}")
        # "portrait"/"landscape" say the shape; the resolution stays as asked (or the default)
        if wanted is not None and res is None:
            res = entry.default_shape[1] or None
            aspect = exact[0][0]
        else:
            aspect, res = exact[0][0], exact[0][1] or None
    aspect = aspect if aspect is not None else (aspect_field.default if aspect_field else None)
    res = res if res is not None else (resolution_field.default if resolution_field else None)
    return entry.pixels[(aspect or "", res or "")], aspect, res


def _choice(f: Field | None, value: object) -> Any:
    assert f is not None
    text = value.strip().lower() if isinstance(value, str) else value
    if f.name == "aspect_ratio" and isinstance(text, str):
        text = _ASPECT_ALIASES.get(text, text)
    for choice in f.choices:
        if choice.value == text or (isinstance(choice.value, str) and str(choice.value).lower() == text):
            return choice.value
    raise InvalidParams(f.name, value, list(f.values))


def _image(entry: Model, name: str, value: object, allow_local: bool, shown: str) -> str | None:
    f = entry.field(name)
    if f is None:
        return None
    checked = validate_reference(value, allow_local=allow_local, field=shown)
    if checked is None and f.required:
        raise InvalidParams(
            shown,
            value,
            "an image",
            message=f"{entry.name} makes video from an image: {shown} is required",
            hint=f"Pass {shown}= an http(s) URL, a data:image URI or a local image file.",
        )
    return checked


def _sound(entry: Model, value: object) -> bool | None:
    if value is None:
        f = entry.field("sound")
        return bool(f.default) if f is not None else None
    if not isinstance(value, bool):
        raise InvalidParams("sound", value, "True or False")
    if entry.sound == "optional":
        return value
    if value != (entry.sound == "always"):
        says = "always makes clips with sound" if entry.sound == "always" else "makes silent clips only"
        return_value = not value
        raise InvalidParams(
            "sound",
            value,
            [return_value],
            message=f"{entry.name} {says} (sound={value})",
            hint=f"Leave sound out, or use a model with a choice: {', '.join(with_field('sound'))}.",
        )
    return None


def _int(f: Field | None, value: object) -> int | None:
    if value is None or f is None:
        return None
    number = _whole_number(value)
    low = f.minimum if f.minimum is not None else -(2**63)
    high = f.maximum if f.maximum is not None else 2**63
    if number is None or not low <= number <= high:
        raise InvalidParams(f.name, value, f"a whole number from {low} to {high}")
    return number


def _options(entry: Model, options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    chosen: dict[str, Any] = {}
    for f in entry.custom_options:
        value = options.get(f.name)
        if value is None:
            value = f.default
            if value is None:
                continue
        chosen[f.name] = _option_value(f, value)
    return tuple(sorted(chosen.items()))


def _option_value(f: Field, value: Any) -> Any:
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise InvalidParams(f.name, value, "True or False")
        return value
    if f.kind == "choice":
        return _choice(f, value)
    if f.kind == "int":
        return _int(f, value)
    if not isinstance(value, str):
        raise InvalidParams(f.name, value, "a text")
    if f.max_chars is not None and len(value) > f.max_chars:
        raise InvalidParams(
            f.name, f"{len(value):,} characters", f"a text of at most {f.max_chars:,} characters"
        )
    return value


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _whole_number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
