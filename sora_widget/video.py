"""Saved clips, read and made with PyAV (FFmpeg): their facts, a poster frame, the last
frame, and several clips joined into one film.

PyAV is imported inside each function: `import sora_widget` stays light, and a record
can be shown (without its poster) where PyAV cannot load.
"""

from __future__ import annotations

import contextlib
import functools
import os
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

#: a poster: a JPEG taken about a second in, at most this wide and this heavy
POSTER_AT_S = 1.0
POSTER_MAX_WIDTH = 320
POSTER_MAX_BYTES = 30_000

_CODECS = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc"}


class VideoError(Exception):
    """The file is not a video PyAV can read (or write)."""


def facts(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """{width, height, duration_s, codec, fps, frames, faststart} of the first video
    stream, or None when the file is not a video we can read."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            stream: Any = next(s for s in container.streams if s.type == "video")
            duration = _duration_s(container, stream)
            frames = stream.frames or _count_frames(container, stream)
            rate = stream.average_rate or stream.guessed_rate
            fps = round(float(rate), 3) if rate else (round(frames / duration, 3) if duration else None)
            return {
                "width": int(stream.codec_context.width),
                "height": int(stream.codec_context.height),
                "duration_s": round(duration, 3),
                "codec": _CODECS.get(stream.codec_context.name, stream.codec_context.name),
                "fps": fps,
                "frames": int(frames),
                "faststart": _moov_first(Path(path)),
            }
    except (av.error.FFmpegError, StopIteration, OSError, ValueError):
        return None


def _duration_s(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return 0.0


def _count_frames(container: Any, stream: Any) -> int:
    container.seek(0)
    return sum(1 for packet in container.demux(stream) if packet.size)


def _moov_first(path: Path) -> bool:
    """Whether the index (`moov`) comes before the media (`mdat`): a browser can then
    start playing before the whole file arrived. Reads only the top-level box headers."""
    with open(path, "rb") as f:
        while True:
            header = f.read(8)
            if len(header) < 8:
                return False
            size, kind = struct.unpack(">I4s", header)
            if kind in (b"moov", b"mdat"):
                return bool(kind == b"moov")
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            if size < 8:
                return False
            f.seek(size - 8, 1)


def poster_jpeg(
    path: str | os.PathLike[str],
    *,
    at_s: float = POSTER_AT_S,
    max_width: int = POSTER_MAX_WIDTH,
    max_bytes: int = POSTER_MAX_BYTES,
) -> bytes:
    """A JPEG of the frame about `at_s` seconds in (the last one of a shorter clip), at
    most `max_width` wide and `max_bytes` heavy (quality and size lowered until it fits)."""
    frame = _frame_near(path, at_s)
    width = min(max_width, frame.width)
    for quality in (6, 10, 16, 24, 31):  # mjpeg's qscale: higher is smaller and coarser
        data = _encode(frame, "mjpeg", width, quality)
        if len(data) <= max_bytes:
            return data
        width = max(64, int(width * 0.85))
    raise VideoError(f"no poster of {path} fits in {max_bytes} bytes")


@functools.lru_cache(maxsize=256)
def _cached_poster(path: str, mtime_ns: int, size: int) -> bytes:
    return poster_jpeg(path)


def poster_data_uri(path: str | os.PathLike[str]) -> str | None:
    """The poster as a `data:image/jpeg;base64,…` URI, or None when the file is not a
    readable regular video file. Cached by path, modification time and size."""
    import base64

    try:
        info = os.stat(path)
        if not _is_regular(info.st_mode):
            return None
        data = _cached_poster(os.fspath(path), info.st_mtime_ns, info.st_size)
    except (OSError, VideoError):
        return None
    except Exception:  # PyAV's own errors: a file that is not a video
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def last_frame_png(path: str | os.PathLike[str]) -> bytes:
    """The clip's last decoded frame, exactly, as a PNG (lossless): what the next shot of
    a storyboard starts from."""
    import av

    last: Any = None
    try:
        with av.open(os.fspath(path)) as container:
            for frame in container.decode(video=0):
                last = frame
    except (av.error.FFmpegError, StopIteration, OSError) as error:
        raise VideoError(f"{path} is not a video that can be read: {error}") from error
    if last is None:
        raise VideoError(f"{path} holds no video frame")
    return _encode(last, "png", last.width, None)


def _frame_near(path: str | os.PathLike[str], at_s: float) -> Any:
    import av

    chosen: Any = None
    try:
        with av.open(os.fspath(path)) as container:
            for frame in container.decode(video=0):
                chosen = frame
                if frame.time is not None and frame.time >= at_s:
                    break
    except (av.error.FFmpegError, StopIteration, OSError) as error:
        raise VideoError(f"{path} is not a video that can be read: {error}") from error
    if chosen is None:
        raise VideoError(f"{path} holds no video frame")
    return chosen


def _encode(frame: Any, codec: str, width: int, quality: int | None) -> bytes:
    import av

    height = max(2, round(frame.height * width / frame.width / 2) * 2)
    width = max(2, width // 2 * 2)
    context: Any = av.CodecContext.create(codec, "w")
    context.width, context.height = width, height
    context.pix_fmt = "yuvj420p" if codec == "mjpeg" else "rgb24"
    context.time_base = Fraction(1, 25)
    if quality is not None:
        context.options = {"qmin": str(quality), "qmax": str(quality)}
    image = frame.reformat(width=width, height=height, format=context.pix_fmt)
    packets = [*context.encode(image), *context.encode(None)]
    return b"".join(bytes(p) for p in packets)


@dataclass(frozen=True)
class Film:
    path: Path
    duration_s: float
    width: int
    height: int
    #: "copy" when every clip could be joined as it is, else "encode"
    how: str


def stitch(
    clips: Sequence[str | os.PathLike[str]], dest: str | os.PathLike[str], *, crossfade: float = 0.0
) -> Film:
    """One MP4 of `clips` in order, written atomically to `dest`. Streams are copied when
    codec, size and time base match and there is no crossfade; otherwise re-encoded
    (H.264, yuv420p). Every clip must have the same size (`ValueError` names the odd one)."""
    paths = [Path(c) for c in clips]
    if len(paths) < 1:
        raise ValueError("stitch needs at least one clip")
    described = [facts(p) for p in paths]
    for path, known in zip(paths, described, strict=True):
        if known is None:
            raise VideoError(f"{path} is not a video that can be read")
    sizes = [(d["width"], d["height"]) for d in described if d]
    for index, (path, size) in enumerate(zip(paths, sizes, strict=True)):
        if size != sizes[0]:
            raise ValueError(
                f"clips[{index}] ({path.name}) is {size[0]}x{size[1]}, the first is "
                f"{sizes[0][0]}x{sizes[0][1]}: a film's clips must share one size"
            )
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        if crossfade <= 0 and _same_encoding(paths):
            _copy_streams(paths, temp)
            how = "copy"
        else:
            _reencode(paths, temp, crossfade)
            how = "encode"
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    film = facts(target)
    assert film is not None
    return Film(target, film["duration_s"], film["width"], film["height"], how)


def _same_encoding(paths: Sequence[Path]) -> bool:
    import av

    seen = set()
    for path in paths:
        with av.open(os.fspath(path)) as container:
            if any(s.type == "audio" for s in container.streams):
                return False  # our clips are silent; joining sound is a re-encode's job
            stream: Any = container.streams.video[0]
            ctx = stream.codec_context
            extradata = bytes(ctx.extradata or b"")
            seen.add((ctx.name, ctx.width, ctx.height, ctx.pix_fmt, stream.time_base, extradata))
    return len(seen) == 1


def _copy_streams(paths: Sequence[Path], dest: str) -> None:
    import av

    with av.open(os.fspath(paths[0])) as first:
        template = first.streams.video[0]
        with av.open(dest, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream_from_template(template)
            offset = 0
            for path in paths:
                with av.open(os.fspath(path)) as container:
                    source = container.streams.video[0]
                    last_end = offset
                    for packet in container.demux(source):
                        if packet.dts is None:
                            continue
                        packet.stream = stream
                        packet.pts = (packet.pts or 0) + offset
                        packet.dts = packet.dts + offset
                        last_end = max(last_end, packet.pts + (packet.duration or 0))
                        out.mux(packet)
                    offset = last_end


def _reencode(paths: Sequence[Path], dest: str, crossfade: float) -> None:
    import av
    import numpy as np

    with av.open(os.fspath(paths[0])) as first:
        source = first.streams.video[0]
        width, height = source.codec_context.width, source.codec_context.height
        rate = source.average_rate or Fraction(24)
    fade_frames = max(0, round(crossfade * float(rate)))
    with av.open(dest, "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        tail: list[Any] = []  # the previous clip's last frames, faded into the next clip's first
        index = 0

        def emit(image: Any) -> None:
            nonlocal index
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            index += 1
            for packet in stream.encode(frame):
                out.mux(packet)

        for number, path in enumerate(paths):
            with av.open(os.fspath(path)) as container:
                frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
            if number > 0 and tail:
                overlap = min(len(tail), len(frames))
                for k in range(overlap):
                    weight = (k + 1) / (overlap + 1)
                    emit((tail[k] * (1 - weight) + frames[k] * weight).astype(np.uint8))
                frames = frames[overlap:]
            keep = fade_frames if number < len(paths) - 1 else 0
            body, tail = (frames[:-keep], frames[-keep:]) if keep and len(frames) > keep else (frames, [])
            for image in body:
                emit(image)
        for image in tail:
            emit(image)
        for packet in stream.encode(None):
            out.mux(packet)
