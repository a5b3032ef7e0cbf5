"""Saved clips, read and made with PyAV (FFmpeg): their facts (sound included), a poster
frame, the last frame, and several clips joined into one film (`_film` does the joining).

Everything streams: a poster decodes a bounded number of frames near its moment, the last
frame is found from the last keyframe on, and a film is made a packet or a frame at a
time, so memory never grows with a clip's length.

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
#: a poster decodes at most this many frames (from the keyframe before its moment) and
#: reads at most this many packets, of a picture no larger than this: a crafted clip of
#: thousands of frames stamped before its moment costs no more than an honest one
POSTER_MAX_FRAMES = 30
POSTER_MAX_PACKETS = 240
POSTER_MAX_PIXELS = 4096 * 2304

_CODECS = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc"}


class VideoError(Exception):
    """The file is not a video PyAV can read (or write)."""


def facts(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """{width, height, duration_s, codec, fps, frames, faststart, audio} of the first
    video stream, or None when the file is not a video we can read. `audio` is
    {codec, channels, sample_rate, duration_s} of the first sound stream, None when the
    clip is silent."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            stream: Any = next(s for s in container.streams if s.type == "video")
            sound: Any = next((s for s in container.streams if s.type == "audio"), None)
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
                "audio": None if sound is None else _audio_facts(container, sound),
            }
    except (av.error.FFmpegError, StopIteration, OSError, ValueError):
        return None


def _audio_facts(container: Any, stream: Any) -> dict[str, Any]:
    ctx = stream.codec_context
    return {
        "codec": ctx.name,
        "channels": int(ctx.channels),
        "sample_rate": int(ctx.sample_rate),
        "duration_s": round(_duration_s(container, stream), 3),
    }


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
    """The clip's last displayed frame, exactly, as a PNG (lossless): what the next shot
    of a storyboard starts from. Decoded from the last keyframe on; the frame shown last
    is the one with the latest time (with B-frames, not the last packet of the file)."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            stream: Any = container.streams.video[0]
            last = _latest_frame(container, stream, from_end=True)
            if last is None:  # the seek found nothing to decode: read the whole clip
                container.seek(0)
                last = _latest_frame(container, stream, from_end=False)
    except (av.error.FFmpegError, IndexError, OSError) as error:
        raise VideoError(f"{path} is not a video that can be read: {error}") from error
    if last is None:
        raise VideoError(f"{path} holds no video frame")
    return _encode(last, "png", last.width, None)


def _latest_frame(container: Any, stream: Any, *, from_end: bool) -> Any:
    """The frame with the latest presentation time from here on (one frame held)."""
    import av

    if from_end:
        try:
            if stream.duration is not None:
                container.seek((stream.start_time or 0) + stream.duration, stream=stream, backward=True)
            elif container.duration is not None:
                container.seek(container.duration, backward=True)
            else:
                return None
        except av.error.FFmpegError:
            return None
    latest: Any = None
    for count, frame in enumerate(container.decode(stream)):
        at = frame.pts if frame.pts is not None else count
        if latest is None or at >= latest[0]:
            latest = (at, frame)
    return None if latest is None else latest[1]


def _frame_near(path: str | os.PathLike[str], at_s: float) -> Any:
    """The first frame at or after `at_s` (the last one before it when the clip is
    shorter), decoding from the keyframe before it and at most POSTER_MAX_FRAMES frames."""
    import av

    chosen: Any = None
    try:
        with av.open(os.fspath(path)) as container:
            stream: Any = container.streams.video[0]
            ctx = stream.codec_context
            if ctx.width * ctx.height > POSTER_MAX_PIXELS:
                raise VideoError(f"{path} is {ctx.width}x{ctx.height}: too large for a poster")
            if at_s > 0 and stream.time_base:
                with contextlib.suppress(av.error.FFmpegError):
                    container.seek(
                        (stream.start_time or 0) + int(at_s / stream.time_base), stream=stream, backward=True
                    )
            decoded = 0
            for packets, packet in enumerate(container.demux(stream)):
                if packets >= POSTER_MAX_PACKETS:
                    break
                for frame in packet.decode():
                    chosen, decoded = frame, decoded + 1
                    if decoded >= POSTER_MAX_FRAMES or (frame.time is not None and frame.time >= at_s):
                        return chosen
    except (av.error.FFmpegError, IndexError, OSError) as error:
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
    #: seconds of sound, None for a silent film
    audio_s: float | None = None


def stitch(
    clips: Sequence[str | os.PathLike[str]], dest: str | os.PathLike[str], *, crossfade: float = 0.0
) -> Film:
    """One MP4 of `clips` in order, written atomically to `dest`, with their sound.

    Packets are copied when every clip's pictures and sound are encoded alike (all
    silent, or all with the same sound encoding) and there is no crossfade; otherwise
    both are re-encoded (H.264 yuv420p; AAC-LC stereo 48 kHz when any clip has sound,
    a silent clip's part being silence). A crossfade fades pictures and sound over the
    same frames. Every clip must have the same size (`ValueError` names the odd one)."""
    from . import _film

    paths = [Path(c) for c in clips]
    if len(paths) < 1:
        raise ValueError("stitch needs at least one clip")
    described = [facts(p) for p in paths]
    known: list[dict[str, Any]] = []
    for path, found in zip(paths, described, strict=True):
        if found is None:
            raise VideoError(f"{path} is not a video that can be read")
        known.append(found)
    sizes = [(d["width"], d["height"]) for d in known]
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
        how = "encode"
        if crossfade <= 0 and _film.copyable(paths):
            try:
                _film.copy_streams(paths, temp)
                how = "copy"
            except (ValueError, _ffmpeg_error()):
                pass  # timestamps a muxer refuses (an odd file): encoding again always works
        if how == "encode":
            try:
                _film.reencode(paths, temp, crossfade, [d["duration_s"] for d in known])
            except (ValueError, _ffmpeg_error()) as error:  # a clip PyAV reads but cannot decode
                raise VideoError(f"the clips could not be joined: {error}") from error
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    film = facts(target)
    if film is None:
        raise VideoError(f"the film written to {target} cannot be read back")
    sound = film["audio"]
    return Film(
        target, film["duration_s"], film["width"], film["height"], how, sound["duration_s"] if sound else None
    )


def _ffmpeg_error() -> type[Exception]:
    import av

    error: type[Exception] = av.error.FFmpegError
    return error
