"""`sora-widget emulator`: run the emulator in the foreground until Ctrl-C or SIGTERM.

Prints `listening on http://HOST:PORT` (the real port, also when asked for port 0)
once connections are accepted, so scripts can wait for that line. The web server and
encoder are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from typing import Any

from ..params import MODELS
from .catalogue import latency_scale
from .config import FAILED_STATUSES, LAYOUTS, EmulatorConfig

DEFAULT_PORT = 8765


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="run a local Segmind-compatible API that renders synthetic clips",
        description=(
            "A local stand-in for Segmind's video API: same paths, codes and bodies; "
            "renders real (synthetic, labelled) MP4 clips; offline and free. "
            f"Serves every model of the table ({', '.join(MODELS)}) at /v2/MODEL and /v1/MODEL. "
            "Point clients at it with SEGMIND_BASE_URL=http://HOST:PORT."
        ),
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    add(
        "--latency",
        type=float,
        help=(
            "seconds a sora-2 job spends PROCESSING (default 5); other models take this times "
            "their typical latency over sora-2's ("
            + ", ".join(f"{name} ×{latency_scale(name):g}" for name in MODELS)
            + ")"
        ),
    )
    add("--latency-jitter", type=float, metavar="F", help="± this fraction of the latency, at random")
    add(
        "--latency-distribution",
        choices=("uniform", "lognormal"),
        help="uniform (jitter = ± fraction) or lognormal (jitter = log-space sigma); default uniform",
    )
    add("--workers", type=int, help="jobs processed at once; the rest wait QUEUED (default 4)")
    add(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="K",
        help="accepted key (repeatable; default: any)",
    )
    add(
        "--block-word",
        action="append",
        dest="block_words",
        metavar="W",
        help="prompts containing W end FAILED",
    )
    add("--retention", type=float, metavar="S", help="seconds results stay retrievable (default 3600)")
    add(
        "--output-retention",
        type=float,
        metavar="S",
        help="seconds a finished clip's output URL (the request history's generation_url) answers "
        "(default: as long as --retention)",
    )
    add(
        "--credits",
        type=float,
        metavar="N",
        help="credits available; a second of video costs 1 (default: no limit)",
    )
    add(
        "--retired-model",
        action="append",
        dest="retired_models",
        metavar="NAME",
        help="answer 410 Gone for this model, naming the models still served (repeatable)",
    )
    add(
        "--failed-status",
        type=int,
        choices=FAILED_STATUSES,
        help="HTTP status of a FAILED job's status and result answers (default 422, as Segmind)",
    )
    add("--rate-limit", type=float, metavar="R", help="requests per second per key (default: no limit)")
    add("--output-port", type=int, metavar="N", help="serve output files from a second server on this port")
    add("--chaos-error-rate", type=float, metavar="P", help="probability of a 500/502/504 answer")
    add("--chaos-endpoints", type=_names, metavar="A,B", help="where chaos applies (default: all but assets)")
    add("--chaos-delay", type=float, metavar="S", help="seconds added to each answer")
    add("--chaos-drop-rate", type=float, metavar="P", help="probability of a connection cut mid-body")
    add("--seed", type=int, help="seed for chaos and jitter (default 0)")
    add("--data-dir", help="keep rendered clips and uploads here (default: a temporary directory)")
    add(
        "--fps",
        type=int,
        metavar="N",
        help="frames per second of the clips, 1 to 60 (default $SORA_WIDGET_EMULATOR_FPS or 24); "
        "8 costs a third of the encoding",
    )
    add(
        "--no-audio",
        dest="audio",
        action="store_const",
        const=False,
        help="silent clips (by default clips carry a soft synthetic stereo AAC sound track, as Sora 2's do)",
    )
    add(
        "--layout",
        choices=LAYOUTS,
        help="how clip files are laid out: web (default: moov first, no B-frames) or camera "
        "(moov at the end, B-frames, as most encoders write them; with --fps 30, like Sora 2's files)",
    )
    parser.set_defaults(run=run)


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The config options the user gave (the rest keep their defaults)."""
    # every flag named after an EmulatorConfig field sets it (the others are the command's own)
    fields = {f.name for f in dataclasses.fields(EmulatorConfig)}
    options = {name: value for name, value in vars(args).items() if name in fields and value is not None}
    options["port"] = args.port
    if args.output_port is not None:
        options.update(separate_output_host=True, output_port=args.output_port)
    return options


def run(args: argparse.Namespace) -> int:
    try:
        from . import _extra

        _extra.require()
        from .config import from_options
        from .server import Serving

        serving = Serving(from_options(options_from(args)))
    except (ImportError, TypeError, ValueError, OSError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    def ready() -> None:
        print(f"listening on {serving.base_url}", flush=True)
        if serving.config.separate_output_host:
            print(f"outputs on {serving.output_base_url}", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # where the loop cannot take signals (Windows), Ctrl-C arrives as KeyboardInterrupt
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await serving.run(ready, stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
