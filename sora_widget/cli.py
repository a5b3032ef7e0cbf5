"""`sora-widget` command line: generate · resume · pending · history · records · embed ·
verify · replay · emulator.

Exit status: 0 done, 1 the API or the job failed (or `verify` found a clip missing or
changed), 2 bad usage or unusable input (an unreadable notebook, a record that does not
match the schema: it is skipped and named), 130 interrupted (the job keeps running on
the server and stays resumable).

Whatever came from a file or a server is printed through `terminal_safe`: a notebook
cannot drive the terminal with escape sequences.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import api, terminal
from ._sync import WaitInterrupted
from ._text import terminal_safe
from ._waiting import Watch
from .checks import checked_replay_reference
from .client import AsyncSoraClient
from .cost import estimate_request
from .errors import InvalidParams, SoraError
from .options import add_generation_options, requested, take_of
from .params import DEFAULT_TIMEOUT_S, Request, reference_kind
from .records import Generation

#: the notebook a command reads
_NOTEBOOK_HELP = "a saved .ipynb, or a marimo notebook (.py: its records are in the ledger beside it)"


def build_parser() -> argparse.ArgumentParser:
    from .emulator import cli as emulator_cli

    parser = argparse.ArgumentParser(
        prog="sora-widget",
        description="Video on Segmind (Sora 2, Veo 3.1, Kling, Hailuo, Seedance) from the terminal.",
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

    history = commands.add_parser(
        "history", help="the account's requests, as Segmind's request history lists them"
    )
    history.add_argument("--days", type=int, default=7, help="how many days back, 1 to 31 (default 7)")
    history.add_argument("--model", help="only the requests of models whose name contains this")
    history.add_argument(
        "--import",
        dest="import_id",
        metavar="REQUEST_ID",
        help="write this request into the ledger (then `sora-widget resume REQUEST_ID` saves its clip)",
    )
    _add_backend_options(history)
    history.set_defaults(run=_history)

    records = commands.add_parser("records", help="list the generations a notebook records")
    records.add_argument("notebook", help=_NOTEBOOK_HELP)
    records.add_argument("--json", action="store_true", help="the full records as JSON, one list")
    records.set_defaults(run=_records)

    embed = commands.add_parser(
        "embed", help="write every record into a notebook's metadata (for notebooks run headless)"
    )
    embed.add_argument("notebook", help="a saved .ipynb (rewritten in place; idempotent)")
    embed.set_defaults(run=_embed)

    verify = commands.add_parser("verify", help="check every recorded clip exists and matches its sha256")
    verify.add_argument("notebook", help=_NOTEBOOK_HELP)
    verify.set_defaults(run=_verify)

    replay = commands.add_parser("replay", help="generate a recorded clip again with identical parameters")
    replay.add_argument("notebook", help="the .ipynb (or marimo .py) that records it")
    replay.add_argument("id", help="the record's id or request id (see `sora-widget records NB`)")
    _add_timeout(replay)
    _add_backend_options(replay)
    replay.set_defaults(run=_replay)

    export = commands.add_parser(
        "export", help="one self-contained HTML page of a notebook's generations (posters, clips, facts)"
    )
    export.add_argument("notebook", help=_NOTEBOOK_HELP)
    export.add_argument("-o", "--out", required=True, metavar="PAGE.html", help="where to write the page")
    export.add_argument(
        "--max-mb",
        type=float,
        default=50.0,
        help="embed clips while the page stays under this size; link the rest (default 50)",
    )
    export.set_defaults(run=_export)

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


def seconds(text: str) -> float:
    """A --timeout: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds above 0")
    return value


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=seconds,
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


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    """What the command line says of the client (`--emulator` starts the embedded one)."""
    if args.emulator:
        api.use_emulator()
    options: dict[str, Any] = {}
    if args.output_dir:
        options["output_dir"] = args.output_dir
    if args.base_url:
        options["base_url"] = args.base_url
    return options


def _client(args: argparse.Namespace) -> AsyncSoraClient:
    return api.client(**_client_options(args))


def _generate(args: argparse.Namespace) -> int:
    try:
        request = requested(args, " ".join(args.prompt))
    except SoraError as error:  # a value the model does not take: a usage error
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 2
    return _run_job(args, request, save_to=args.out, take=take_of(args))


def _run_job(
    args: argparse.Namespace,
    request: Request,
    *,
    save_to: str | None = None,
    reuse: bool = True,
    **context: Any,
) -> int:
    """Submit, wait with a progress line, save, and print what was saved (exit status)."""
    watch = Watch()
    guess = estimate_request(request, prices=api.prices())
    print(f"estimate   {guess} ({guess.basis})", file=sys.stderr)
    try:
        record = terminal.run_job(
            lambda: _client(args),
            request,
            timeout=args.timeout,
            save_to=save_to,
            watch=watch,
            reuse=reuse,
            **context,
        )
    except WaitInterrupted:
        return _interrupted(next(iter(watch.records.values()), None))
    except SoraError as error:
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 1
    if record.note:
        print(f"note       {record.note}")
    if record.replay_of:
        print(f"replay of  {terminal_safe(record.replay_of)}")
    print(f"saved      {terminal_safe(record.video_path)}")
    print(f"request id {terminal_safe(record.request_id)}")
    print(f"sha256     {record.sha256}")
    if record.cost is not None:
        said = {"segmind": "charged, from Segmind's request history", "api": "the API's figure"}.get(
            record.cost["source"], "estimated"
        )
        print(f"cost       ${record.cost['usd']:.2f} ({said})")
    print(f"spend      {api.spend()}")
    if record.synthetic:
        print("note       synthetic clip rendered by the local emulator, not by the model on Segmind")
    return 0


def _interrupted(record: Generation | None) -> int:
    if record is not None and record.request_id:
        print(
            f"Stopped waiting. The job is still running and billed on the server.\n"
            f"Resume it within the hour with: sora-widget resume {terminal_safe(record.request_id)}",
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
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 1
    if not finished:
        print("nothing to resume: no pending jobs in the ledger")
        return 0
    _print_table(finished)
    return 0 if all(r.status == "COMPLETED" and r.video_path for r in finished) else 1


def _pending(args: argparse.Namespace) -> int:
    try:
        listed = api.ledger(args.output_dir, read_only=True).pending()
    except SoraError as error:  # a ledger that cannot be opened (a planted symlink, a read-only folder)
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 2
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
            "UNKNOWN — may be running and billed (the submit's answer was never heard, and the "
            "request history could not yet say); `sora-widget resume` asks it again:"
        )
        _print_table(unknown)
    return 0


def _history(args: argparse.Namespace) -> int:
    """The account's requests (each marked when the ledger holds it), or one imported."""
    options = _client_options(args)
    try:
        if args.import_id:
            record = asyncio.run(api.aimport_request(args.import_id, **options))
            print(f"in the ledger as {terminal_safe(record.id)}: {terminal_safe(record.summary())}")
            return 0
        listed = asyncio.run(api.ahistory(args.days, args.model, **options))
    except KeyboardInterrupt:
        return 130
    except SoraError as error:
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 2 if isinstance(error, InvalidParams) else 1
    print(repr(listed))  # every cell from the server is made safe to print (HistoryEntry.cells)
    return 0


def _export(args: argparse.Namespace) -> int:
    def run() -> int:
        from .report import export

        page = export(args.notebook, args.out, max_mb=args.max_mb)
        print(f"{page} written ({page.stat().st_size / 1_000_000:.1f} MB)")
        return 0

    try:
        return _reading_notebook(run)
    except SoraError as error:  # a bad --max-mb
        print(f"error: {error}", file=sys.stderr)
        return 2


def _ledger(args: argparse.Namespace) -> int:
    book = api.ledger(args.output_dir, read_only=True)
    try:
        if args.action == "stats":
            stats = book.stats()
            print(f"ledger      {terminal_safe(stats['path'])} ({stats['bytes']} bytes)")
            print(f"generations {stats['generations']}")
            for status, count in sorted(stats["by_status"].items()):
                print(f"  {terminal_safe(status):<10} {count}")
            print(f"events      {stats['events']}")
            print(f"references  {stats['references']} (data-URI images, each stored once)")
            oldest, newest = (terminal_safe(stats[k] or "-") for k in ("oldest", "newest"))
            print(f"submitted   {oldest} … {newest}")
            return 0
        if args.out:
            with open(args.out, "x", encoding="utf-8") as out:
                count = book.export(out)
            print(f"{count} generation(s) written to {args.out}", file=sys.stderr)
        else:
            book.export(sys.stdout)
        return 0
    except FileExistsError:
        print(f"error: {terminal_safe(args.out)} exists; choose a new file name", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot write {terminal_safe(args.out)} ({error.strerror or error})", file=sys.stderr)
        return 2
    except SoraError as error:
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 2


#: what reading a notebook can raise (missing, unreadable, refused, not JSON, not a
#: notebook, a ledger beside it that cannot be used)
NOTEBOOK_ERRORS = (OSError, ValueError, SoraError)


def _reading_notebook(action: Callable[[], int]) -> int:
    """Run a notebook command; a missing or unreadable notebook is a usage error (2)."""
    try:
        return action()
    except NOTEBOOK_ERRORS as error:
        return _notebook_error(error)


def _notebook_error(error: Exception) -> int:
    if isinstance(error, FileNotFoundError):
        print(f"error: no such notebook: {terminal_safe(error.filename)}", file=sys.stderr)
    elif isinstance(error, SoraError):
        print(f"error: {_safe_error(error)}", file=sys.stderr)
    else:
        print(f"error: {terminal_safe(error)}", file=sys.stderr)
    return 2


def _safe_error(error: SoraError) -> str:
    """An error's text (its message can hold a server's words) fit for a terminal."""
    return terminal_safe(error, keep_newlines=True)


def _report(problems: Sequence[object]) -> None:
    """Records skipped (and other unusable parts of a notebook), one line each."""
    for problem in problems:
        print(f"skipped: {terminal_safe(problem)}", file=sys.stderr)
    if problems:
        print(
            f"{len(problems)} part(s) of the notebook could not be used (they do not match the "
            "record schema, or cannot be read)",
            file=sys.stderr,
        )


def _records(args: argparse.Namespace) -> int:
    def run() -> int:
        from .notebook import scan

        read = scan(args.notebook)
        found = read.records
        if args.json:
            print(json.dumps([{**r.to_dict(), "sources": r.sources} for r in found], indent=1))
        elif not found:
            print(f"{terminal_safe(args.notebook)} records no generations")
        else:
            print(
                f"{'ID':<14}{'STATUS':<11}{'PARAMS':<16}{'SOUND':<9}{'REQUEST ID':<38}{'FOUND IN':<24}"
                f"{'PROMPT':<42}FILE / ERROR"
            )
            for r in found:
                prompt = r.params.prompt if len(r.params.prompt) <= 40 else r.params.prompt[:39] + "…"
                outcome = r.video_path or (r.error or {}).get("message") or "-"
                if r.replay_of:
                    outcome += f" (replay of {r.replay_of})"
                outcome += lineage_note(r)
                print(
                    f"{terminal_safe(r.id):<14}{r.status:<11}{f'{r.params.duration}s {r.params.shape}':<16}"
                    f"{terminal_safe(sound_note(r)):<9}{terminal_safe(r.request_id or '-'):<38}"
                    f"{','.join(r.sources):<24}{terminal_safe(prompt):<42}{terminal_safe(outcome)}"
                )
        _report(read.problems)
        return 2 if read.problems else 0

    return _reading_notebook(run)


def sound_note(record: Generation) -> str:
    """The clip's sound for the records table: "aac 2ch", "silent", or "-" when the
    record does not say (no file read, or written before records told)."""
    facts = record.video if isinstance(record.video, dict) else {}
    if "audio" not in facts:
        return "-"
    audio = facts["audio"]
    if not isinstance(audio, dict):
        return "silent"
    return f"{str(audio.get('codec') or '?')[:5]} {audio.get('channels') or '?'}ch"


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
        from .notebook import embed_records

        done = embed_records(args.notebook)
        print(f"{terminal_safe(args.notebook)}: {len(done.records)} generation record(s) in its metadata")
        _report(done.problems)
        return 2 if done.problems else 0

    return _reading_notebook(run)


def _verify(args: argparse.Namespace) -> int:
    def run() -> int:
        from .notebook import clip_roots, notebook_folder, scan, verify_records

        read = scan(args.notebook)
        found = read.records
        problems = verify_records(found, notebook_folder(args.notebook), roots=clip_roots(args.notebook))
        for problem in problems:
            print(f"FAIL {terminal_safe(problem)}")
        _report(read.problems)
        if problems:
            print(f"{len(problems)} problem(s): the notebook does not match its clips", file=sys.stderr)
            return 1
        saved = [r for r in found if r.status == "COMPLETED"]
        print(f"ok: {len(saved)} clip(s) present and matching their sha256")
        return 2 if read.problems else 0

    return _reading_notebook(run)


def _replay(args: argparse.Namespace) -> int:
    notebook = Path(args.notebook).absolute()
    try:
        original = _find(notebook, args.id)
    except (*NOTEBOOK_ERRORS, LookupError) as error:  # LookupError: no such record in it
        return _notebook_error(error)
    p = original.params
    if (original.derived_from or {}).get("how") == "extend":
        try:
            extended = asyncio.run(_replay_reference(args, original, notebook))
        except SoraError as error:
            print(f"error: {terminal_safe(str(error))}", file=sys.stderr)
            return 1
        if extended.note:
            print(terminal_safe(extended.note), file=sys.stdout if extended.fresh else sys.stderr)
        reference, source = extended.url, extended.source
    else:
        reference, source = p.input_reference, original.reference_source
        if reference is not None and reference_kind(reference) == "path":
            # A record names a file on the machine that made it; here it would name one of
            # ours. Never upload it on a record's say-so.
            reference = _local_reference(reference, notebook)
            if reference is None:
                return 2
    # The new clip and its ledger entry go to the user's output dir (--output-dir,
    # $SORA_WIDGET_OUTPUT_DIR or ./sora-outputs), never into the folder the notebook came in.
    try:
        last = checked_replay_reference(p.last_frame, field="last_frame")
    except SoraError as error:
        print(f"error: {_safe_error(error)}", file=sys.stderr)
        return 2
    status = _run_job(
        args,
        p.derive(input_reference=reference, last_frame=last),
        reuse=False,  # a replay makes the clip again
        notebook={"path": notebook.name},
        replay_of=original.id,
        derived_from=original.derived_from,
        reference_source=source,
    )
    if status == 0:
        where = api.ledger(args.output_dir).path
        print(f"recorded   in the ledger {terminal_safe(where)}")
    return status


def _find(notebook: Path, key: str) -> Generation:
    """The record of `notebook` with this id or request id (the skipped ones reported)."""
    from .notebook import scan

    read = scan(notebook)
    _report(read.problems)
    key = key.strip()
    for record in read.records:
        if key in (record.id, record.request_id):
            return record
    raise LookupError(f"no generation {key!r} in the notebook {notebook} (`sora-widget records` lists them)")


def _local_reference(reference: str, notebook: Path) -> str | None:
    """What to send for a record's local reference file: with a person at the terminal,
    the file (inside the notebook's folder) once they say yes; else None (refused)."""
    shown = terminal_safe(reference)
    from ._files import contained

    inside = contained(notebook.parent / reference, [notebook.parent])
    refusal = (
        f"error: the record's reference image is a local file ({shown}); replay never uploads a "
        "local file named by a record. Replay it from Python with the image you mean: "
        "sw.replay(ID, notebook=NB, input_reference=PATH_OR_URL)"
    )
    if inside is None or not sys.stdin.isatty():
        print(refusal, file=sys.stderr)
        return None
    answer = input(f"The record asks to upload {inside} as the reference image. Upload it? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        print(refusal, file=sys.stderr)
        return None
    return str(inside)


async def _replay_reference(args: argparse.Namespace, original: Generation, notebook: Path) -> Any:
    """An extended shot's reference: its parent's last frame, extracted again (shots)."""
    from .shots import replay_reference

    async with _client(args) as client:
        return await replay_reference(client, original, notebook=notebook)


def _print_table(rows: list[Generation]) -> None:
    print(f"{'STATUS':<11}{'REQUEST ID':<38}{'SUBMITTED':<26}{'PARAMS':<16}PROMPT / FILE")
    for r in rows:
        said = None if r.status == "UNKNOWN" else (r.error or {}).get("message")
        where = r.video_path or said or r.params.prompt
        print(
            f"{r.status:<11}{terminal_safe(r.request_id or '-'):<38}{(r.submitted_at or '-'):<26}"
            f"{f'{r.params.duration}s {r.params.shape}':<16}{terminal_safe(where[:60])}"
        )


if __name__ == "__main__":
    sys.exit(main())
