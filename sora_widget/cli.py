"""`sora-widget` command line: generate · resume · pending · emulator.

Exit status: 0 done, 1 the API or the job failed, 2 bad usage, 130 interrupted
(the job keeps running on the server and stays resumable).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import Any

from . import api, params
from ._progress import ProgressLine
from .client import AsyncSoraClient
from .errors import SoraError
from .records import Generation


def build_parser() -> argparse.ArgumentParser:
    from .emulator import cli as emulator_cli

    parser = argparse.ArgumentParser(
        prog="sora-widget", description="Sora 2 video generation from the terminal."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="generate one clip and save it")
    gen.add_argument("prompt", nargs="+", help="what the video shows")
    _add_param_options(gen)
    gen.add_argument("-o", "--out", metavar="PATH", help="where to save: a .mp4 path or a directory")
    gen.add_argument("--timeout", type=float, default=900.0, help="seconds to wait (default 900)")
    _add_backend_options(gen)
    gen.set_defaults(run=_generate)

    resume = commands.add_parser("resume", help="finish a submitted job (or every pending one)")
    resume.add_argument("request_id", nargs="?", help="omit to finish every pending job in the ledger")
    resume.add_argument("--timeout", type=float, default=900.0)
    _add_backend_options(resume)
    resume.set_defaults(run=_resume)

    pending = commands.add_parser("pending", help="list jobs submitted but not yet saved")
    pending.add_argument(
        "--output-dir", help="where the ledger is (default $SORA_WIDGET_OUTPUT_DIR or ./sora-outputs)"
    )
    pending.set_defaults(run=_pending)

    emulator_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


def _add_param_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-d",
        "--duration",
        type=int,
        choices=params.DURATIONS,
        default=params.DEFAULT_DURATION,
        help="seconds",
    )
    parser.add_argument(
        "-s",
        "--size",
        default=params.DEFAULT_SIZE,
        help=" or ".join(f"{s} ({label.lower()})" for s, label in params.SIZES.items()),
    )
    parser.add_argument(
        "-r", "--reference", metavar="URL|PATH", help="reference image: URL, data URI or local file"
    )


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", help="videos and ledger (default $SORA_WIDGET_OUTPUT_DIR or ./sora-outputs)"
    )
    parser.add_argument("--base-url", help="API root (default $SEGMIND_BASE_URL or https://api.segmind.com)")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use an embedded local emulator: offline, free, synthetic clips",
    )


def _client(args: argparse.Namespace) -> AsyncSoraClient:
    if args.emulator:
        api.use_emulator()
    options: dict[str, Any] = {}
    if args.output_dir:
        options["output_dir"] = args.output_dir
    if args.base_url:
        options["base_url"] = args.base_url
    return api.client(**options)


async def _watch(client: AsyncSoraClient, record: Generation, progress: ProgressLine) -> None:
    """Refresh the progress line every second while the job runs."""
    while True:
        _show(client, record, progress)
        await asyncio.sleep(1.0)


def _show(client: AsyncSoraClient, record: Generation, progress: ProgressLine) -> None:
    progress.show(record, record.elapsed_s(time.time()), client.expected_seconds(record))


def _generate(args: argparse.Namespace) -> int:
    progress = ProgressLine()
    submitted: list[Generation] = []

    async def run() -> Generation:
        async with _client(args) as client:
            record = await client.submit(
                " ".join(args.prompt), duration=args.duration, size=args.size, input_reference=args.reference
            )
            submitted.append(record)
            watcher = asyncio.ensure_future(_watch(client, record, progress))
            try:
                return await client.wait(
                    record,
                    timeout=args.timeout,
                    save_to=args.out,
                    on_update=lambda r: _show(client, r, progress),
                )
            finally:
                watcher.cancel()

    try:
        record = asyncio.run(run())
    except KeyboardInterrupt:
        progress.close()
        return _interrupted(submitted[0] if submitted else None)
    except SoraError as error:
        progress.close()
        print(f"error: {error}", file=sys.stderr)
        return 1
    progress.close()
    print(f"saved      {record.video_path}")
    print(f"request id {record.request_id}")
    print(f"sha256     {record.sha256}")
    if record.synthetic:
        print("note       synthetic clip rendered by the local emulator, not by Sora")
    return 0


def _interrupted(record: Generation | None) -> int:
    if record is not None and record.request_id:
        print(
            f"Stopped waiting. The job is still running and billed on the server.\n"
            f"Resume it within the hour with: sora-widget resume {record.request_id}",
            file=sys.stderr,
        )
    else:
        print(
            "Interrupted before the server confirmed the job. If it was accepted it may be billed;\n"
            "it is in the ledger: see `sora-widget pending`.",
            file=sys.stderr,
        )
    return 130


def _resume(args: argparse.Namespace) -> int:
    async def run() -> list[Generation]:
        async with _client(args) as client:
            done = await client.resume(args.request_id, timeout=args.timeout)
            return done if isinstance(done, list) else [done]

    try:
        finished = asyncio.run(run())
    except KeyboardInterrupt:
        print("Stopped waiting; the jobs keep running on the server and stay resumable.", file=sys.stderr)
        return 130
    except SoraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not finished:
        print("nothing to resume: no pending jobs in the ledger")
        return 0
    _print_table(finished)
    return 0 if all(r.status == "COMPLETED" and r.video_path for r in finished) else 1


def _pending(args: argparse.Namespace) -> int:
    ledger = api.ledger(args.output_dir)
    waiting, unknown = ledger.pending(), ledger.unknown()
    if not waiting and not unknown:
        print("no pending jobs")
        return 0
    if waiting:
        print("Submitted, not yet saved (resume with `sora-widget resume [ID]`):")
        _print_table(waiting)
    if unknown:
        print("Outcome unknown — may be running and billed; check your Segmind dashboard:")
        _print_table(unknown)
    return 0


def _print_table(rows: list[Generation]) -> None:
    print(f"{'STATUS':<11}{'REQUEST ID':<38}{'SUBMITTED':<26}{'PARAMS':<16}PROMPT / FILE")
    for r in rows:
        where = r.video_path or (r.error or {}).get("message") or r.params.prompt
        print(
            f"{r.status:<11}{(r.request_id or '-'):<38}{(r.submitted_at or '-'):<26}"
            f"{f'{r.params.duration}s {r.params.size}':<16}{where[:60]}"
        )


if __name__ == "__main__":
    sys.exit(main())
