"""SoraWidget: prompt, size, duration and reference controls, live job cards, inline video.

The view (js/src; contract in protocol.py) talks only to this object. Jobs run as tasks
on the kernel's own event loop — ipykernel dispatches comm messages on it — so the
kernel stays free while clips generate. Every task is held strongly (asyncio keeps only
weak references) and every failure reaches the job's card.

Displaying the widget also displays a record output (see views.py) that is updated as
jobs advance, so the saved notebook says what produced each clip.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import traitlets

from . import api, params, protocol, shots
from .checks import check_save_to
from .client import AsyncSoraClient
from .environment import cell_context
from .errors import InvalidParams, SoraError
from .records import Generation
from .views import ClipView, handles, unexpected

log = logging.getLogger(__name__)


class SoraWidget(ClipView):
    """Generate Sora 2 clips from a notebook without blocking it.

    >>> w = sw.SoraWidget(prompt="a paper boat on a rainy street", duration=4)
    >>> w                      # shows the controls, then a record output
    >>> w.generations          # records of this widget's jobs (sw.Generation)
    """

    prompt = traitlets.Unicode("", help="the prompt in the view's text box (two-way)").tag(sync=True)
    duration = traitlets.Int(params.DEFAULT_DURATION, help="seconds of video, one of params.DURATIONS").tag(
        sync=True
    )
    size = traitlets.Unicode(params.DEFAULT_SIZE, help='"WxH", one the model offers').tag(sync=True)
    model = traitlets.Enum(
        list(params.MODELS),
        params.DEFAULT_MODEL,
        help="the model of the next job: sizes and durations follow it",
    ).tag(sync=True)
    spend = traitlets.Dict(help="protocol.SpendView: this kernel's spend and budget").tag(sync=True)
    input_reference = traitlets.Unicode(
        "", help="reference image: an http(s) URL or a data URI; empty for none"
    ).tag(sync=True)
    reference_name = traitlets.Unicode("", help="shown name of an uploaded local image; empty otherwise").tag(
        sync=True
    )
    backend = traitlets.Dict(help="protocol.Backend: where generations go (never the key itself)").tag(
        sync=True
    )
    mode = traitlets.Enum(
        ["full", "job"],
        "full",
        help='"full": controls, job cards and a gallery; "job": one compact job card (the %sora view)',
    ).tag(sync=True)

    def __init__(
        self,
        prompt: str = "",
        duration: int | str = params.DEFAULT_DURATION,
        size: str = params.DEFAULT_SIZE,
        client: AsyncSoraClient | None = None,
        model: str = params.DEFAULT_MODEL,
        **kwargs: Any,
    ) -> None:
        chosen = params.validate_model(model)
        super().__init__(
            prompt=prompt,
            duration=params.validate_duration(duration, chosen),
            size=params.validate_size(size, chosen),
            model=chosen,
            **kwargs,
        )
        self._client = client
        self._detached: set[str] = set()
        self._context = cell_context()
        self.backend = dict(self._backend())
        self.spend = dict(protocol.spend_view(api.spend()))

    # -- what Python users see ---------------------------------------------------------------

    def __repr__(self) -> str:
        # also the widget's text/plain: stable, so saved and re-run notebooks compare equal
        model = "" if self.model == params.DEFAULT_MODEL else f", model={self.model!r}"
        return (
            f"SoraWidget(prompt={self.prompt!r}, duration={self.duration}, size={self.size!r}{model}, "
            f"generations={len(self._records)})"
        )

    @traitlets.observe("model")
    def _fit_to_model(self, change: dict[str, Any]) -> None:
        """A size or duration the new model does not offer gives way to its first."""
        offered = params.MODELS[change["new"]]
        if self.size not in offered.sizes:
            self.size = next(iter(offered.sizes))
        if self.duration not in offered.durations:
            self.duration = offered.durations[0]

    def _ipython_display_(self) -> None:
        self.backend = dict(self._backend())
        super()._ipython_display_()

    def start(
        self,
        prompt: str | None = None,
        *,
        duration: int | str | None = None,
        size: str | None = None,
        input_reference: str | None = None,
        save_to: str | None = None,
        model: str | None = None,
        take: int | str = "next",
        derived_from: dict[str, str] | None = None,
        reference_source: str | None = None,
        reference_digest: str | None = None,
    ) -> Generation:
        """Start a job as the Generate button does (on the running loop); returns its record.

        Values not given come from the widget's controls. Raises InvalidParams,
        AuthenticationError (no key) or BudgetExceeded before anything is sent. A new take
        unless `take` says which: the button asks for a new clip, never for one already made.
        `derived_from` and `reference_source` are recorded with it (lineage);
        `reference_digest`: an uploaded reference's bytes, for its request identity.
        """
        check_save_to(save_to)  # before anything is sent: an unsavable clip is paid for all the same
        reference = input_reference if input_reference is not None else (self.input_reference or None)
        record = self.client.prepare(
            prompt if prompt is not None else self.prompt,
            duration=duration if duration is not None else self.duration,
            size=size if size is not None else self.size,
            model=model if model is not None else self.model,
            take=take,
            input_reference=reference,
            # the widget's own cell (where its record output lives) names the job's origin
            notebook={**(cell_context() or {}), **(self._context or {})} or None,
            derived_from=derived_from,
            reference_source=reference_source,
            reference_digest=reference_digest,
        )
        self._records[record.id] = record
        self._spawn(record.id, self._submit_and_wait(record, save_to))
        self._publish()
        return record

    def follow(self, record: Generation) -> Generation:
        """Show a job started elsewhere (its request id known) and wait for it here, as for a
        job of this widget: `%sora` attaching to the running job of an identical request."""
        self._records[record.id] = record
        self._spawn(record.id, self._wait_again(record))
        self._publish()
        return record

    async def continue_from(
        self,
        parent: Generation | str,
        prompt: str,
        *,
        duration: int | str | None = None,
        size: str | None = None,
        model: str | None = None,
        save_to: str | None = None,
        frame: shots.Frame | None = None,
        take: int | str = "next",
    ) -> Generation:
        """Start the next shot of `parent` (a record, or the id of one of this widget's
        jobs) as a card's Continue does: `prompt`, starting from its last frame (uploaded
        first; `frame` if already read), with its model, size and duration unless given —
        a new take unless `take` says which. Returns the new job's record (the job runs on
        the kernel's loop, like Generate's)."""
        clip = parent if isinstance(parent, Generation) else self._records.get(parent)
        if clip is None:
            raise InvalidParams("job", parent, "a completed job of this widget")
        p = clip.params
        duration = duration if duration is not None else p.duration
        size = size if size is not None else p.size
        model = model if model is not None else clip.model
        # what can be refused is refused before the upload (nothing is sent)
        self.client.prepare(prompt, duration=duration, size=size, model=model)
        frame = frame or await shots.read_frame(clip)
        url = await shots.upload_frame(self.client, frame)
        self.remember_parent(clip)
        return self.start(
            prompt,
            duration=duration,
            size=size,
            model=model,
            input_reference=url,
            save_to=save_to,
            derived_from={"id": clip.id, "how": shots.EXTEND},
            reference_source=frame.source,
            reference_digest=frame.digest,
            take=take,
        )

    async def wait_for(self, job_id: str) -> Generation:
        """Await the task of a job started by `start` (errors are in its record)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        return self._records[job_id]

    # -- requests from the view ---------------------------------------------------------------

    def _on_message(self, widget: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
        self.backend = dict(self._backend())  # the key or the emulator may have been set meanwhile
        super()._on_message(widget, content, buffers)

    @handles("generate")
    def _on_generate(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        p = content.get("params") or {}
        remix_of = content.get("remix_of") or None
        if remix_of is not None and remix_of not in self._records:
            raise InvalidParams("remix_of", remix_of, "a job of this widget")
        record = self.start(
            p.get("prompt", ""),
            duration=p.get("duration", self.duration),
            size=p.get("size", self.size),
            input_reference=p.get("input_reference") or None,
            model=content.get("model") or self.model,
            derived_from={"id": remix_of, "how": shots.REMIX} if remix_of else None,
            reference_source=self._reference_source_of(remix_of, p.get("input_reference") or None),
        )
        self._reply(request, job=record.id)

    def _reference_source_of(self, remix_of: str | None, reference: str | None) -> str | None:
        """A remix keeping its original's reference keeps where that came from too."""
        original = self._records.get(remix_of) if remix_of else None
        if original is None or reference is None or reference != original.params.input_reference:
            return None
        return original.reference_source

    @handles("continue")
    def _on_continue(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        job = str(content.get("job"))
        parent = self._records.get(job)
        if parent is None or parent.status != "COMPLETED" or not parent.video_path:
            raise InvalidParams("job", job, "a completed job of this widget")
        prompt = params.validate_prompt(content.get("prompt"))
        self._answer_later(f"continue:{request}", request, self._continue(request, parent, prompt))

    async def _continue(self, request: str, parent: Generation, prompt: str) -> None:
        record = await self.continue_from(parent, prompt)
        self._reply(request, job=record.id)

    @handles("stop")
    def _on_stop(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._stop_waiting(str(content.get("job")))
        self._reply(request)

    @handles("resume")
    def _on_resume(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._resume(str(content.get("job")))
        self._reply(request)

    @handles("upload")
    def _on_upload(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        data = bytes(buffers[0]) if buffers else b""
        mime, name = str(content.get("mime", "")), str(content.get("name", "image"))
        self._answer_later(f"upload:{request}", request, self._upload(request, data, mime, name))

    @handles("use_emulator")
    def _on_use_emulator(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._answer_later(f"emulator:{request}", request, self._use_emulator(request))

    # -- jobs ---------------------------------------------------------------------------------

    async def _submit_and_wait(self, record: Generation, save_to: str | None = None) -> None:
        async def work() -> None:
            await self.client.submit_prepared(record, on_update=self._on_update)
            await self.client.wait(record, on_update=self._on_update, save_to=save_to)

        await self._job(record, work())

    async def _wait_again(self, record: Generation) -> None:
        await self._job(record, self.client.wait(record, on_update=self._on_update))

    async def _job(self, record: Generation, work: Any) -> None:
        """Run a job's work; whatever happens ends up in its record, for its card."""
        try:
            await work
        except asyncio.CancelledError:
            self._detached.add(record.id)  # "Stop waiting" or the widget closed
            raise
        except SoraError as error:
            record.error = error.to_dict()
        except Exception as error:
            log.exception("sora-widget job %s failed unexpectedly", record.id)
            record.error = unexpected(error).to_dict()

    def _on_update(self, record: Generation) -> None:
        self._records[record.id] = record
        self._publish()

    def _stop_waiting(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()
        self._detached.add(job_id)
        self._publish()

    def _resume(self, job_id: str) -> None:
        record = self._records.get(job_id)
        if record is None or not record.request_id:
            raise InvalidParams("job", job_id, "a job of this widget that the server accepted")
        if job_id in self._tasks:
            return
        self._detached.discard(job_id)
        record.error = None
        self._spawn(job_id, self._wait_again(record))
        self._publish()

    # -- requests that answer with data ------------------------------------------------------

    async def _upload(self, request: str, data: bytes, mime: str, name: str) -> None:
        url = await self.client.upload_bytes(data, mime)
        self.input_reference = url
        self.reference_name = name
        self._reply(request, url=url)

    async def _use_emulator(self, request: str) -> None:
        await asyncio.to_thread(api.use_emulator)
        self.backend = dict(self._backend())
        self._reply(request)

    # -- state for the view and the notebook ---------------------------------------------------

    def _backend(self) -> protocol.Backend:
        if self._client is not None:
            return {
                "api_key_set": self._client.has_api_key,
                "emulator": False,
                "host": self._client.api_host,
            }
        current = api.settings()
        return {
            "api_key_set": current["api_key_set"],
            "emulator": current["emulator"],
            "host": current["base_url"].split("://", 1)[-1],
        }

    def _publish(self) -> None:
        self.spend = dict(protocol.spend_view(api.spend()))
        super()._publish()

    def _job_view(self, record: Generation, now: float) -> protocol.JobView:
        return protocol.job_view(
            record,
            now=now,
            expected_s=self._expected(record),
            waiting=record.id in self._tasks,
            detached=record.id in self._detached and record.id not in self._tasks,
            parent_prompt=self._parent_prompt(record),
        )


__all__ = ["SoraWidget"]
