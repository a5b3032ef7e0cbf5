"""Storyboard: a list of shot prompts made in order, each continuing the previous one
from its last frame, then stitched into one film.

    board = sw.Storyboard(shots=["a red kite rising over the dunes",
                                 "the kite dives toward the sea",
                                 "the kite skims the waves at sunset"],
                          duration=4, size="landscape")
    board                    # the shots (editable, reorderable), Generate film, a poster strip
    film = board.run()       # or press Generate film; returns the film's path

The view (js/src/storyboard/, the "storyboard" mode of the widget's view) edits and
reorders the prompts in the `shots` trait, asks for a run (`run_storyboard`), shows each
shot's status and poster as it comes, and plays the film. The run is a task on the
kernel's loop like every widget job; its records — every shot and the film — land in
the record output beneath the widget, the ledger and the notebook's metadata.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

import traitlets

from . import params, protocol
from ._sync import run_blocking
from ._waiting import explain_stopped
from .client import AsyncSoraClient
from .environment import cell_context, frontend_has_widgets, is_headless
from .errors import InvalidParams, SoraError
from .records import Generation
from .shots import EXTEND, FilmPath, earlier_shot, make_film, next_shot, read_frame, upload_frame
from .views import ClipView, handles, unexpected

log = logging.getLogger(__name__)

#: how long a storyboard's shots are unless told (a storyboard is many short shots)
DEFAULT_SHOT_DURATION = 4

_RUN = "run"


class Storyboard(ClipView):
    """Shots made in order — each continuing the previous one from its last frame — and
    stitched into one film that the widget plays.

    >>> board = sw.Storyboard(shots=["a red kite rising…", "the kite dives…"], duration=4)
    >>> board                 # edit, reorder, press Generate film
    >>> film = board.run()    # the same from code (blocks); film.record is the film's record
    """

    mode = traitlets.Unicode("storyboard", help='always "storyboard"').tag(sync=True)
    shots = traitlets.List(
        traitlets.Unicode(), help="the shots' prompts, in order (two-way: edited and reordered in the view)"
    ).tag(sync=True)
    duration = traitlets.Int(DEFAULT_SHOT_DURATION, help="seconds of each shot").tag(sync=True)
    size = traitlets.Unicode(
        params.DEFAULT_SIZE, help='"WxH" of every shot (a film has one size); empty: the first frame\'s'
    ).tag(sync=True)
    model = traitlets.Unicode(params.DEFAULT_MODEL, help="the model of every shot").tag(sync=True)
    values = traitlets.Dict(
        help="the model's other fields for every shot (aspect_ratio, resolution, sound, seed, its own "
        "options; input_reference: the first shot's first frame)"
    ).tag(sync=True)
    board = traitlets.Dict(help="protocol.BoardProgress: where the run stands").tag(sync=True)

    def __init__(
        self,
        shots: Sequence[str] = (),
        duration: int | str | None = None,
        size: str | None = None,
        model: str = params.DEFAULT_MODEL,
        *,
        client: AsyncSoraClient | None = None,
        save_to: str | Path | None = None,
        crossfade: float = 0.0,
        **fields: Any,
    ) -> None:
        """`shots`: the prompts, in order. `duration` and `size` of every shot (4 s and
        landscape where the model offers them, else its defaults); `fields`: the model's
        other values for every shot (`first_frame`: the first shot's — an image-to-video
        model needs one). `save_to`: where the film goes (a .mp4 path or a folder; the
        output dir by default). `crossfade`: seconds of each cut's dissolve, pictures and
        sound (the film is then re-encoded)."""
        if isinstance(shots, str):
            raise InvalidParams("shots", shots, "a list of prompts, one per shot")
        if crossfade < 0:
            raise InvalidParams("crossfade", crossfade, "seconds ≥ 0")
        given = {k: v for k, v in {"duration": duration, "size": size, **fields}.items() if v is not None}
        draft = params.validate_draft(
            preferred={"duration": DEFAULT_SHOT_DURATION, "size": "landscape"}, model=model, **given
        )
        values = {k: v for k, v in draft.values().items() if k not in ("duration", "size", "first_frame")}
        if draft.input_reference:
            values["input_reference"] = draft.input_reference
        super().__init__(
            shots=[str(s) for s in shots],
            duration=draft.duration,
            size=draft.size or "",
            model=draft.model,
            values=values,
        )
        self._client = client
        self._save_to = save_to
        self._crossfade = crossfade
        self._context = cell_context()
        self._film: FilmPath | None = None
        self._made: list[Generation] = []
        self._current: str | None = None
        self.board = dict(protocol.board_progress())

    def request(self, prompt: str, *, first: bool = True) -> params.Request:
        """The request of a shot with this prompt (the first shot's; a later one's starts from
        the previous shot's last frame instead, so it may lack its own first frame here)."""
        given: dict[str, Any] = {"model": self.model, "duration": self.duration, **self.values}
        if self.size and params.MODELS[self.model].has("size"):
            given["size"] = self.size
        if not first:
            given.pop("input_reference", None)
            return params.validate_draft(prompt, **given)
        return params.validate(prompt, **given)

    PLAIN_TEXT = "Storyboard: shots made in order and stitched into a film, each recorded in the output below"

    def __repr__(self) -> str:
        # what it is now, for code; a notebook saves `PLAIN_TEXT` (see ClipView)
        return (
            f"Storyboard(shots={len(self.shots)}, duration={self.duration}, size={self.size!r}, "
            f"model={self.model!r}, generations={len(self._records)})"
        )

    @property
    def running(self) -> bool:
        return _RUN in self._tasks or bool(self.board.get("running"))

    @property
    def film(self) -> FilmPath | None:
        """The latest film's path (`.record` is its record), or None before one is made."""
        return self._film

    @property
    def clips(self) -> list[Generation]:
        """The shots of the latest run, in order (as far as it got)."""
        return list(self._made)

    # -- running ------------------------------------------------------------------------------

    def start(self, shots: Sequence[str] | None = None, *, reuse: bool = False) -> None:
        """Start a run on the kernel's loop and return at once, as Generate film does
        (`shots` replace the prompts first): new takes of every shot, unless `reuse`.
        Its progress is in the view and `board`."""
        prompts = self._prompts(shots)
        self._spawn(_RUN, self._run_reporting(prompts, reuse))

    async def arun(self, shots: Sequence[str] | None = None, *, reuse: bool = True) -> FilmPath:
        """Make every shot in order, each continuing the previous one, then the film.
        Returns the film's path; a shot that fails stops the run (raised, and shown).

        `reuse` (as `sw.generate`): a shot already made for the same request — its prompt,
        the same previous shot's last frame, duration, size, model — is taken as it is
        (nothing sent, nothing billed), so a re-run notebook pays for no shot twice;
        `reuse=False` makes new takes of them all."""
        return await self._run(self._prompts(shots), reuse)

    def run(self, shots: Sequence[str] | None = None, *, reuse: bool = True) -> FilmPath:
        """`arun`, blocking (other jobs on the kernel's loop keep running meanwhile).

        In a notebook the board is shown first (if it is not yet) and follows the run;
        executed headless, it is shown once, finished, so the saved notebook holds its
        final records."""
        prompts = self._prompts(shots)
        show = frontend_has_widgets() and not self._record_shown
        headless = show and is_headless()
        if show and not headless:
            self._ipython_display_()
        try:
            return run_blocking(self._run(prompts, reuse), explain=self._explain)
        finally:
            if headless:
                self._ipython_display_()

    def _prompts(self, given: Sequence[str] | None) -> list[str]:
        if isinstance(given, str):
            raise InvalidParams("shots", given, "a list of prompts, one per shot")
        prompts = [str(p).strip() for p in (self.shots if given is None else given)]
        if not prompts:
            raise InvalidParams("shots", [], "at least one prompt")
        for index, prompt in enumerate(prompts):
            if not prompt:
                raise InvalidParams(f"shots[{index}]", prompt, "a non-empty prompt")
        if self.running:
            raise InvalidParams("storyboard", "running", "one run at a time: wait for this one to end")
        if given is not None:
            self.shots = prompts
        return prompts

    async def _run_reporting(self, prompts: list[str], reuse: bool) -> None:
        """A run started by the button: its outcome is in the board and the records."""
        try:
            await self._run(prompts, reuse)
        except SoraError:
            pass  # shown in the board (and the failed shot's card)
        except Exception:
            log.exception("sora-widget storyboard run failed")

    async def _run(self, prompts: list[str], reuse: bool) -> FilmPath:
        client = self.client
        ids: list[str | None] = [None] * len(prompts)
        self._made = []
        self._board(running=True, current=0, shots=ids)
        try:
            # every shot is checked, and the whole run held against the budget, before any is sent
            first = client.prepare(self.request(prompts[0]))
            for prompt in prompts[1:]:
                self.request(prompt, first=False)
            per_shot = (first.cost or {}).get("usd", 0.0)
            count = len(prompts)
            client.budget.check(per_shot * count, what=f"these {count} shots", jobs=count)
            previous: Generation | None = None
            for index, prompt in enumerate(prompts):
                self._board(running=True, current=index, shots=ids)
                record, made = await self._shot(client, prompt, previous, reuse)
                ids[index] = record.id
                self._records[record.id] = record
                self._current = record.id
                self._board(running=True, current=index, shots=ids)
                if made is not None:
                    record = self._records[record.id] = await made
                else:
                    await client.submit_prepared(record, on_update=self._on_update)
                    await client.wait(record, on_update=self._on_update)
                self._made.append(record)
                previous = record
            self._current = None
            self._board(running=True, current=None, shots=ids)  # stitching
            film = await make_film(
                client, self._made, self._save_to, crossfade=self._crossfade, context=self._notebook_context()
            )
        except asyncio.CancelledError:
            self._board(running=False, current=None, shots=ids)
            raise
        except SoraError as error:
            self._board(running=False, current=None, shots=ids, error=error)
            raise
        except Exception as error:
            log.exception("sora-widget storyboard run failed")
            self._board(running=False, current=None, shots=ids, error=unexpected(error))
            raise
        finally:
            self._current = None
        assert film.record is not None
        self._film = film
        self._records[film.record.id] = film.record
        self._board(running=False, current=None, shots=ids, film=film.record.id)
        return film

    async def _shot(
        self, client: AsyncSoraClient, prompt: str, previous: Generation | None, reuse: bool
    ) -> tuple[Generation, Awaitable[Generation] | None]:
        """The record of the next shot — the first from its prompt alone, every other one
        from the previous shot's last frame (uploaded first) — and, when `reuse` finds the
        same request made before, what answers it (its saved clip, or its running job
        waited for) instead of a submit. The budget was held for the whole run."""
        take = 1 if reuse else "next"
        context = self._notebook_context()
        if previous is None:
            record = client.prepare(self.request(prompt), take=take, notebook=context, check_budget=not reuse)
            found = await client.earlier(record) if reuse else None
        else:
            frame = await read_frame(previous, output_dir=client.output_dir)
            shot = next_shot(previous, prompt, frame)
            # asked before the upload: a shot made already needs no frame sent
            found = await earlier_shot(client, shot, frame, take=take) if reuse else None
            if found is None:
                record = client.prepare(
                    dataclasses.replace(shot, input_reference=await upload_frame(client, frame)),
                    take=take,
                    reference_digest=frame.digest,
                    notebook=context,
                    derived_from={"id": previous.id, "how": EXTEND},
                    reference_source=frame.source,
                    check_budget=not reuse,
                )
        if found is None:
            return record, None
        if found.kind == "done":
            return found.record, _ready(found.record)
        running = client.wait(found.record, timeout=params.DEFAULT_TIMEOUT_S, on_update=self._on_update)
        return found.record, running

    def _notebook_context(self) -> dict[str, str] | None:
        # the board's own cell (where its record output lives) names where it ran
        return {**(cell_context() or {}), **(self._context or {})} or None

    def _explain(self) -> str:
        current = [r for r in self._records.values() if r.id == self._current]
        said = explain_stopped(current)
        return f"{said} The shots after it were not started; the film was not made."

    def _on_update(self, record: Generation) -> None:
        self._records[record.id] = record
        self._publish()

    def _board(
        self,
        *,
        running: bool,
        current: int | None,
        shots: list[str | None],
        film: str | None = None,
        error: SoraError | None = None,
    ) -> None:
        self.board = dict(
            protocol.board_progress(running=running, current=current, shots=shots, film=film, error=error)
        )
        self._publish()

    # -- requests from the view ---------------------------------------------------------------

    @handles("run_storyboard")
    def _on_run(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        given = content.get("shots")
        if not isinstance(given, list):
            raise InvalidParams("shots", given, "a list of prompts, one per shot")
        self.start([str(s) for s in given])
        self._reply(request)

    # -- state for the view -------------------------------------------------------------------

    def _job_state(self, record: Generation) -> dict[str, Any]:
        # one shot at a time is waited for: the run's current one
        return {**super()._job_state(record), "waiting": record.id == self._current}


__all__ = ["DEFAULT_SHOT_DURATION", "Storyboard"]


async def _ready(record: Generation) -> Generation:
    return record
