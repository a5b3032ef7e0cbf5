"""The running emulator's state, bound to one event loop: the job store, the renders it
starts, the timer that moves jobs along, and everything the stats endpoint reports.

The HTTP layer asks; this module decides. `tick()` brings the job store up to the
present and starts the renders of jobs that just began PROCESSING; the driver task
calls it whenever the next thing is due, and request handlers call it before they
answer, so a status is exact to the millisecond rather than to the timer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._version import __version__
from ..params import DEFAULT_MODEL, Request, decode_data_uri, reference_kind
from .assets import AssetStore
from .cache import RenderCache
from .catalogue import listing
from .chaos import Chaos
from .config import EmulatorConfig
from .history import RequestHistory
from .jobs import TERMINAL, Job, JobStore
from .ratelimit import RateLimiter
from .render import EncoderSettings, RenderCancelled
from .scene import Reference
from .traffic import Traffic

log = logging.getLogger("sora_widget.emulator")


class Runtime:
    def __init__(self, config: EmulatorConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._own_dir = config.data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="sora-emulator-")) if config.data_dir is None else config.data_dir
        )
        self.store = JobStore(config, clock)
        self.cache = RenderCache(
            self.data_dir / "renders",
            encoder=EncoderSettings(config.encoder_preset, config.encoder_threads, config.fps, config.layout),
            threads=config.render_threads,
        )
        self.assets = AssetStore(self.data_dir / "assets")
        self.chaos = Chaos(config)
        self.limiter = RateLimiter(config.rate_limit, clock)
        self.traffic = Traffic()
        #: every request of every key, as the request-history endpoints list them
        self.history = RequestHistory()
        self._waiters: dict[str, list[asyncio.Future[Job]]] = {}
        self._renders: set[asyncio.Task[None]] = set()
        self._driver: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._closed = False

    # -- configuration ---------------------------------------------------------------------

    def configure(self, changes: dict[str, Any]) -> EmulatorConfig:
        config = self.config.patched(changes)
        self.config = config
        self.store.configure(config)
        self.chaos.configure(config)
        self.limiter.configure(config.rate_limit)
        self.tick()  # more workers or a shorter retention take effect now
        return config

    # -- jobs ------------------------------------------------------------------------------

    def submit(
        self,
        params: Request,
        *,
        kind: str = "async",
        model: str = DEFAULT_MODEL,
        owner: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Job:
        """Accept a job of `model` (raises `OutOfCredits`). `owner`: the digest of the key
        that asked (`history.key_digest`), whose request history lists it with `body`, the
        inputs as sent."""
        job = self.store.submit(params, kind=kind, model=model)
        if owner is not None:
            self.history.add(job, owner=owner, body=body if body is not None else params.payload())
        log.debug(
            "job %s accepted (%s, %s, %ss %s)", job.request_id, kind, model, params.duration, params.size
        )
        self.tick()
        return job

    def job(self, request_id: str) -> Job | None:
        self.tick()
        return self.store.get(request_id)

    def output_job(self, request_id: str) -> Job | None:
        """The job whose output still answers (also past `retention`, within `output_retention`)."""
        self.tick()
        return self.store.output(request_id, self.clock())

    async def finished(self, job: Job) -> Job:
        """Wait until `job` is COMPLETED or FAILED."""
        self.tick()
        if job.status in TERMINAL:
            return job
        waiter: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job.request_id, []).append(waiter)
        return await waiter

    def tick(self) -> None:
        self.ensure_running()
        self._advance()
        if self._wake is not None:
            self._wake.set()  # the next due time may have moved: let the driver look again

    def _advance(self) -> None:
        events = self.store.advance()
        for job in events.started:
            self._begin(job)
        for job in events.finished:
            log.debug("job %s %s", job.request_id, job.status)
            for waiter in self._waiters.pop(job.request_id, []):
                if not waiter.done():
                    waiter.set_result(job)
        for job in events.forgotten:
            self.traffic.forget(job.request_id)

    def _begin(self, job: Job) -> None:
        if job.failure is not None:
            # a blocked prompt is refused by "moderation": there is nothing to render
            self.store.mark_ready(job.request_id, None, self.clock())
            return
        task = asyncio.get_running_loop().create_task(self._render(job))
        self._renders.add(task)
        task.add_done_callback(self._renders.discard)

    async def _render(self, job: Job) -> None:
        try:
            reference = self.reference_for(job.params)
            # sound where the model makes it (Sora always; Veo and Seedance as asked)
            sound = self.config.audio and job.params.makes_sound
            video = await self.cache.get(_shaped(job.params, reference), reference, job.model, sound=sound)
        except (RenderCancelled, asyncio.CancelledError):
            raise
        except Exception as error:  # any render bug must end the job, not hang it
            log.exception("render of job %s failed", job.request_id)
            self.store.mark_broken(job.request_id, f"internal error while rendering: {error}", self.clock())
        else:
            self.store.mark_ready(job.request_id, video, self.clock())
        self.tick()

    def reference_for(self, params: Request) -> Reference:
        """The image to draw for `input_reference`; external URLs are never fetched."""
        value = params.input_reference
        if value is None:
            return Reference()
        if reference_kind(value) == "data":
            return Reference(image=decode_data_uri(value)[1])
        image = self.assets.image_for(value)
        if image is not None:
            return Reference(image=image)
        return Reference(note=f"reference: {urlsplit(value).hostname or value[:40]}")

    # -- the timer -------------------------------------------------------------------------

    def ensure_running(self) -> None:
        """Start the driver on the current loop (first request, or server start-up)."""
        if self._driver is None and not self._closed:
            self._wake = asyncio.Event()
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def _drive(self) -> None:
        assert self._wake is not None
        while not self._closed:
            self._wake.clear()
            self._advance()
            due = self.store.next_event_at()
            timeout = None if due is None else max(0.0, due - self.clock()) + 0.001
            # asyncio.wait, not wait_for: on 3.10/3.11 wait_for can swallow a cancel that
            # arrives as the event fires, and the driver would then never stop
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait([woken], timeout=timeout)
            finally:
                woken.cancel()

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t for t in (self._driver, *self._renders) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self.cache.close)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- reporting -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        self.tick()
        jobs = self.store.history()
        return {
            "version": __version__,
            "models": listing(self.config),
            **self.traffic.snapshot(),
            "submits": sum(1 for job in jobs if job.kind == "async"),
            "syncs": sum(1 for job in jobs if job.kind == "sync"),
            "jobs": {job.request_id: job.describe() for job in jobs},
            "chaos": self.chaos.counts(),
            "credits": self.store.credits,
            "history_rows": len(self.history),
            "renders": {"rendered": self.cache.renders, "cache_hits": self.cache.hits},
            "assets": len(self.assets),
            "config": self.config.public(),
        }


def _shaped(params: Request, reference: Reference) -> Request:
    """A request whose clip takes its first frame's shape (an image-to-video model) gets
    the size of that shape: landscape or portrait, as the image is (landscape when the
    image cannot be read)."""
    if params.size is not None:
        return params
    landscape = True
    if reference.image is not None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(reference.image)) as image:
                landscape = image.width >= image.height
        except (UnidentifiedImageError, OSError, ValueError):
            pass
    return dataclasses.replace(params, size="1280x720" if landscape else "720x1280")
