"""What every view of clips in the notebook shares: the view's code, the jobs it shows,
its record output, and the kernel side of the request/reply protocol.

`SoraWidget` (widget.py: controls, job cards) and a batch's view (batch/view.py: a
progress header over every item) are both a `ClipView`. The view (js/src) talks only to
these objects; every message they send is built by `protocol`.

Requests from the view are routed by kind to the method registered for it with
`@handles(kind)`; whatever a handler raises becomes the request's error reply, so the
view always hears back. Work that outlives a message runs as a task on the kernel's
own loop, held strongly (asyncio keeps only weak references) with its failure logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import time
import traceback
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import anywidget
import traitlets

from . import api, params, protocol
from ._files import MAX_CLIP_BYTES, FileRefused, aopen_record_file
from .environment import in_marimo, record_output_in_view
from .errors import InvalidParams, SoraError
from .records import Generation, record_bundle
from .records.view import record_data

if TYPE_CHECKING:
    from .client import AsyncSoraClient

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
#: video bytes go to the view in pieces this size (one binary comm message each)
VIDEO_CHUNK_BYTES = 2 * 1024 * 1024

Handler = Callable[[Any, str, dict[str, Any], list[bytes]], None]


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register a method as the handler of the view's requests of `kind`. It is called
    with (request id, message content, buffers) and answers with `_reply`/`_reply_error`
    (or in a task it spawns)."""

    def register(method: Handler) -> Handler:
        method._handles = kind  # type: ignore[attr-defined]
        return method

    return register


class ClipView(anywidget.AnyWidget):
    """A view of generations: its jobs are shown by the view, its records in a record
    output beneath it (updated as jobs advance).

    Where the host never updates an output once shown — Voilà renders each output once,
    marimo shows what a cell returns — the record output is the view's own: the
    `record_output` trait, drawn under the view (js/src/records.ts). Elsewhere it is an
    output of its own, updated by its display id, which the notebook saves."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    options = traitlets.Dict(help="protocol.Options: what the controls may offer (from params.py)").tag(
        sync=True
    )
    jobs = traitlets.List(
        traitlets.Dict(), help="list of protocol.JobView: the jobs shown, oldest first"
    ).tag(sync=True)
    jobs_clock_ms = traitlets.Float(
        0.0, help="kernel wall clock (ms since the epoch) when `jobs` was built: the view corrects skew"
    ).tag(sync=True)
    record_output = traitlets.Dict(
        help="protocol.RecordOutput: the record output, drawn by the view under itself where the"
        " host never updates an output (environment.record_output_in_view); {} elsewhere"
    ).tag(sync=True)

    #: request kind → handler, collected from the @handles methods of the class
    _handlers: ClassVar[dict[str, Handler]] = {}
    #: the client a subclass was given; None: the kernel's shared one (see `client`)
    _client: AsyncSoraClient | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Handler] = {}
        for klass in reversed(cls.__mro__):
            for member in vars(klass).values():
                kind = getattr(member, "_handles", None)
                if kind is not None:
                    found[kind] = member
        cls._handlers = found

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(options=params.view_options(api.prices()), **kwargs)
        self._records: dict[str, Generation] = {}
        #: prompts of clips this view's clips derive from but does not show (lineage)
        self._parents: dict[str, str] = {}
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._display_id = f"sora-widget-{uuid.uuid4().hex}"
        self._record_shown = False
        #: the record output is the view's own (Voilà, marimo), not an output beside it
        self._record_in_view = record_output_in_view()
        if self._record_in_view:
            self.record_output = record_data([])
        self.on_msg(self._on_message)

    @property
    def generations(self) -> list[Generation]:
        return list(self._records.values())

    #: the view's text/plain in a notebook. It is written once, when the view is shown, and
    #: saved with the notebook however the view changes afterwards (its prompt, its model,
    #: its clips: a repr said "generations=0" after three clips), so it says only what stays
    #: true; the record output beneath, updated as jobs advance, says what was made. None:
    #: the repr (a view whose repr stays true, such as a batch's)
    PLAIN_TEXT: str | None = None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if self.PLAIN_TEXT is not None and isinstance(data, dict) and "text/plain" in data:
            data["text/plain"] = self.PLAIN_TEXT
        return bundle

    def _ipython_display_(self) -> None:
        """Show the view, then its record output (updated in place as jobs advance); where
        the view carries the record output, the view alone. Also how the batch and the
        storyboard show themselves from a running cell, in marimo too (which never calls
        this itself: it shows an anywidget a cell returns as it is)."""
        self._record_shown = True
        if in_marimo():
            import marimo

            marimo.output.append(self)
            return
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        # anywidget returns (data, metadata); ipywidgets returns data alone
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)
        if not self._record_in_view:
            display(record_bundle(self.generations), raw=True, display_id=self._display_id)

    def close(self) -> None:
        """Stop this view's own waiting (jobs keep running on the server)."""
        for task in list(self._tasks.values()):
            task.cancel()
        super().close()

    # -- what the view shows ------------------------------------------------------------------

    def _publish(self) -> None:
        """Send the jobs to the view and update the record output."""
        now = time.time()
        self.jobs = cast(list[dict[str, Any]], [self._job_view(r, now) for r in self._records.values()])
        self.jobs_clock_ms = now * 1000
        if self._record_in_view:
            self.record_output = record_data(self.generations)
        elif self._record_shown:
            from IPython.display import update_display

            update_display(record_bundle(self.generations), raw=True, display_id=self._display_id)

    def _job_view(self, record: Generation, now: float) -> protocol.JobView:
        return protocol.job_view(
            record, now=now, expected_s=self._expected(record), **self._job_state(record)
        )

    def _job_state(self, record: Generation) -> dict[str, Any]:
        """What this view knows of a job beyond its record (`protocol.job_view`'s keywords):
        whether it is being waited for, and the prompt of the clip it derives from."""
        return {"waiting": record.id in self._tasks, "parent_prompt": self._parent_prompt(record)}

    def _parent_prompt(self, record: Generation) -> str | None:
        """The prompt of the clip `record` derives from, when this view knows it."""
        parent = (record.derived_from or {}).get("id")
        if not parent:
            return None
        shown = self._records.get(parent)
        return shown.params.prompt if shown is not None else self._parents.get(parent)

    def remember_parent(self, parent: Generation) -> None:
        """Name a clip this view's clips derive from, so their cards can say which."""
        self._parents[parent.id] = parent.params.prompt

    @property
    def client(self) -> AsyncSoraClient:
        """This view's own client, or else the kernel's shared one."""
        return self._client if self._client is not None else api.shared_client()

    def _expected(self, record: Generation) -> float:
        """The typical latency of a job like this one, as the client has learned it."""
        try:
            return self.client.expected_seconds(record)
        except RuntimeError:  # no running loop (e.g. inspected from a thread)
            return params.PRIOR_LATENCY_S

    # -- requests from the view ---------------------------------------------------------------

    def _on_message(self, _widget: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
        kind = content.get("kind")
        request = str(content.get("id", ""))
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        try:
            if handler is None:
                known = ", ".join(sorted(self._handlers))
                raise InvalidParams("kind", kind, f"a request kind this view answers ({known})")
            handler(self, request, content, buffers)
        except SoraError as error:
            self._reply_error(request, error)
        except Exception as error:  # a bug of ours: still tell the view, and the log
            log.exception("sora-widget could not handle a %r request", kind)
            self._reply_error(request, unexpected(error))

    def _reply(self, request: str, **payload: Any) -> None:
        self.send(protocol.reply_ok(request, **payload))

    def _reply_error(self, request: str, error: SoraError) -> None:
        self.send(protocol.reply_error(request, error))

    def _answer_later(self, key: str, request: str, work: Coroutine[Any, Any, None]) -> None:
        """Run a request's coroutine as a task; whatever it raises is the request's answer."""

        async def answering() -> None:
            try:
                await work
            except SoraError as error:
                self._reply_error(request, error)
            except Exception as error:
                log.exception("sora-widget request %s failed", request)
                self._reply_error(request, unexpected(error))

        self._spawn(key, answering())

    @handles("video")
    def _on_video(self, request: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._answer_later(f"video:{request}", request, self._send_video(request, str(content.get("job"))))

    async def _send_video(self, request: str, job_id: str) -> None:
        """Stream a job's clip to the view. The record may come from a received ledger (a
        reused clip), so its file is opened by the rule for files a record names — by its
        text first, inside the kernel's folder or the output dir, never through a symlink,
        a regular file (a FIFO would block, `/etc/hostname` is not a clip) — and opened
        and read off the loop, a chunk at a time."""
        record = self._records.get(job_id)
        try:
            if record is None or not record.video_path:
                raise InvalidParams("job", job_id, "a completed job of this widget")
            here, roots = await asyncio.to_thread(_clip_roots, self.client.output_dir)
            try:
                clip = await aopen_record_file(
                    record.video_path, base=here, roots=roots, max_bytes=MAX_CLIP_BYTES
                )
            except FileRefused as refused:
                raise InvalidParams("job", job_id, f"a job whose clip can be read ({refused})") from None
            with clip:
                total = max(1, math.ceil(clip.size / VIDEO_CHUNK_BYTES))
                left = clip.size
                for index in range(total):
                    chunk = await asyncio.to_thread(clip.file.read, min(VIDEO_CHUNK_BYTES, left))
                    left -= len(chunk)
                    self.send(
                        protocol.video_chunk(request, index=index, total=total, size=clip.size),
                        buffers=[chunk],
                    )
        except OSError as error:
            self._reply_error(request, unexpected(error, "the saved video could not be read"))

    # -- tasks --------------------------------------------------------------------------------

    def _spawn(self, key: str, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks[key] = task
        task.add_done_callback(functools.partial(self._task_done, key))

    def _task_done(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled() and task.exception() is not None:
            # Our coroutines handle their errors; reaching here is a bug, so say it loudly.
            log.error("sora-widget task %s failed", key, exc_info=task.exception())
        self._publish()


def _clip_roots(output_dir: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """Where this kernel's clips may be read from: its working directory (the notebook's
    folder; relative paths start there) and the output dir, both resolved."""
    here = Path.cwd().resolve()
    return here, [here, Path(output_dir).resolve()]


def unexpected(error: BaseException, message: str | None = None) -> SoraError:
    """A bug of ours (or a local I/O failure) as an error the view can show."""
    text = message or f"unexpected {type(error).__name__}: {error}"
    wrapped = SoraError(text, detail="".join(traceback.format_exception_only(type(error), error)).strip())
    wrapped.hint = "This is a bug in sora-widget; the kernel log has the traceback. Please report it."
    return wrapped
