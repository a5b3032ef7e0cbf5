"""SoraWidget: a prompt, a model and its fields as controls, live job cards, inline video.

The view (js/src; contract in protocol.py) talks only to this object. Jobs run as tasks
on the kernel's own event loop — ipykernel dispatches comm messages on it — so the
kernel stays free while clips generate. Every task is held strongly (asyncio keeps only
weak references) and every failure reaches the job's card.

Displaying the widget also displays a record output (see views.py) that is updated as
jobs advance, so the saved notebook says what produced each clip.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import traitlets

from . import api, params, protocol, shots
from .checks import check_save_to
from .client import AsyncSoraClient
from .client._sightings import SIGHTINGS
from .environment import cell_context
from .errors import InvalidParams, ModelUnavailable, SoraError
from .records import Generation
from .views import ClipView, handles, unexpected

log = logging.getLogger(__name__)


class SoraWidget(ClipView):
    """Generate clips from a notebook without blocking it, with any catalogued model.

    >>> w = sw.SoraWidget(prompt="a paper boat on a rainy street", duration=4)
    >>> w = sw.SoraWidget(model="veo-3.1-fast", aspect_ratio="9:16", sound=False)
    >>> w                      # shows the controls, then a record output
    >>> w.generations          # records of this widget's jobs (sw.Generation)
    """

    prompt = traitlets.Unicode("", help="the prompt in the view's text box (two-way)").tag(sync=True)
    duration = traitlets.Int(params.DEFAULT_DURATION, help="seconds of video, one the model offers").tag(
        sync=True
    )
    size = traitlets.Unicode(
        params.DEFAULT_SIZE,
        help='"WxH", one the model makes (for a model that takes an aspect ratio: set from `values`); '
        "empty when the clip takes its first frame's shape",
    ).tag(sync=True)
    model = traitlets.Enum(
        list(params.MODELS),
        params.DEFAULT_MODEL,
        help="the model of the next job: the controls follow its fields",
    ).tag(sync=True)
    values = traitlets.Dict(
        help="the model's other fields (aspect_ratio, resolution, last_frame, sound, seed, its own options)"
    ).tag(sync=True)
    spend = traitlets.Dict(help="protocol.SpendView: this kernel's spend and budget").tag(sync=True)
    input_reference = traitlets.Unicode(
        "", help="the first frame (reference image): an http(s) URL or a data URI; empty for none"
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
        duration: int | str | None = None,
        size: str | None = None,
        client: AsyncSoraClient | None = None,
        model: str = params.DEFAULT_MODEL,
        **kwargs: Any,
    ) -> None:
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in api.REQUEST_FIELDS and k != "model"}
        draft = params.validate_draft(prompt, model=model, duration=duration, size=size, **fields)
        super().__init__(prompt=prompt, model=draft.model, **_traits_of(draft), **kwargs)
        self._client = client
        self._detached: set[str] = set()
        self._context = cell_context()
        self.backend = dict(self._backend())
        self.spend = dict(protocol.spend_view(api.spend()))

    # -- what Python users see ---------------------------------------------------------------

    def __repr__(self) -> str:
        # what it is now, for code (`repr(w)`); a notebook saves `PLAIN_TEXT` instead
        model = "" if self.model == params.DEFAULT_MODEL else f", model={self.model!r}"
        shape = f"size={self.size!r}" if self.size else "size=None"
        return (
            f"SoraWidget(prompt={self.prompt!r}, duration={self.duration}, {shape}{model}, "
            f"generations={len(self._records)})"
        )

    PLAIN_TEXT = "SoraWidget: live controls and clips; every clip it makes is recorded in the output below"

    def controls(self) -> dict[str, Any]:
        """What the controls say, by the names `sw.generate` takes (empty ones left out)."""
        given: dict[str, Any] = {"model": self.model, "duration": self.duration, **self.values}
        entry = params.MODELS[self.model]
        if entry.has("size") and self.size:
            given["size"] = self.size
        if self.input_reference:
            given["input_reference"] = self.input_reference
        return {k: v for k, v in given.items() if v is not None}

    def request(self, prompt: str | None = None, **changes: Any) -> params.Request:
        """The request the controls make, with `changes` over them (another model keeps
        what it takes of the controls): checked in full (`InvalidParams`)."""
        text = prompt if prompt is not None else self.prompt
        current = self.controls()
        model = changes.pop("model", None) or self.model
        if model == self.model:
            return params.validate(text, **{**current, **changes})
        current.pop("model")
        return params.validate_preferring(text, preferred=current, model=model, **changes)

    @traitlets.observe("model")
    def _fit_to_model(self, change: dict[str, Any]) -> None:
        """What the new model takes of the controls stays; the rest gives way to its defaults."""
        old = {
            "duration": self.duration,
            "size": self.size or None,
            "input_reference": self.input_reference or None,
            **self.values,
        }
        draft = params.validate_draft(self.prompt, preferred=old, model=change["new"])
        self.set_trait("duration", draft.duration)
        self.set_trait("size", draft.size or "")
        self.set_trait("input_reference", draft.input_reference or "")
        if not draft.input_reference:
            self.set_trait("reference_name", "")
        self.set_trait("values", _values_of(draft))

    @traitlets.observe("values")
    def _size_from_shape(self, change: dict[str, Any]) -> None:
        """A model that takes an aspect ratio and a resolution makes its size from them."""
        entry = params.MODELS[self.model]
        shape = (str(change["new"].get("aspect_ratio")), str(change["new"].get("resolution") or ""))
        if shape in entry.pixels and self.size != entry.pixels[shape]:
            self.set_trait("size", entry.pixels[shape])

    def _ipython_display_(self) -> None:
        self.backend = dict(self._backend())
        super()._ipython_display_()

    def start(
        self,
        prompt: str | None = None,
        *,
        request: params.Request | None = None,
        save_to: str | None = None,
        take: int | str = "next",
        derived_from: dict[str, str] | None = None,
        reference_source: str | None = None,
        reference_digest: str | None = None,
        **changes: Any,
    ) -> Generation:
        """Start a job as the Generate button does (on the running loop); returns its record.

        `request`: what to make; else the controls' values with `prompt` and `changes`
        (model, duration, size, first_frame, …) over them. Raises InvalidParams,
        AuthenticationError (no key) or BudgetExceeded before anything is sent. A new take
        unless `take` says which: the button asks for a new clip, never for one already made.
        `derived_from` and `reference_source` are recorded with it (lineage);
        `reference_digest`: an uploaded first frame's bytes, for its request identity.
        """
        check_save_to(save_to)  # before anything is sent: an unsavable clip is paid for all the same
        if request is None:
            request = self.request(prompt, **changes)
        record = self.client.prepare(
            request,
            take=take,
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
        save_to: str | None = None,
        frame: shots.Frame | None = None,
        take: int | str = "next",
        **changes: Any,
    ) -> Generation:
        """Start the next shot of `parent` (a record, or the id of one of this widget's
        jobs) as a card's Continue does: `prompt`, starting from its last frame (uploaded
        first; `frame` if already read) through whichever first-frame field its model has,
        with its model and values unless `changes` say otherwise — a new take unless `take`
        says which. Returns the new job's record (the job runs on the kernel's loop, like
        Generate's)."""
        clip = parent if isinstance(parent, Generation) else self._records.get(parent)
        if clip is None:
            raise InvalidParams("job", parent, "a completed job of this widget")
        frame = frame or await shots.read_frame(clip, output_dir=self.client.output_dir)
        # what can be refused is refused before the upload (nothing is sent)
        probe = shots.next_shot(clip, prompt, frame, **changes)
        self.client.prepare(probe, check_budget=False)
        url = await shots.upload_frame(self.client, frame)
        self.remember_parent(clip)
        return self.start(
            request=dataclasses.replace(probe, input_reference=url),
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
        p = dict(content.get("params") or {})
        remix_of = content.get("remix_of") or None
        if remix_of is not None and remix_of not in self._records:
            raise InvalidParams("remix_of", remix_of, "a job of this widget")
        model = content.get("model") or self.model
        entry = params.MODELS[params.validate_model(model)]
        if (entry.pixels and p.get("aspect_ratio")) or not entry.has("size"):
            p.pop("size", None)  # the size such a model makes is its aspect ratio's and resolution's
        reference = p.pop("input_reference", None) or None
        options = p.pop("options", None) or {}
        if not isinstance(options, dict):
            raise InvalidParams("options", options, f"the options of {entry.name} by name")
        given = {**p, **options}  # the model's own options by their own names, as sw.generate takes them
        fields = {k: v for k, v in given.items() if k != "prompt" and v is not None and v != ""}
        record = self.start(
            request=params.validate(
                p.get("prompt", ""), model=entry.name, input_reference=reference, **fields
            ),
            derived_from={"id": remix_of, "how": shots.REMIX} if remix_of else None,
            reference_source=self._reference_source_of(remix_of, reference),
        )
        self._reply(request, job=record.id)

    def _reference_source_of(self, remix_of: str | None, reference: str | None) -> str | None:
        """A remix keeping its original's reference keeps where that came from too."""
        original = self._records.get(remix_of) if remix_of else None
        if original is None or reference is None or reference != original.params.input_reference:
            return None
        return original.reference_source

    def _completed_clip(self, content: dict[str, Any]) -> Generation:
        """The completed job of this widget a request names (its clip on disk)."""
        job = str(content.get("job"))
        clip = self._records.get(job)
        if clip is None or clip.status != "COMPLETED" or not clip.video_path:
            raise InvalidParams("job", job, "a completed job of this widget")
        return clip

    @handles("continue")
    def _on_continue(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        parent = self._completed_clip(content)
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
        field = content.get("field") or "first_frame"
        if field not in _IMAGE_FIELDS or not params.MODELS[self.model].has(field):
            taken = ", ".join(f for f in _IMAGE_FIELDS if params.MODELS[self.model].has(f)) or "none"
            raise InvalidParams("field", field, f"an image field of {self.model}: {taken}")
        self._answer_later(f"upload:{request}", request, self._upload(request, data, mime, name, field))

    @handles("end_frame")
    def _on_end_frame(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        clip = self._completed_clip(content)
        if not params.MODELS[self.model].has("last_frame"):
            others = params.with_field("last_frame")
            raise InvalidParams(
                "last_frame",
                f"the last frame of {clip.id}",
                f"nothing: {self.model} takes no last frame",
                message=f"{self.model} takes no last frame",
                hint=f"Choose a model that ends on an image: {', '.join(others) or 'none'}.",
            )
        self._answer_later(f"end_frame:{request}", request, self._end_frame(request, clip))

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
            if isinstance(error, ModelUnavailable):
                self.backend = dict(self._backend())  # the Model menu marks it
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

    async def _upload(self, request: str, data: bytes, mime: str, name: str, field: str) -> None:
        url = await self.client.upload_bytes(data, mime)
        if field == "first_frame":
            self.input_reference = url
            self.reference_name = name
        else:
            self.values = {**self.values, field: url}
        self._reply(request, url=url)

    async def _end_frame(self, request: str, clip: Generation) -> None:
        """The clip's exact last frame (its file checked first), uploaded: the next clip's last frame."""
        frame = await shots.read_frame(clip, output_dir=self.client.output_dir)
        url = await shots.upload_frame(self.client, frame)
        self.values = {**self.values, "last_frame": url}
        self._reply(request, url=url)

    async def _use_emulator(self, request: str) -> None:
        await asyncio.to_thread(api.use_emulator)
        self.backend = dict(self._backend())
        self._reply(request)

    # -- state for the view and the notebook ---------------------------------------------------

    def _backend(self) -> protocol.Backend:
        if self._client is not None:
            host, key_set, emulator = self._client.api_host, self._client.has_api_key, False
            name = self._client.api_host
        else:
            current = api.settings()
            host = current["base_url"].split("://", 1)[-1]
            key_set, emulator = current["api_key_set"], current["emulator"]
            name = api.current_api_name()
        return {
            "api_key_set": key_set,
            "emulator": emulator,
            "host": host,
            "unavailable": SIGHTINGS.refused_models(name),
        }

    def _publish(self) -> None:
        self.spend = dict(protocol.spend_view(api.spend()))
        super()._publish()

    def _job_state(self, record: Generation) -> dict[str, Any]:
        # "Stop waiting" detached it: the server job goes on
        detached = record.id in self._detached and record.id not in self._tasks
        return {**super()._job_state(record), "detached": detached}


#: the image fields a picked file can be uploaded for (protocol.ImageField)
_IMAGE_FIELDS = ("first_frame", "last_frame")


def _values_of(draft: params.Request) -> dict[str, Any]:
    """The `values` trait of a request: its fields beyond duration, size and the first frame."""
    named = {k: getattr(draft, k) for k in ("aspect_ratio", "resolution", "last_frame", "sound", "seed")}
    return {k: v for k, v in {**named, **dict(draft.options)}.items() if v is not None}


def _traits_of(draft: params.Request) -> dict[str, Any]:
    return {
        "duration": draft.duration,
        "size": draft.size or "",
        "input_reference": draft.input_reference or "",
        "values": _values_of(draft),
    }


__all__ = ["SoraWidget"]
