"""Renders, each done once: same parameters → same file, even when asked concurrently.

Rendering runs on a small thread pool so the event loop keeps answering status polls
while frames are encoded. A file already in the cache directory (a persistent
`data_dir`) is reused across runs, with its original render time kept beside it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..params import DEFAULT_MODEL, Request
from .render import EncoderSettings, VideoFile, describe, render_key, render_video, write_atomic
from .scene import Reference


class RenderCache:
    def __init__(self, directory: Path, *, encoder: EncoderSettings, threads: int) -> None:
        self.directory = directory
        self.encoder = encoder
        directory.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sora-emulator-render")
        self._cancelled = threading.Event()
        self._done: dict[str, VideoFile] = {}
        self._pending: dict[str, asyncio.Task[VideoFile]] = {}
        self.renders = 0
        self.hits = 0

    async def get(
        self,
        params: Request,
        reference: Reference,
        model: str = DEFAULT_MODEL,
        *,
        sound: bool = True,
    ) -> VideoFile:
        """The clip of these parameters, with a sound track unless `sound` is False."""
        key = render_key(params, reference, self.encoder, model, sound=sound)
        video = self._done.get(key)
        if video is not None:
            self.hits += 1
            return video
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._produce(key, params, reference, model, sound))
            self._pending[key] = task
        else:
            self.hits += 1
        # shielded: one waiter giving up must not cancel the render the others wait for
        return await asyncio.shield(task)

    async def _produce(
        self, key: str, params: Request, reference: Reference, model: str, sound: bool
    ) -> VideoFile:
        try:
            loop = asyncio.get_running_loop()
            video, rendered = await loop.run_in_executor(
                self._pool, self._load_or_render, key, params, reference, model, sound
            )
            self.renders += rendered
            self._done[key] = video
            return video
        finally:
            self._pending.pop(key, None)

    def _load_or_render(
        self, key: str, params: Request, reference: Reference, model: str, sound: bool
    ) -> tuple[VideoFile, bool]:
        """The video, and whether it had to be rendered (rather than found on disk)."""
        path = self.directory / f"{key}.mp4"
        sidecar = path.with_suffix(".json")
        if path.exists() and sidecar.exists():
            return describe(path, render_s=float(json.loads(sidecar.read_text())["render_s"])), False
        video = render_video(
            params, reference, path, encoder=self.encoder, cancelled=self._cancelled, model=model, sound=sound
        )
        write_atomic(sidecar, json.dumps({"render_s": video.render_s}).encode())
        return video, True

    def close(self) -> None:
        """Stop rendering: running renders abort at their next frame."""
        self._cancelled.set()
        for task in self._pending.values():
            task.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
