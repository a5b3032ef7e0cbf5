"""The options of one generation, defined once for `sora-widget generate` and `%sora` /
`%%sora`: the same flags, the same help, the same checks."""

from __future__ import annotations

import argparse
from typing import Any

from . import params

SIZE_HELP = " or ".join(f"{s} ({label.lower()})" for s, label in params.SIZES.items())


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """-d/--duration, -s/--size, -r/--reference, -o/--out. Defaults are None (not given):
    the caller fills them from its own defaults (`chosen`)."""
    durations = ", ".join(map(str, params.DURATIONS))
    parser.add_argument(
        "-d",
        "--duration",
        type=int,
        choices=params.DURATIONS,
        metavar="|".join(map(str, params.DURATIONS)),
        help=f"seconds of video: {durations} (default {params.DEFAULT_DURATION})",
    )
    parser.add_argument("-s", "--size", help=f"{SIZE_HELP} (default {params.DEFAULT_SIZE})")
    parser.add_argument(
        "-m",
        "--model",
        choices=list(params.MODELS),
        help=f"{' or '.join(params.MODELS)} (default {params.DEFAULT_MODEL}); sizes follow the model",
    )
    parser.add_argument(
        "-r", "--reference", metavar="URL|PATH", help="reference image: URL, data URI or local file"
    )
    parser.add_argument("-o", "--out", metavar="PATH", help="where to save: a .mp4 path or a directory")
    parser.add_argument(
        "--new",
        action="store_true",
        help="a new take: never the clip an identical request already made (the default reuses it)",
    )


def chosen(
    args: argparse.Namespace,
    *,
    duration: int = params.DEFAULT_DURATION,
    size: str = params.DEFAULT_SIZE,
) -> dict[str, Any]:
    """The generation's parameters from parsed options, `duration` and `size` where the
    options do not say."""
    return {
        "duration": args.duration if args.duration is not None else duration,
        "size": args.size if args.size is not None else size,
        "input_reference": args.reference,
        "model": args.model or params.DEFAULT_MODEL,
        # a new take, or the first (answered by an earlier identical request when there is one)
        "take": "next" if args.new else 1,
    }
