"""The options of one generation, defined once for `sora-widget generate` and `%sora` /
`%%sora`: the same flags, the same help, the same checks — and the request value they
make (`requested`), validated once, at this edge."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from . import params
from .errors import InvalidParams

SIZE_HELP = " or ".join(f"{s} ({label.lower()})" for s, label in list(params.SIZES.items())[:2])


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """-d/--duration, -s/--size, -m/--model, -r/--reference, --last-frame, --aspect-ratio,
    --resolution, --sound/--no-sound, --seed, --option NAME=VALUE, -o/--out, --new.
    Defaults are None (not given): the model's, or the caller's own (`requested`)."""
    durations = ", ".join(map(str, params.DURATIONS))
    parser.add_argument(
        "-d",
        "--duration",
        type=int,
        metavar="SECONDS",
        help=f"seconds of video, one the model offers ({durations}; default {params.DEFAULT_DURATION})",
    )
    parser.add_argument(
        "-s", "--size", help=f"{SIZE_HELP} (default {params.DEFAULT_SIZE}); or an aspect ratio's shape"
    )
    parser.add_argument(
        "-m",
        "--model",
        choices=list(params.MODELS),
        metavar="MODEL",
        help=f"one of {', '.join(params.MODELS)} (default {params.DEFAULT_MODEL}): what each takes is in "
        "sw.models() and the README",
    )
    parser.add_argument(
        "-r",
        "--reference",
        "--first-frame",
        dest="reference",
        metavar="URL|PATH",
        help="the first frame (Sora's reference image): URL, data URI or local image file",
    )
    parser.add_argument(
        "--last-frame", metavar="URL|PATH", help="the image the clip ends on (models that take one)"
    )
    parser.add_argument(
        "--aspect-ratio", metavar="W:H", help="16:9, 9:16, … (models that take an aspect ratio)"
    )
    parser.add_argument("--resolution", metavar="RES", help="720p, 1080p, … (models that take a resolution)")
    parser.add_argument(
        "--sound",
        dest="sound",
        action="store_true",
        default=None,
        help="with a sound track (models with a choice)",
    )
    parser.add_argument(
        "--no-sound", dest="sound", action="store_false", help="a silent clip (models with a choice)"
    )
    parser.add_argument(
        "--seed", type=int, metavar="N", help="the same seed repeats a take (models that take one)"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="one of the model's own options, e.g. --option prompt_optimizer=false",
    )
    parser.add_argument("-o", "--out", metavar="PATH", help="where to save: a .mp4 path or a directory")
    parser.add_argument(
        "--new",
        action="store_true",
        help="a new take: never the clip an identical request already made (the default reuses it)",
    )


def given_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The request's values the options say (none left out by a default)."""
    fields: dict[str, Any] = {
        "model": args.model,
        "duration": args.duration,
        "size": args.size,
        "input_reference": args.reference,
        "last_frame": args.last_frame,
        "aspect_ratio": args.aspect_ratio,
        "resolution": args.resolution,
        "sound": args.sound,
        "seed": args.seed,
    }
    for text in args.option or ():
        name, value = _option(text)
        fields[name] = value
    return {k: v for k, v in fields.items() if v is not None}


def requested(
    args: argparse.Namespace, prompt: str, *, preferred: Mapping[str, Any] | None = None
) -> params.Request:
    """The request the options make for `prompt`: what they say, then `preferred` (a
    magic's configured defaults) where the model takes it, then the model's defaults.
    `InvalidParams` names what is wrong."""
    return params.validate_preferring(prompt, preferred=dict(preferred or {}), **given_fields(args))


def take_of(args: argparse.Namespace) -> int | str:
    """A new take, or the first (answered by an earlier identical request when there is one)."""
    return "next" if args.new else 1


def _option(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise InvalidParams("option", text, "NAME=VALUE, e.g. prompt_optimizer=false")
    return name, _value(value.strip())


def _value(text: str) -> Any:
    """`true`/`false` → a bool, a whole number → an int, anything else stays text."""
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered.lstrip("-").isdigit():
        return int(lowered)
    return text
