"""`sora-widget` command line: generate · resume · pending · records · embed · verify ·
replay · emulator.

Exit status: 0 done, 1 the API or the job failed (or `verify` found a problem), 2 bad
usage or an unreadable notebook, 130 interrupted (the job keeps running on the server
and stays resumable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import api, terminal
from ._sync import WaitInterrupted
from ._waiting import Watch
from .client import AsyncSoraClient
from .errors import SoraError
from .options import add_generation_options, chosen
from .params import DEFAULT_DURATION, DEFAULT_MODEL, DEFAULT_SIZE, DEFAULT_TIMEOUT_S
from .records import Generation


def build_parser() -> argparse.ArgumentParser:
    from .emulator import cli as emulator_cli

    parser = argparse.ArgumentParser(
        prog="sora-widget", description="Sora 2 video generation from the terminal."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="generate one clip and save it")
    gen.add_argument("prompt", nargs="+", help="what the video shows")
    add_generation_options(gen)
    _add_timeout(gen)
    _add_backend_options(gen)
    gen.set_defaults(run=_generate)

    resume = commands.add_parser("resume", help="finish a submitted job (or every pending one)")
    resume.add_argument("request_id", nargs="?", help="omit to finish every pending job in the ledger")
    _add_timeout(resume)
    _add_backend_options(resume)
    resume.set_defaults(run=_resume)

    pending = commands.add_parser("pending", help="list jobs submitted but not yet saved")
    pending.add_argument(
        "--output-dir", help="where the ledger is (default $SORA_WIDGET_OUTPUT_DIR or ./sora-outputs)"
    )
    pending.set_defaults(run=_pending)

    records = commands.add_parser("records", help="list the generations a notebook records")
    records.add_argument("notebook", help="a saved .ipynb")
    records.add_argument("--json", action="store_true", help="the full records as JSON, one list")
    records.set_defaults(run=_records)

    embed = commands.add_parser(
        "embed", help="write every record into a notebook's metadata (for notebooks run headless)"
    )
    embed.add_argument("notebook", help="a saved .ipynb (rewritten in place; idempotent)")
    embed.set_defaults(run=_embed)

    verify = commands.add_parser("verify", help="check every recorded clip exists and matches its sha256")
    verify.add_argument("notebook", help="a saved .ipynb")
    verify.set_defaults(run=_verify)

    replay = commands.add_parser("replay", help="generate a recorded clip again with identical parameters")
    replay.add_argument("notebook", help="the .ipynb that records it")
    replay.add_argument("id", help="the record's id or request id (see `sora-widget records NB`)")
    _add_timeout(replay)
    _add_backend_options(replay)
    replay.set_defaults(run=_replay)

    ledger = commands.add_parser(
        "ledger", help="the ledger of an output dir: export it, or count what it holds"
    )
    ledger.add_argument("action", choices=("export", "stats"), help="export: JSON lines; stats: counts")
    ledger.add_argument(
        "--output-dir", help="where the ledger is (default $SORA_WIDGET_OUTPUT_DIR or ./sora-outputs)"
    )
    ledger.add_argument("-o", "--out", metavar="FILE", help="export: write here instead of standard output")
    ledger.set_defaults(run=_ledger)

    emulator_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait (default {DEFAULT_TIMEOUT_S:g})",
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


def _generate(args: argparse.Namespace) -> int:
    return _run_job(args, " ".join(args.prompt), save_to=args.out, **chosen(args))


def _run_job(args: argparse.Namespace, prompt: str, *, save_to: str | None = None, **submit: Any) -> int:
    """Submit, wait with a progress line, save, and print what was saved (exit status)."""
    watch = Watch()
    with contextlib.suppress(SoraError):  # a value the model does not offer: the submit says so
        guess = api.estimate(
            model=submit.get("model") or DEFAULT_MODEL,
            duration=submit.get("duration", DEFAULT_DURATION),
            size=submit.get("size", DEFAULT_SIZE),
        )
        print(f"estimate   {guess} ({guess.basis})", file=sys.stderr)
    try:
        record = terminal.run_job(
            lambda: _client(args), prompt, timeout=args.timeout, save_to=save_to, watch=watch, **submit
        )
    except WaitInterrupted:
        return _interrupted(next(iter(watch.records.values()), None))
    except SoraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if record.replay_of:
        print(f"replay of  {record.replay_of}")
    print(f"saved      {record.video_path}")
    print(f"request id {record.request_id}")
    print(f"sha256     {record.sha256}")
    if record.cost is not None:
        said = "the API's figure" if record.cost["source"] == "api" else "estimated"
        print(f"cost       ${record.cost['usd']:.2f} ({said})")
    print(f"spend      {api.spend()}")
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
    elif record is not None:
        print(
            "Interrupted before the server confirmed the job. If it was accepted it may be billed;\n"
            "it is in the ledger: see `sora-widget pending`.",
            file=sys.stderr,
        )
    else:
        print("Interrupted before anything was sent; nothing was billed.", file=sys.stderr)
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
    listed = api.ledger(args.output_dir).pending()
    waiting = [r for r in listed if r.request_id]
    unknown = [r for r in listed if not r.request_id]
    if not waiting and not unknown:
        print("no pending jobs")
        return 0
    if waiting:
        print("Submitted, not yet saved (resume with `sora-widget resume [ID]`):")
        _print_table(waiting)
    if unknown:
        print(
            "UNKNOWN — may be running and billed (the submit's answer was never heard); "
            "check your Segmind dashboard before submitting again:"
        )
        _print_table(unknown)
    return 0


def _ledger(args: argparse.Namespace) -> int:
    book = api.ledger(args.output_dir)
    try:
        if args.action == "stats":
            stats = book.stats()
            print(f"ledger      {stats['path']} ({stats['bytes']} bytes)")
            print(f"generations {stats['generations']}")
            for status, count in sorted(stats["by_status"].items()):
                print(f"  {status:<10} {count}")
            print(f"events      {stats['events']}")
            print(f"references  {stats['references']} (data-URI images, each stored once)")
            print(f"submitted   {stats['oldest'] or '-'} … {stats['newest'] or '-'}")
            return 0
        if args.out:
            with open(args.out, "x", encoding="utf-8") as out:
                count = book.export(out)
            print(f"{count} generation(s) written to {args.out}", file=sys.stderr)
        else:
            book.export(sys.stdout)
        return 0
    except FileExistsError:
        print(f"error: {args.out} exists; choose a new file name", file=sys.stderr)
        return 2
    except SoraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


#: what reading a notebook can raise (missing, unreadable, not JSON, not a notebook)
NOTEBOOK_ERRORS = (OSError, ValueError)


def _reading_notebook(action: Callable[[], int]) -> int:
    """Run a notebook command; a missing or unreadable notebook is a usage error (2)."""
    try:
        return action()
    except NOTEBOOK_ERRORS as error:
        return _notebook_error(error)


def _notebook_error(error: Exception) -> int:
    if isinstance(error, FileNotFoundError):
        print(f"error: no such notebook: {error.filename}", file=sys.stderr)
    else:
        print(f"error: {error}", file=sys.stderr)
    return 2


def _records(args: argparse.Namespace) -> int:
    def run() -> int:
        from .notebook import read_records

        found = read_records(args.notebook)
        if args.json:
            print(json.dumps([{**r.to_dict(), "sources": r.sources} for r in found], indent=1))
        elif not found:
            print(f"{args.notebook} records no generations")
        else:
            print(
                f"{'ID':<14}{'STATUS':<11}{'PARAMS':<16}{'REQUEST ID':<38}{'FOUND IN':<24}"
                f"{'PROMPT':<42}FILE / ERROR"
            )
            for r in found:
                prompt = r.params.prompt if len(r.params.prompt) <= 40 else r.params.prompt[:39] + "…"
                outcome = r.video_path or (r.error or {}).get("message") or "-"
                if r.replay_of:
                    outcome += f" (replay of {r.replay_of})"
                outcome += lineage_note(r)
                print(
                    f"{r.id:<14}{r.status:<11}{f'{r.params.duration}s {r.params.size}':<16}"
                    f"{(r.request_id or '-'):<38}{','.join(r.sources):<24}{prompt:<42}{outcome}"
                )
        return 0

    return _reading_notebook(run)


def lineage_note(record: Generation) -> str:
    """Where a clip came from, for the records table: "(continues ID)", "(remix of ID)"
    or "(film of ID, ID…)", after a space; empty for a clip made from scratch."""
    how = {"extend": "continues", "remix": "remix of"}
    derived = record.derived_from or {}
    if derived.get("how") in how:
        return f" ({how[derived['how']]} {derived.get('id')})"
    if record.kind == "film":
        return f" (film of {', '.join(str(p.get('id')) for p in record.parts or [])})"
    return ""


def _embed(args: argparse.Namespace) -> int:
    def run() -> int:
        from .notebook import embed

        count = embed(args.notebook)
        print(f"{args.notebook}: {count} generation record(s) in its metadata")
        return 0

    return _reading_notebook(run)


def _verify(args: argparse.Namespace) -> int:
    def run() -> int:
        from .notebook import read_records, verify_records

        found = read_records(args.notebook)
        problems = verify_records(found, Path(args.notebook).resolve().parent)
        for problem in problems:
            print(f"FAIL {problem}")
        if problems:
            print(f"{len(problems)} problem(s): the notebook does not match its clips", file=sys.stderr)
            return 1
        saved = [r for r in found if r.status == "COMPLETED"]
        print(f"ok: {len(saved)} clip(s) present and matching their sha256")
        return 0

    return _reading_notebook(run)


def _replay(args: argparse.Namespace) -> int:
    notebook = Path(args.notebook).resolve()
    try:
        original = api.find_generation(args.id, notebook=notebook)
    except (*NOTEBOOK_ERRORS, LookupError) as error:  # LookupError: no such record in it
        return _notebook_error(error)
    if args.output_dir:
        args.output_dir = str(Path(args.output_dir).resolve())
    # Work where the notebook's kernel did, so the new clip is saved and recorded (path,
    # ledger) as a replay run inside the notebook would be: `records`, `embed` and
    # `verify` of that notebook then find it.
    os.chdir(notebook.parent)
    p = original.params
    try:
        reference = asyncio.run(_replay_reference(args, original, notebook))
    except SoraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if reference.note:
        print(reference.note, file=sys.stderr if not reference.fresh else sys.stdout)
    status = _run_job(
        args,
        p.prompt,
        duration=p.duration,
        size=p.size,
        model=original.model,
        input_reference=reference.url,
        notebook={"path": notebook.name},
        replay_of=original.id,
        derived_from=original.derived_from,
        reference_source=reference.source,
    )
    if status == 0 and not args.output_dir:
        print(f"recorded   in the ledger beside {notebook.name}; `sora-widget embed` adds it to the notebook")
    return status


async def _replay_reference(args: argparse.Namespace, original: Generation, notebook: Path) -> Any:
    """An extended shot's reference: its parent's last frame, extracted again (shots)."""
    from .shots import ReplayReference, replay_reference

    if (original.derived_from or {}).get("how") != "extend":
        p = original.params
        return ReplayReference(p.input_reference, original.reference_source, "", fresh=False)
    async with _client(args) as client:
        return await replay_reference(client, original, notebook=notebook)


def _print_table(rows: list[Generation]) -> None:
    print(f"{'STATUS':<11}{'REQUEST ID':<38}{'SUBMITTED':<26}{'PARAMS':<16}PROMPT / FILE")
    for r in rows:
        said = None if r.status == "UNKNOWN" else (r.error or {}).get("message")
        where = r.video_path or said or r.params.prompt
        print(
            f"{r.status:<11}{(r.request_id or '-'):<38}{(r.submitted_at or '-'):<26}"
            f"{f'{r.params.duration}s {r.params.size}':<16}{where[:60]}"
        )


if __name__ == "__main__":
    sys.exit(main())
