"""SoraWidget: prompt, size, duration and reference controls, live job cards, inline video.

The view (js/src, contract in js/src/protocol.ts) talks only to this object. Jobs run
as tasks on the kernel's own event loop — ipykernel dispatches comm messages on it —
so the kernel stays free while clips generate. Every task is held strongly (asyncio
keeps only weak references) and every failure reaches the job's card.

Displaying the widget also displays a record output (see notebook.py) that is
updated as jobs advance, so the saved notebook says what produced each clip.

In mode "batch" the widget shows jobs run by someone else (`generate_many` calls
`track`): a progress header and every item's status, updated at a bounded pace so a
thousand items do not flood the kernel's loop or the frontend.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from . import api, params
from ._progress import tally
from .client import AsyncSoraClient
from .errors import InvalidParams, SoraError
from .notebook import cell_context, record_bundle
from .records import Generation

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
#: video bytes go to the view in pieces this size (one binary comm message each)
VIDEO_CHUNK_BYTES = 2 * 1024 * 1024


class SoraWidget(anywidget.AnyWidget):
    """Generate Sora 2 clips from a notebook without blocking it.

    >>> w = sw.SoraWidget(prompt="a paper boat on a rainy street", duration=4)
    >>> w                      # shows the controls, then a record output
    >>> w.generations          # records of this widget's jobs (sw.Generation)
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    prompt = traitlets.Unicode("").tag(sync=True)
    duration = traitlets.Int(params.DEFAULT_DURATION).tag(sync=True)
    size = traitlets.Unicode(params.DEFAULT_SIZE).tag(sync=True)
    input_reference = traitlets.Unicode("").tag(sync=True)
    reference_name = traitlets.Unicode("").tag(sync=True)
    options = traitlets.Dict().tag(sync=True)
    backend = traitlets.Dict().tag(sync=True)
    jobs = traitlets.List(traitlets.Dict()).tag(sync=True)
    jobs_clock_ms = traitlets.Float(0.0).tag(sync=True)
    mode = traitlets.Unicode("full").tag(sync=True)
    #: mode "batch": the batch id and its tally (see _progress.BatchTally.to_dict)
    batch = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        prompt: str = "",
        duration: int | str = params.DEFAULT_DURATION,
        size: str = params.DEFAULT_SIZE,
        client: AsyncSoraClient | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            prompt=prompt,
            duration=params.validate_duration(duration),
            size=params.validate_size(size),
            options=params.view_options(),
            **kwargs,
        )
        self._client = client
        self._records: dict[str, Generation] = {}
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._detached: set[str] = set()
        # jobs run by someone else (mode "batch"): worked on now / ended in this call
        self._active: set[str] = set()
        self._finished: set[str] = set()
        self._publish_handle: asyncio.TimerHandle | None = None
        self._display_id = f"sora-widget-{uuid.uuid4().hex}"
        self._record_shown = False
        self._context = cell_context()
        self.backend = self._backend()
        self.on_msg(self._on_message)

    # -- what Python users see ---------------------------------------------------------------

    def __repr__(self) -> str:
        # also the widget's text/plain: stable, so saved and re-run notebooks compare equal
        if self.mode == "batch":
            return f"SoraWidget(mode='batch', items={len(self._records)})"
        return (
            f"SoraWidget(prompt={self.prompt!r}, duration={self.duration}, size={self.size!r}, "
            f"generations={len(self._records)})"
        )

    @property
    def generations(self) -> list[Generation]:
        return list(self._records.values())

    @property
    def client(self) -> AsyncSoraClient:
        return self._client if self._client is not None else api.shared_client()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self.backend = self._backend()
        bundle = self._repr_mimebundle_()
        # anywidget returns (data, metadata); ipywidgets returns data alone
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)
        display(record_bundle(self.generations), raw=True, display_id=self._display_id)
        self._record_shown = True

    def start(
        self,
        prompt: str | None = None,
        *,
        duration: int | str | None = None,
        size: str | None = None,
        input_reference: str | None = None,
        save_to: str | None = None,
    ) -> Generation:
        """Start a job as the Generate button does (on the running loop); returns its record.

        Values not given come from the widget's controls. Raises InvalidParams (or
        AuthenticationError when no key is set) before anything is sent.
        """
        reference = input_reference if input_reference is not None else (self.input_reference or None)
        record = self.client.prepare(
            prompt if prompt is not None else self.prompt,
            duration=duration if duration is not None else self.duration,
            size=size if size is not None else self.size,
            input_reference=reference,
            # the widget's own cell (where its record output lives) names the job's origin
            notebook={**(cell_context() or {}), **(self._context or {})} or None,
        )
        self._records[record.id] = record
        self._spawn(record.id, self._submit_and_wait(record, save_to))
        self._publish()
        return record

    async def wait_for(self, job_id: str) -> Generation:
        """Await the task of a job started by `start` (errors are in its record)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        return self._records[job_id]

    def close(self) -> None:
        """Stop waiting for this widget's jobs (they keep running on the server)."""
        for task in list(self._tasks.values()):
            task.cancel()
        if self._publish_handle is not None:
            self._publish_handle.cancel()
        super().close()

    # -- jobs run by someone else (mode "batch") ----------------------------------------------

    @classmethod
    def for_batch(
        cls,
        batch_id: str,
        records: list[Generation],
        finished: set[str],
        client: AsyncSoraClient | None = None,
    ) -> SoraWidget:
        """A view of a batch's items (in order), for `generate_many` to drive with `track`;
        `finished` holds the ids of those already ended before it started."""
        widget = cls(client=client, mode="batch")
        widget.batch = {"id": batch_id}
        for record in records:
            widget._records[record.id] = record
        widget._finished |= finished
        widget._publish()
        return widget

    def track(self, record: Generation, *, active: bool = False, finished: bool = False) -> None:
        """Show a job's record as it stands: being worked on now (`active`), or its work
        ended (`finished`). Shown at a bounded pace; `flush()` shows it now."""
        self._records[record.id] = record
        (self._active.add if active and not finished else self._active.discard)(record.id)
        if finished:
            self._finished.add(record.id)
        self._publish_soon()

    def flush(self) -> None:
        """Show every change now (the batch has ended)."""
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
        self._publish()

    def _publish_soon(self) -> None:
        if self._publish_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._publish()
            return
        # Each publish sends every job to the view and rewrites the record output: pace
        # them by the batch's size (0.25 s for a few items, about 1 s for a thousand).
        delay = 0.25 + 0.00075 * len(self._records)
        self._publish_handle = loop.call_later(delay, self._publish_due)

    def _publish_due(self) -> None:
        self._publish_handle = None
        self._publish()

    # -- messages from the view -------------------------------------------------------------

    def _on_message(self, _widget: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
        kind = content.get("kind")
        request = str(content.get("id", ""))
        self.backend = self._backend()  # the key or the emulator may have been set meanwhile
        try:
            if kind == "generate":
                p = content.get("params") or {}
                record = self.start(
                    p.get("prompt", ""),
                    duration=p.get("duration", self.duration),
                    size=p.get("size", self.size),
                    input_reference=p.get("input_reference") or None,
                )
                self._reply(request, job=record.id)
            elif kind == "video":
                self._spawn(
                    f"video:{request}",
                    self._answering(request, self._send_video(request, str(content.get("job")))),
                )
            elif kind == "stop":
                self._stop_waiting(str(content.get("job")))
                self._reply(request)
            elif kind == "resume":
                self._resume(str(content.get("job")))
                self._reply(request)
            elif kind == "upload":
                data = bytes(buffers[0]) if buffers else b""
                mime, name = str(content.get("mime", "")), str(content.get("name", "image"))
                self._spawn(
                    f"upload:{request}", self._answering(request, self._upload(request, data, mime, name))
                )
            elif kind == "use_emulator":
                self._spawn(f"emulator:{request}", self._answering(request, self._use_emulator(request)))
            else:
                self._reply_error(request, InvalidParams("kind", kind, "a request kind of protocol.ts"))
        except SoraError as error:
            self._reply_error(request, error)
        except Exception as error:  # a bug of ours: still tell the view, and the log
            log.exception("sora-widget could not handle a %r request", kind)
            self._reply_error(request, _unexpected(error))

    async def _answering(self, request: str, work: Any) -> None:
        """Run a request's coroutine; whatever it raises is the request's answer."""
        try:
            await work
        except SoraError as error:
            self._reply_error(request, error)
        except Exception as error:
            log.exception("sora-widget request %s failed", request)
            self._reply_error(request, _unexpected(error))

    def _reply(self, request: str, **payload: Any) -> None:
        self.send({"kind": "reply", "id": request, "ok": True, **payload})

    def _reply_error(self, request: str, error: SoraError) -> None:
        self.send({"kind": "reply", "id": request, "ok": False, "error": error.to_dict()})

    # -- jobs ---------------------------------------------------------------------------------

    def _spawn(self, key: str, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks[key] = task
        task.add_done_callback(functools.partial(self._task_done, key))

    def _task_done(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled() and task.exception() is not None:
            # Our coroutines handle their errors; reaching here is a bug, so say it loudly.
            error = task.exception()
            log.error("sora-widget task %s failed", key, exc_info=error)
        self._publish()

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
            record.error = _unexpected(error).to_dict()

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

    async def _send_video(self, request: str, job_id: str) -> None:
        record = self._records.get(job_id)
        try:
            if record is None or not record.video_path:
                raise InvalidParams("job", job_id, "a completed job of this widget")
            path = Path(record.video_path)
            size = (await asyncio.to_thread(path.stat)).st_size
            total = max(1, math.ceil(size / VIDEO_CHUNK_BYTES))
            with open(path, "rb") as f:  # noqa: ASYNC230 - chunks are small; we yield between them
                for index in range(total):
                    chunk = f.read(VIDEO_CHUNK_BYTES)
                    self.send(
                        {
                            "kind": "video_chunk",
                            "id": request,
                            "index": index,
                            "total": total,
                            "mime": "video/mp4",
                            "size": size,
                        },
                        buffers=[chunk],
                    )
                    await asyncio.sleep(0)  # let other kernel work through between chunks
        except OSError as error:
            self._reply_error(request, _unexpected(error, "the saved video could not be read"))

    async def _upload(self, request: str, data: bytes, mime: str, name: str) -> None:
        url = await self.client.upload_bytes(data, mime)
        self.input_reference = url
        self.reference_name = name
        self._reply(request, url=url)

    async def _use_emulator(self, request: str) -> None:
        await asyncio.to_thread(api.use_emulator)
        self.backend = self._backend()
        self._reply(request)

    # -- state for the view and the notebook ---------------------------------------------------

    def _backend(self) -> dict[str, Any]:
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
        """Send the jobs to the view and update the record output."""
        now = time.time()
        self.jobs = [self._job_view(r, now) for r in self._records.values()]
        self.jobs_clock_ms = now * 1000
        if self.mode == "batch":
            counts = tally(list(self._records.values()), self._finished, self._active)
            self.batch = {"id": self.batch.get("id"), **counts.to_dict()}
        if self._record_shown:
            from IPython.display import update_display

            update_display(record_bundle(self.generations), raw=True, display_id=self._display_id)

    def _job_view(self, record: Generation, now: float) -> dict[str, Any]:
        data = record.to_dict()
        status = record.status
        if self.mode == "batch" and status == "SUBMITTING" and record.submitted_at is None:
            status = "PENDING"  # not sent yet: waiting for its turn in the batch
        return {
            "id": record.id,
            "request_id": record.request_id,
            "status": status,
            "waiting": record.id in self._tasks or record.id in self._active,
            "detached": record.id in self._detached and record.id not in self._tasks,
            "params": data["params"],
            "reference_source": record.reference_source,
            "submitted_at": record.submitted_at,
            "completed_at": record.completed_at,
            "elapsed_s": record.elapsed_s(now),
            "expected_s": self._expected(record),
            "video_path": record.video_path,
            "filename": Path(record.video_path).name if record.video_path else None,
            "sha256": record.sha256,
            "bytes": record.bytes,
            "video": record.video,
            "error": record.error,
            "synthetic": record.synthetic,
            "reproduce": reproduce_code(record),
        }

    def _expected(self, record: Generation) -> float:
        try:
            return self.client.expected_seconds(record)
        except RuntimeError:  # no running loop (e.g. inspected from a thread)
            return 180.0


def reproduce_code(record: Generation) -> str:
    """The exact Python call that generates this clip again."""
    p = record.params
    args = [repr(p.prompt), f"duration={p.duration}", f"size={p.size!r}"]
    if p.input_reference:
        args.append(f"input_reference={p.input_reference!r}")
    lines = ["import sora_widget as sw", "", f"clip = sw.generate({', '.join(args)})"]
    if record.reference_source:
        lines.insert(2, f"# reference image uploaded from {record.reference_source}")
    return "\n".join(lines)


def _unexpected(error: BaseException, message: str | None = None) -> SoraError:
    text = message or f"unexpected {type(error).__name__}: {error}"
    wrapped = SoraError(text, detail="".join(traceback.format_exception_only(type(error), error)).strip())
    wrapped.hint = "This is a bug in sora-widget; the kernel log has the traceback. Please report it."
    return wrapped


__all__ = ["SoraWidget", "reproduce_code"]
