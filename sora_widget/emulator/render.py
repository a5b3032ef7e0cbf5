"""Encoding a scene into a browser-playable MP4 file.

H.264 in yuv420p (24 fps unless configured) with, unless asked for a silent clip, a
stereo AAC-LC sound track at 48 kHz as long as the picture (`sound.py`). Two layouts:
"web" (the default) puts the moov atom first (`+faststart`) so a `<video>` can start
playing before the whole file arrived, and has no B-frames; "camera" writes files the
way cameras, phones and most encoders (Sora's own included) do: moov at the end, and
B-frames, so pictures are stored out of display order. faststart rewrites the file after
encoding, so the muxer needs a real, seekable file — never a BytesIO. The bytes are
a pure function of the parameters, the reference, the sound and the encoder settings
(fixed thread count included), which is what makes renders cacheable and testable.

`av`, numpy and Pillow are imported inside the functions: the job store imports this
module for `VideoFile` and must stay importable without the `emulator` extra.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._files import file_sha256
from ..params import DEFAULT_MODEL, Request
from .config import DEFAULT_FPS, LAYOUTS

if TYPE_CHECKING:
    from .scene import Reference

#: bump when the picture or the encoding changes, so cached files are not reused
#: (2: the model is named on screen; 3: frames drawn in YUV; 5: sound, layouts)
RENDER_VERSION = 5
#: B-frames between references in the "camera" layout (x264's default)
CAMERA_B_FRAMES = 3


class RenderCancelled(Exception):
    """The emulator is stopping; the half-written file was removed."""


@dataclass(frozen=True)
class VideoFile:
    path: Path
    size: int
    sha256: str
    #: seconds the render took (when it was cached, the time it took back then)
    render_s: float

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}"'


@dataclass(frozen=True)
class EncoderSettings:
    preset: str = "ultrafast"
    threads: int = 2
    fps: int = DEFAULT_FPS
    #: "web" (moov first, no B-frames) or "camera" (moov at the end, B-frames)
    layout: str = "web"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")


def render_key(
    params: Request,
    reference: Reference,
    encoder: EncoderSettings,
    model: str = DEFAULT_MODEL,
    *,
    sound: bool = True,
) -> str:
    """The cache key: everything the bytes depend on (the model is drawn on screen)."""
    fields = params.to_dict()
    if params.input_reference is not None:
        # a data URI can be megabytes: its digest identifies it just as well
        fields["input_reference"] = hashlib.sha256(params.input_reference.encode()).hexdigest()
    identity = {
        "version": RENDER_VERSION,
        "model": model,
        "params": fields,
        "reference": reference.fingerprint(),
        "encoder": [encoder.preset, encoder.threads, encoder.layout],
        "sound": sound,
    }
    if encoder.fps != DEFAULT_FPS:  # keys of default-rate renders stay those cached before
        identity["fps"] = encoder.fps
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:40]


def render_video(
    params: Request,
    reference: Reference,
    path: Path,
    *,
    encoder: EncoderSettings | None = None,
    cancelled: threading.Event | None = None,
    model: str = DEFAULT_MODEL,
    sound: bool = True,
) -> VideoFile:
    """Render the clip to `path` (atomically: a partial file never has that name), with
    its sound unless `sound` is False."""
    import av

    from .scene import Scene
    from .sound import Soundtrack

    encoder = encoder or EncoderSettings()
    started = time.perf_counter()
    scene = Scene(params, reference, model=model, fps=encoder.fps)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    options = {"movflags": "+faststart"} if encoder.layout == "web" else {}
    try:
        with av.open(str(partial), "w", format="mp4", options=options) as container:
            stream = container.add_stream("libx264", rate=encoder.fps)
            stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
            stream.codec_context.thread_count = encoder.threads
            # a keyframe every second keeps seeking in the browser snappy
            stream.codec_context.gop_size = encoder.fps
            if encoder.layout == "camera":
                stream.codec_context.max_b_frames = CAMERA_B_FRAMES
            stream.options = {"preset": encoder.preset, "crf": "26"}
            track = Soundtrack(container, params.prompt, scene.frames / encoder.fps) if sound else None
            for index in range(scene.frames):
                if cancelled is not None and cancelled.is_set():
                    raise RenderCancelled()
                frame = av.VideoFrame.from_ndarray(scene.frame(index), format="yuv420p")
                frame.pts = index
                container.mux(stream.encode(frame))
                if track is not None:  # the sound of this frame's time, interleaved with it
                    container.mux(list(track.packets_until((index + 1) / encoder.fps)))
            container.mux(stream.encode(None))
            if track is not None:
                container.mux(list(track.packets_until(float("inf"))))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return describe(path, render_s=time.perf_counter() - started)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file under its final name only once complete: several emulators (in
    tests, or several processes given one `data_dir`) may share a cache directory."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def describe(path: Path, *, render_s: float) -> VideoFile:
    digest, size = file_sha256(path)
    return VideoFile(path=path, size=size, sha256=digest, render_s=render_s)
