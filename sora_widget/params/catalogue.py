"""The model catalogue: every video model of Segmind's v2 API this project speaks, as data.

Each entry says what the model accepts (its fields: common names for common ideas —
`duration`, `size`, `aspect_ratio`, `resolution`, `first_frame`, `last_frame`, `sound`,
`seed` — each mapped to the model's own JSON key, and the model's other options by their
own names), what a clip costs, how long one takes, and whether it has sound. Validation,
estimates, the poll schedule's prior, the emulator and the widget's controls all read it:
adding a model is one entry here plus its test (tests/unit/test_catalogue.py).

Values were read from each model's page (segmind.com/models/<slug>/api) on `READ_ON`, from
stored copies; where a page shows only a price range, the rule below is fitted to its ends,
and `Model.notes` says what the page did not show. Prices can be overridden by the user
(`sw.configure(prices=...)`, SORA_WIDGET_PRICES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

#: when the catalogue's parameters and prices were read from Segmind's pages
READ_ON = "2026-12-05"
#: the date the default model's prices were last confirmed (records made before say so)
PRICES_AS_OF = READ_ON
PRICE_SOURCE = "Segmind's listed prices on its model pages"

FieldKind = Literal["choice", "bool", "int", "image", "text"]

#: the common names: one idea, one name, whatever each model calls it on the wire
COMMON_FIELDS = (
    "duration",
    "size",
    "aspect_ratio",
    "resolution",
    "first_frame",
    "last_frame",
    "sound",
    "seed",
)


@dataclass(frozen=True)
class Choice:
    value: Any
    label: str


@dataclass(frozen=True)
class Field:
    """One parameter of one model."""

    #: what callers say: a common name (COMMON_FIELDS) or the model's own option name
    name: str
    #: the model's JSON key
    wire: str
    kind: FieldKind
    #: how the widget labels it (its accessible name)
    label: str
    choices: tuple[Choice, ...] = ()
    #: sent when the caller does not say (None: not sent unless given)
    default: Any = None
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_chars: int | None = None
    help: str = ""

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(c.value for c in self.choices)


@dataclass(frozen=True)
class Price:
    """What a clip costs: `usd` per second of video (`per="second"`) or per clip, picked by
    the value of the field `by` (its text: `price_key`), or one price for all (`by=None`,
    key "*")."""

    per: Literal["second", "clip"]
    usd: Mapping[str, float]
    by: str | None = None
    #: where the figures come from, in words
    basis: str = ""


@dataclass(frozen=True)
class Model:
    """One model Segmind serves on its v2 API: what it accepts, costs and takes."""

    name: str
    label: str
    maker: str
    summary: str
    fields: tuple[Field, ...]
    price: Price
    #: seconds from submit to a finished clip, by duration (the poll schedule's prior)
    latency_s: Mapping[int, float]
    #: "always" (every clip has sound), "optional" (the `sound` field says), "never"
    sound: Literal["always", "optional", "never"]
    #: (aspect ratio, resolution) → the clip's pixel size, for models that take those
    pixels: Mapping[tuple[str, str], str] = dataclass_field(default_factory=dict)
    notes: str = ""

    @property
    def page(self) -> str:
        """Where its parameters and price were read (every model's page is at this address)."""
        return f"https://www.segmind.com/models/{self.name}/api"

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def has(self, name: str) -> bool:
        return self.field(name) is not None

    @property
    def durations(self) -> tuple[int, ...]:
        f = self.field("duration")
        return tuple(f.values) if f is not None else ()

    @property
    def default_duration(self) -> int:
        f = self.field("duration")
        assert f is not None, f"{self.name} has no duration"
        return int(f.default)

    @property
    def sizes(self) -> dict[str, str]:
        """Every pixel size a clip of this model can have → its label; the default first.
        Empty for a model whose clips take the first frame's size."""
        size = self.field("size")
        if size is not None:
            return {c.value: c.label for c in size.choices}
        ordered = sorted(self.pixels.items(), key=lambda item: item[0] != self.default_shape)
        return {pixels: f"{aspect} {resolution}".strip() for (aspect, resolution), pixels in ordered}

    @property
    def default_shape(self) -> tuple[str, str]:
        aspect, resolution = self.field("aspect_ratio"), self.field("resolution")
        return (aspect.default if aspect else "", resolution.default if resolution else "")

    @property
    def typical_latency_s(self) -> float:
        """Seconds a clip of the default duration typically takes."""
        return self.latency_s[self.default_duration]

    @property
    def usd_per_second(self) -> dict[str, float]:
        """US dollars per second of video by size (Sora's rule; other rules by their key):
        kept for the callers of the first catalogue, which priced by size only."""
        if self.price.per == "second" and self.price.by == "size":
            return dict(self.price.usd)
        seconds = self.default_duration
        return {
            key: usd if self.price.per == "second" else usd / seconds for key, usd in self.price.usd.items()
        }

    @property
    def custom_options(self) -> tuple[Field, ...]:
        """The model's own options (not one of the common fields)."""
        return tuple(f for f in self.fields if f.name not in COMMON_FIELDS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "sizes": list(self.sizes),
            "durations": list(self.durations),
            "typical_latency_s": self.typical_latency_s,
            "sound": self.sound,
            "fields": [f.name for f in self.fields],
            "price": {"per": self.price.per, "by": self.price.by, "usd": dict(self.price.usd)},
            "page": self.page,
        }

    def __repr__(self) -> str:
        return f"<Model {self.name}: {self.label}, {', '.join(f.name for f in self.fields)}>"


def price_key(model: Model, value: Any) -> str:
    """The text that picks a price from `model.price.usd` for the value of its `by` field."""
    if model.price.by is None:
        return "*"
    if model.price.by == "sound":
        return "sound" if value else "silent"
    return str(value)


# -- the fields models share ----------------------------------------------------------------

_PORTRAIT, _LANDSCAPE = "720x1280", "1280x720"
_PORTRAIT_HD, _LANDSCAPE_HD = "1024x1792", "1792x1024"


def _durations(values: tuple[int, ...], default: int) -> Field:
    return Field(
        "duration",
        "duration",
        "choice",
        "Duration",
        tuple(Choice(v, f"{v} s") for v in values),
        default=default,
        help="seconds of video",
    )


def _image(name: str, wire: str, label: str, *, required: bool = False, help: str = "") -> Field:
    return Field(name, wire, "image", label, required=required, help=help)


def _sound(wire: str = "generate_audio") -> Field:
    return Field("sound", wire, "bool", "Sound", default=True, help="a sound track made with the picture")


def _seed(maximum: int = 2_147_483_647) -> Field:
    return Field(
        "seed", "seed", "int", "Seed", minimum=0, maximum=maximum, help="the same seed repeats a take"
    )


def _aspects(values: tuple[str, ...], default: str) -> Field:
    labels = {"16:9": "16:9 landscape", "9:16": "9:16 portrait", "1:1": "1:1 square"}
    return Field(
        "aspect_ratio",
        "aspect_ratio",
        "choice",
        "Aspect ratio",
        tuple(Choice(v, labels.get(v, v)) for v in values),
        default=default,
    )


def _resolutions(values: tuple[str, ...], default: str) -> Field:
    return Field(
        "resolution",
        "resolution",
        "choice",
        "Resolution",
        tuple(Choice(v, v) for v in values),
        default=default,
    )


def _option_bool(name: str, label: str, default: bool, help: str) -> Field:
    return Field(name, name, "bool", label, default=default, help=help)


#: the pixels of each (aspect ratio, resolution) a model names by its short side
def _pixels(aspects: tuple[str, ...], resolutions: tuple[str, ...]) -> dict[tuple[str, str], str]:
    short = {"480p": 480, "720p": 720, "1080p": 1080}
    shapes = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4), "21:9": (21, 9)}
    table: dict[tuple[str, str], str] = {}
    for aspect in aspects:
        w, h = shapes[aspect]
        for resolution in resolutions:
            side = short[resolution]
            # the short side is the resolution's; the long one rounded to an even number
            if w >= h:
                width, height = 2 * round(side * w / h / 2), side
            else:
                width, height = side, 2 * round(side * h / w / 2)
            table[(aspect, resolution)] = f"{width}x{height}"
    return table


def _sora(
    name: str, label: str, summary: str, *, sizes: tuple[Choice, ...], price: Price, at_8s: float
) -> Model:
    """OpenAI's Sora 2 family on Segmind: a size, a duration, a reference image; sound always."""
    return Model(
        name,
        label,
        "OpenAI",
        summary,
        fields=(
            _durations((4, 8, 12), 8),
            # a page may default to landscape (sora-2-pro's does); ours is portrait for every
            # model that has it, and a size is always sent, so the page's never applies
            Field("size", "size", "choice", "Size", sizes, default=_PORTRAIT),
            _image("first_frame", "input_reference", "Reference image", help="an image the clip follows"),
        ),
        price=price,
        # the API page quotes ~180 s for sora-2's default 8 s clip; shorter clips come sooner
        latency_s={4: at_8s * 140 / 180, 8: at_8s, 12: at_8s * 220 / 180},
        sound="always",
        notes="OpenAI shut Sora 2 down on 2026-09-24; Segmind may no longer serve it.",
    )


_VEO_ASPECTS, _VEO_RESOLUTIONS = ("16:9", "9:16"), ("720p", "1080p")


def _veo(
    name: str,
    label: str,
    summary: str,
    price: Price,
    *,
    latency_s: dict[int, float],
    notes: str,
    more: tuple[Field, ...] = (),
) -> Model:
    """Google's Veo 3.1 family: the same fields on Segmind (`more`: a model's own extras)."""
    return Model(
        name,
        label,
        "Google",
        summary,
        fields=(
            _aspects(_VEO_ASPECTS, "16:9"),
            _resolutions(_VEO_RESOLUTIONS, "720p"),
            _durations((4, 6, 8), 8),
            _image("first_frame", "image", "First frame", help="the clip starts on this image"),
            _image("last_frame", "last_frame", "Last frame", help="the clip ends on this image"),
            _sound(),
            _seed(),
            *more,
        ),
        price=price,
        latency_s=latency_s,
        sound="optional",
        pixels=_pixels(_VEO_ASPECTS, _VEO_RESOLUTIONS),
        notes=notes,
    )


_SEEDANCE_ASPECTS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")

#: every model, the default first
MODELS: dict[str, Model] = {
    "sora-2": _sora(
        "sora-2",
        "Sora 2",
        "Stunning dynamic videos from detailed text descriptions.",
        sizes=(Choice(_PORTRAIT, "Portrait"), Choice(_LANDSCAPE, "Landscape")),
        price=Price("second", {_PORTRAIT: 0.10, _LANDSCAPE: 0.10}, by="size", basis="$0.40–$1.20 a clip"),
        at_8s=180.0,
    ),
    "sora-2-pro": _sora(
        "sora-2-pro",
        "Sora 2 Pro",
        "Cinematic-quality videos from text with temporal consistency.",
        sizes=(
            Choice(_PORTRAIT, "Portrait"),
            Choice(_LANDSCAPE, "Landscape"),
            Choice(_PORTRAIT_HD, "Portrait HD"),
            Choice(_LANDSCAPE_HD, "Landscape HD"),
        ),
        price=Price(
            "second",
            {_PORTRAIT: 0.30, _LANDSCAPE: 0.30, _PORTRAIT_HD: 0.50, _LANDSCAPE_HD: 0.50},
            by="size",
            basis="$1.20–$6.00 a clip",
        ),
        at_8s=400.0,
    ),
    "veo-3.1-fast": _veo(
        "veo-3.1-fast",
        "Veo 3.1 Fast",
        "Fast image-to-video at 1080p with native audio.",
        Price("second", {"sound": 0.15, "silent": 0.10}, by="sound", basis="$0.40–$1.20 a clip"),
        latency_s={4: 80.0, 6: 90.0, 8: 100.0},
        notes=(
            "The page lists aspect_ratio, duration and generate_audio; image, last_frame, "
            "resolution and seed are read from its example request."
        ),
    ),
    "veo-3.1": _veo(
        "veo-3.1",
        "Veo 3.1",
        "Static images into high-quality videos with synchronized audio.",
        Price("second", {"sound": 0.40, "silent": 0.20}, by="sound", basis="$0.80–$3.20 a clip"),
        latency_s={4: 80.0, 6: 95.0, 8: 110.0},
        notes="Fields after aspect_ratio are read from the page's example request and Veo 3.1 Fast's.",
        more=(Field("negative_prompt", "negative_prompt", "text", "Negative prompt", max_chars=2000),),
    ),
    "kling-o1-image-to-video": Model(
        name="kling-o1-image-to-video",
        label="Kling O1 Image to Video",
        maker="Kuaishou",
        summary="Physics-driven animations from images for creative storytelling.",
        fields=(
            _durations((5, 10), 5),
            _image(
                "first_frame", "start_image_url", "First frame", required=True, help="the image to animate"
            ),
            _image("last_frame", "end_image_url", "Last frame", help="the clip ends on this image"),
        ),
        price=Price("second", {"*": 0.1824}, basis="~$0.912 a 5 s clip"),
        latency_s={5: 143.0, 10: 200.0},
        sound="never",
        notes="Image to video only: a first frame is required, and the clip takes its shape.",
    ),
    "hailuo-02-fast": Model(
        name="hailuo-02-fast",
        label="Hailuo 02 Fast",
        maker="MiniMax",
        summary="Transform any static image into a captivating, high-quality video clip effortlessly.",
        fields=(
            _durations((6, 10), 6),
            _image(
                "first_frame",
                "first_frame_image",
                "First frame",
                required=True,
                help="the starting image; it sets the clip's aspect ratio",
            ),
            _image("last_frame", "last_frame_image", "Last frame", help="the clip ends on this image"),
            _option_bool("prompt_optimizer", "Prompt optimizer", True, "let the model rewrite the prompt"),
            _option_bool("go_fast", "Go fast", True, "the faster variant of the model"),
        ),
        price=Price("clip", {"6": 0.125, "10": 0.188}, by="duration", basis="$0.125–$0.188 a clip"),
        latency_s={6: 80.0, 10: 110.0},
        sound="never",
        notes=(
            "Image to video only. Durations and the two switches are read from the page's example "
            "and Hailuo 2.3 Fast's page (6 or 10 s); prices fitted to the page's range."
        ),
    ),
    "seedance-2.0": Model(
        name="seedance-2.0",
        label="Seedance 2.0",
        maker="ByteDance",
        summary="Cinematic AI videos with native audio and multi-shot narratives.",
        fields=(
            _aspects(_SEEDANCE_ASPECTS, "16:9"),
            _resolutions(("480p", "720p"), "720p"),
            _durations((4, 5, 6, 8, 10, 12, 15), 5),
            _image("first_frame", "first_frame_url", "First frame", help="the clip starts on this image"),
            _image("last_frame", "last_frame_url", "Last frame", help="the clip ends on this image"),
            _sound(),
            _seed(),
        ),
        price=Price(
            "second", {"480p": 0.0522, "720p": 0.19}, by="resolution", basis="~$0.261 a 480p 5 s clip"
        ),
        latency_s={d: 120.0 + 8.0 * d for d in (4, 5, 6, 8, 10, 12, 15)},
        sound="optional",
        pixels=_pixels(_SEEDANCE_ASPECTS, ("480p", "720p")),
        notes=(
            "The stored page shows no parameter table: fields follow seedance-2.0-mini's page and "
            "Segmind's user guide; the 720p price is a published listing's, not the page's."
        ),
    ),
}

DEFAULT_MODEL = "sora-2"
#: the default model's name (records made before there was a choice name it)
MODEL = DEFAULT_MODEL


def typical_latency_s(model: str, duration: int) -> float:
    """Seconds from submit to a finished clip of `model` and `duration`, before any job of
    that kind has been seen (the poll schedule's prior): the entry's own figure for that
    duration, else its figure for the default duration."""
    entry = MODELS.get(model, MODELS[DEFAULT_MODEL])
    return entry.latency_s.get(duration, entry.typical_latency_s)


def with_field(name: str) -> list[str]:
    """The catalogued models that take `name`, in catalogue order."""
    return [m.name for m in MODELS.values() if m.has(name)]
