"""`%sora` / `%%sora` and the management magics: one line to a clip, recorded in the cell.

    %load_ext sora_widget
    %sora -d 4 -s landscape a paper boat on a rainy street
    clip = %sora --wait a lighthouse at dusk
    %%sora -d 8
    A slow dolly shot of {subject}, golden hour

In a notebook frontend the job runs in the background (the kernel stays free) and a
compact job view follows it; in headless execution (nbclient, papermill, nbval) and in
the terminal the magic waits, so the record lands in its own cell. Management magics
have names no prompt can be mistaken for: %sora_jobs, %sora_resume, %sora_wait,
%sora_config, %sora_emulator.
"""

from __future__ import annotations

import dataclasses
import shlex
import string
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments
from traitlets import Bool, Enum, Int, Unicode

from . import api, params, shots, terminal
from ._sync import run_blocking
from ._waiting import NOTHING_LEFT
from .environment import cell_context, frontend_has_widgets, is_headless
from .errors import InvalidParams, SoraError
from .options import add_generation_options, given_fields, requested, take_of
from .records import Generation, record_bundle, utcnow


def _generation_parser(prog: str, *, cell: bool) -> MagicArgumentParser:
    """%sora's and %%sora's options: the CLI's generation options, plus how to wait."""
    parser = MagicArgumentParser(prog=prog, add_help=False)
    add_generation_options(parser)
    parser.add_argument(
        "--continue",
        dest="continue_from",
        nargs="?",
        const="",
        default=None,
        metavar="ID",
        help="the next shot: start from the last frame of this kernel's last clip (or of clip ID)",
    )
    parser.add_argument("--wait", dest="wait", action="store_true", default=None, help="wait for the clip")
    parser.add_argument(
        "--no-wait", dest="wait", action="store_false", help="return at once with a job handle"
    )
    if cell:
        parser.add_argument(
            "--raw", action="store_true", help="do not fill {name} placeholders from the namespace"
        )
    else:
        parser.add_argument("prompt", nargs="*", help="what the video shows")
    return parser


def _with_parser(parser: MagicArgumentParser) -> Callable[[Any], Any]:
    """Give a magic its parser and append the parser's help to its docstring (`%sora?`)."""

    def attach(func: Any) -> Any:
        func.parser = parser
        func.__doc__ = f"{func.__doc__ or ''}\n\n{parser.format_help()}"
        return func

    return attach


class Quiet(Generation):
    """A magic's result: its cell already shows the live job view and record output, so
    as the cell's value it prints one line instead of a second record output."""

    @classmethod
    def of(cls, record: Generation) -> Quiet:
        return cls(**{f.name: getattr(record, f.name) for f in dataclasses.fields(record)})

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": repr(self)}


class Job:
    """A running %sora job: `await job`, `job.result()`, `job.record`."""

    def __init__(self, widget: Any, record: Generation) -> None:
        self._widget = widget
        self.record = record

    @property
    def status(self) -> str:
        return self.record.status

    def done(self) -> bool:
        return self.record.id not in self._widget._tasks

    def __await__(self) -> Any:
        return self._widget.wait_for(self.record.id).__await__()

    def result(self) -> Generation:
        """Block until the job ends; its record (errors are in `record.error`)."""
        record: Generation = run_blocking(self._widget.wait_for(self.record.id), explain=self._explain)
        return record

    def _explain(self) -> str:
        if self.record.done:
            return NOTHING_LEFT
        # the widget's own task goes on following the job: only this wait stopped
        return (
            f"Stopped waiting. Job {self.record.id} is still {self.record.status} and this kernel "
            "keeps following it: its job view updates and its record lands in this cell when it ends. "
            "`await job` or %sora_wait waits again; after a restart, sw.resume() collects it."
        )

    def __repr__(self) -> str:
        return f"<sora job {self.record.id}: {self.record.summary()}>"


@magics_class
class SoraMagics(Magics):
    """Configure with `c.SoraMagics.default_duration = 4` and friends."""

    default_duration = Int(params.DEFAULT_DURATION, help="duration when -d is not given").tag(config=True)
    default_size = Unicode(params.DEFAULT_SIZE, help="size when -s is not given").tag(config=True)
    default_model = Enum(list(params.MODELS), params.DEFAULT_MODEL, help="model when -m is not given").tag(
        config=True
    )
    wait = Enum(
        ["auto", "always", "never"],
        "auto",
        help="auto: wait in headless runs and the terminal, run in the background in a notebook frontend",
    ).tag(config=True)
    show_widget = Bool(True, help="show the compact job view in notebook frontends").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.jobs: list[Any] = []  # widgets (or records, in the terminal) of this kernel's jobs
        #: when each job was asked for (by id(job)): a clip reused by a re-run is this
        #: kernel's newest when its cell ran, however long ago it was made
        self._asked_at: dict[int, str] = {}

    def _add_job(self, job: Any) -> None:
        self.jobs.append(job)
        self._asked_at[id(job)] = utcnow()

    # -- generation -------------------------------------------------------------------------

    @line_magic
    @_with_parser(_generation_parser("%sora", cell=False))
    def sora(self, line: str) -> Any:
        """Generate a clip: %sora [-d 4|8|12] [-s WxH] [-r URL|PATH] [--continue [ID]] [--wait|--no-wait]
        [-o PATH] PROMPT…"""
        args = self._parse(self.sora, line)
        words = list(args.prompt)
        parent = None
        if args.continue_from is not None:
            parent, words = self._continued(args.continue_from, words)
        prompt = " ".join(words).strip()
        if not prompt:
            raise UsageError("%sora needs a prompt, e.g. %sora -d 4 a paper boat on a rainy street")
        return self._generate(prompt, args, parent)

    @cell_magic("sora")
    @_with_parser(_generation_parser("%%sora", cell=True))
    def sora_cell(self, line: str, cell: str) -> Any:
        """Generate a clip whose prompt is the cell body; {name} is filled from your variables."""
        args = self._parse(self.sora_cell, line)
        prompt = (
            cell.strip()
            if args.raw
            else fill_placeholders(cell.strip(), self.shell.user_ns if self.shell else {})
        )
        if not prompt:
            raise UsageError("%%sora needs a prompt in the cell body")
        parent = None
        if args.continue_from is not None:
            parent, words = self._continued(args.continue_from, [])
            if words:
                raise UsageError(f"%%sora --continue {words[0]}: no clip of that id here or in the ledger")
        return self._generate(prompt, args, parent)

    def _parse(self, magic: Any, line: str) -> Any:
        """Shell-style quoting, as a terminal user expects: 'a paper boat' is one word
        of the prompt and its quotes go away (IPython's own splitter keeps them)."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"cannot read the options ({exc}); check the quotes") from None
        try:
            return magic.parser.parse_args(words)
        except SystemExit as exc:  # argparse's exit on bad usage
            raise UsageError(str(exc)) from None

    # -- continuing a clip ------------------------------------------------------------------

    def _continued(self, given: str, words: list[str]) -> tuple[Generation, list[str]]:
        """The clip `%sora --continue [ID]` continues, and the prompt's words. A word after
        --continue that names no clip is the prompt's first word."""
        if given:
            found = self._clip_named(given)
            if found is not None:
                return found, words
            words = [given, *words]
        last = self._last_clip()
        if last is None:
            raise UsageError(
                "%sora --continue: this kernel has no finished clip to continue yet; make one first, "
                "or name one: %sora --continue ID PROMPT"
            )
        return last, words

    def _clip_named(self, key: str) -> Generation | None:
        for record in reversed([g for job in self.jobs for g in _records_of(job)]):
            if key in (record.id, record.request_id):
                return record
        try:
            return api.find_generation(key)
        except LookupError:
            return None

    def _last_clip(self) -> Generation | None:
        """This kernel's newest finished clip: of its %sora jobs, or any it saved (a
        widget, sw.generate, a storyboard), as the ledger knows. A %sora job's clip counts
        from when it finished or when its cell asked for it, whichever is later — so a
        re-run notebook continues the clip its previous cell just reused, as the first
        run did, and asks for the same next shot."""
        known: list[tuple[str, Generation]] = [
            (max(g.completed_at or "", self._asked_at.get(id(job), "")), g)
            for job in self.jobs
            for g in _records_of(job)
            if g.status == "COMPLETED" and g.video_path and g.kind != "film"
        ]
        logged = api.ledger().last_clip()
        if logged is not None:
            known.append((logged.completed_at or "", logged))
        return max(known, key=lambda pair: pair[0], default=(None, None))[1]

    def _preferred(self) -> dict[str, Any]:
        """The magics' configured defaults, applied where the model takes them."""
        return {"model": self.default_model, "duration": self.default_duration, "size": self.default_size}

    def _generate(self, prompt: str, args: Any, parent: Generation | None = None) -> Any:
        frame = None
        try:
            if parent is None:
                request = requested(args, prompt, preferred=self._preferred())
            else:
                if args.reference:
                    raise UsageError("%sora --continue starts from the clip's last frame: leave out -r")
                # the next shot keeps its parent's model and values unless told; its request
                # names the parent's last frame (by its bytes)
                frame = run_blocking(shots.read_frame(parent, output_dir=api.settings()["output_dir"]))
                request = shots.next_shot(parent, prompt, frame, **given_fields(args))
        except SoraError as error:
            raise UsageError(str(error)) from None
        take = take_of(args)
        wait = self._should_wait(args.wait)
        if not frontend_has_widgets():
            return self._generate_in_text(request, take, args.out, parent, frame)
        from .widget import SoraWidget

        view = SoraWidget(mode="job", model=request.model)
        try:
            earlier = None if args.new else self._earlier(view, request, frame)
            if earlier is not None and earlier.kind == "done":
                # the notebook already has this clip: shown, not made again (0 requests)
                view.close()
                print(f"sora-widget: {earlier.record.note}")
                self._add_job(earlier.record)
                from IPython.display import display

                display(record_bundle([earlier.record]), raw=True)
                return Quiet.of(earlier.record)
            if earlier is not None and earlier.kind == "attach":
                print(f"sora-widget: {earlier.record.note}")
                record = view.follow(earlier.record)
            elif parent is not None and frame is not None:
                record = run_blocking(
                    view.continue_from(
                        parent,
                        request.prompt,
                        save_to=args.out,
                        frame=frame,
                        take=take if args.new else 1,
                        **given_fields(args),
                    )
                )
            else:
                record = view.start(request=request, save_to=args.out, take=take if args.new else 1)
        except SoraError as error:
            raise UsageError(str(error)) from None
        self._add_job(view)
        job = Job(view, record)
        if wait and is_headless():
            # Nobody watches a headless run: show the job once, finished, so the saved
            # notebook holds its final record without relying on display updates
            # (which some runners, nbval among them, do not apply).
            result = job.result()
            if self.show_widget:
                view._ipython_display_()
            return Quiet.of(result)
        if self.show_widget:
            view._ipython_display_()
        if not wait:
            return job
        return Quiet.of(job.result())

    def _earlier(self, view: Any, request: params.Request, frame: Any = None) -> Any:
        """What the ledger knows of this request: a saved clip or a running job that
        answers it (`Reuse`, its record's `note` saying which), else None (made anew; a
        note says when an earlier clip is unusable). An attempt of unknown outcome raises
        `SubmitOutcomeUnknown`: it is never resubmitted blindly. `frame`: a continuation's
        first frame (`shots.Frame`), named by its bytes."""
        client = view.client
        probe = client.prepare(
            request, check_budget=False, reference_digest=frame.digest if frame is not None else None
        )
        found = run_blocking(client.earlier(probe))
        if found is None and probe.note:
            print(f"sora-widget: {probe.note}")
        return found

    def _generate_in_text(
        self,
        request: params.Request,
        take: Any,
        out: str | None,
        parent: Generation | None = None,
        frame: Any = None,
    ) -> Generation:
        """The terminal: a progress line, then the record as text."""
        from IPython.display import display

        context: dict[str, Any] = {}
        if parent is not None and frame is not None:
            continued = self._continuation(parent, request, frame, take)
            if isinstance(continued, Generation):  # this very shot is saved already
                print(f"sora-widget: {continued.note}")
                self._add_job(continued)
                display(record_bundle([continued]), raw=True)
                return continued
            request, context = continued
        try:
            record = terminal.run_job(
                api.client,
                request,
                timeout=params.DEFAULT_TIMEOUT_S,
                save_to=out,
                take=take,
                notebook=cell_context(),
                **context,
            )
        except SoraError as error:
            if not isinstance(error.record, Generation):
                raise UsageError(str(error)) from None
            record = error.record
            print(f"sora: {error}")
        self._add_job(record)
        display(record_bundle([record]), raw=True)
        return record

    def _continuation(
        self, parent: Generation, shot: params.Request, frame: Any, take: Any
    ) -> tuple[params.Request, dict[str, Any]] | Generation:
        """What the next shot's submit carries: the parent's last frame, uploaded — or, when
        this very shot was made before (a re-run), its saved record, with nothing sent."""

        async def upload() -> tuple[params.Request, dict[str, Any]] | Generation:
            async with api.client() as client:
                client.prepare(shot, check_budget=False)  # refused first
                if take != "next":
                    done = await shots.made_already(client, shot, frame, take=take)
                    if done is not None:
                        return done
                url = await shots.upload_frame(client, frame)
                return dataclasses.replace(shot, input_reference=url), {
                    "reference_digest": frame.digest,
                    "derived_from": {"id": parent.id, "how": shots.EXTEND},
                    "reference_source": frame.source,
                }

        try:
            return run_blocking(upload())
        except SoraError as error:
            raise UsageError(str(error)) from None

    def _should_wait(self, flag: bool | None) -> bool:
        if flag is not None:
            return flag
        if self.wait != "auto":
            return self.wait == "always"
        return is_headless() or not frontend_has_widgets()

    # -- management -------------------------------------------------------------------------

    @line_magic
    def sora_jobs(self, line: str = "") -> None:
        """This kernel's jobs, then what the ledger knows."""
        from IPython.display import display

        mine = [g for job in self.jobs for g in _records_of(job)]
        ledger = api.ledger()
        print(f"{len(mine)} job(s) started in this kernel; ledger {ledger.path}")
        display(record_bundle(mine or ledger.recent(20)), raw=True)
        listed = ledger.pending()
        waiting = [r for r in listed if r.request_id]
        unknown = [r for r in listed if not r.request_id]
        if waiting:
            print(f"{len(waiting)} pending in the ledger: %sora_resume finishes them")
        for record in unknown:
            print(
                f"UNKNOWN — may be running and billed: {record.id} submitted {record.submitted_at} "
                f"({record.params.duration}s {record.params.shape}, {record.params.prompt[:60]!r}); "
                "%sora_resume asks the request history again"
            )

    @magic_arguments()
    @argument("request_id", nargs="?", help="omit to finish every pending job in the ledger")
    @line_magic
    def sora_resume(self, line: str = "") -> Any:
        """Finish a submitted job by request id, or every pending one, and save the clips."""
        from IPython.display import display

        args = self._parse(self.sora_resume, line)
        try:
            done = api.resume(args.request_id)
        except SoraError as error:
            raise UsageError(str(error)) from None
        finished = done if isinstance(done, list) else [done]
        if not finished:
            print("nothing to resume: no pending jobs in the ledger")
            return None
        display(record_bundle(finished), raw=True)
        return done

    @line_magic
    def sora_wait(self, line: str = "") -> list[Generation]:
        """Wait until every job started in this kernel has ended."""
        widgets = [job for job in self.jobs if hasattr(job, "wait_for")]

        async def wait_all() -> list[Generation]:
            results = []
            for widget in widgets:
                for record in widget.generations:
                    results.append(await widget.wait_for(record.id))
            return results

        return run_blocking(
            wait_all(),
            explain=lambda: (
                "Stopped waiting. The jobs keep running, and this kernel keeps following "
                "them (their views update); %sora_wait waits again."
            ),
        )

    @line_magic
    def sora_config(self, line: str = "") -> dict[str, Any]:
        """Where generations go (the key only as set / not set) and the magics' defaults."""
        current = api.settings()
        current.update(
            default_duration=self.default_duration,
            default_size=self.default_size,
            default_model=self.default_model,
            wait=self.wait,
        )
        try:
            guess = api.estimate(
                model=self.default_model, duration=self.default_duration, size=self.default_size
            )
            current["estimate"] = f"{guess} ({guess.basis})"
        except InvalidParams as error:
            current["estimate"] = f"none: {error.message}"
        current["spend"] = str(api.spend())
        for name, value in current.items():
            print(f"{name:<17} {value}")
        return current

    @magic_arguments()
    @argument("--latency", type=float, help="seconds a job spends PROCESSING (default 5)")
    @argument("--block-word", action="append", default=None, help="prompts containing it FAIL")
    @line_magic
    def sora_emulator(self, line: str = "") -> Any:
        """Start the local emulator for this kernel: offline, free, synthetic clips."""
        args = self._parse(self.sora_emulator, line)
        config: dict[str, Any] = {}
        if args.latency is not None:
            config["latency"] = args.latency
        if args.block_word:
            config["block_words"] = tuple(args.block_word)
        try:
            handle = api.use_emulator(**config)
        except ImportError as error:
            raise UsageError(str(error)) from None
        print(f"local emulator at {handle.base_url}: clips are synthetic")
        return None


def fill_placeholders(template: str, namespace: dict[str, Any]) -> str:
    """`{name}` → the variable's value; `{{` and `}}` for literal braces."""
    try:
        return string.Formatter().vformat(template, (), _Namespace(namespace))
    except KeyError as exc:
        raise UsageError(
            f"%%sora: {{{exc.args[0]}}} is not a variable in this notebook; define it, write "
            "{{ and }} for literal braces, or use --raw"
        ) from None
    except (ValueError, IndexError, AttributeError) as exc:
        raise UsageError(f"%%sora: the prompt's placeholders cannot be filled ({exc}); try --raw") from None


class _Namespace(dict[str, Any]):
    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__()
        self._namespace = namespace

    def __getitem__(self, key: str) -> Any:
        return self._namespace[key]


def _records_of(job: Any) -> list[Generation]:
    return list(job.generations) if hasattr(job, "generations") else [job]


def load(shell: Any) -> None:
    shell.register_magics(SoraMagics)


def unload(shell: Any) -> None:
    magics = shell.magics_manager.registry.get("SoraMagics")
    if magics is None:
        return
    for kind in ("line", "cell"):
        table = shell.magics_manager.magics[kind]
        for name in [n for n, fn in table.items() if getattr(fn, "__self__", None) is magics]:
            del table[name]
    shell.magics_manager.registry.pop("SoraMagics", None)
