"""Joining clips into one film, streamed: packets copied, or frames decoded, faded and
encoded one at a time — pictures and sound together — so memory holds at most a
crossfade's worth of decoded pictures, however long the clips are.

`video.stitch` decides which way and writes the file atomically; this module does the
joining. PyAV is imported inside the functions, as in `video`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

#: the film's sound when it is re-encoded: AAC-LC, stereo, 48 kHz (what browsers and Sora use)
SAMPLE_RATE = 48_000
LAYOUT = "stereo"
AUDIO_BIT_RATE = 128_000
#: samples in one AAC frame: the encoder takes them by this many
_AAC_FRAME = 1024
#: the film's frame rate when the first clip does not say
_DEFAULT_RATE = Fraction(24)


# -- copy -------------------------------------------------------------------------------------


def encoding(path: Path) -> tuple[Any, ...]:
    """What must match for packets to be copied: the video encoding, and the sound's (or
    None for a silent clip) when it lasts as long as the picture (within an AAC frame)."""
    import av

    with av.open(os.fspath(path)) as container:
        stream: Any = container.streams.video[0]
        pictures = _codec_facts(stream, "name", "width", "height", "pix_fmt")
        sound = None
        if container.streams.audio:
            audio: Any = container.streams.audio[0]
            facts = _codec_facts(audio, "name", "sample_rate", "channels")
            sound = (*facts, _lasts_as_long(stream, audio))
        return pictures, sound


def _codec_facts(stream: Any, *names: str) -> tuple[Any, ...]:
    """The named codec settings of `stream`, its time base and its codec's private data
    (SPS/PPS, AudioSpecificConfig): packets copy only between streams equal in all."""
    ctx = stream.codec_context
    return (*(getattr(ctx, name) for name in names), stream.time_base, bytes(ctx.extradata or b""))


def _lasts_as_long(video: Any, audio: Any) -> bool:
    """Whether the sound ends with the picture, within one AAC frame: copied clips are
    placed one after the other by their picture, and a sound track cannot hold a gap."""
    if video.duration is None or audio.duration is None or not audio.codec_context.sample_rate:
        return False
    picture_s = float(video.duration * video.time_base)
    sound_s = float(audio.duration * audio.time_base)
    return abs(picture_s - sound_s) <= _AAC_FRAME / int(audio.codec_context.sample_rate)


def copyable(paths: Sequence[Path]) -> bool:
    """Every clip encoded alike, pictures and sound (silent and sounded clips do not mix)."""
    seen = {encoding(path) for path in paths}
    return len(seen) == 1 and all(sound is None or sound[-1] for _, sound in seen)


def copy_streams(paths: Sequence[Path], dest: str) -> None:
    """Join by copying packets: each clip starts where the previous clip's picture ends,
    its sound too. A later clip's AAC priming packet (before its time 0) and any sound
    past its picture are left out, so the sound stays in step with the picture."""
    import av

    with av.open(os.fspath(paths[0])) as first:
        templates = [first.streams.video[0], *first.streams.audio[:1]]
        with av.open(dest, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            outputs = [out.add_stream_from_template(t) for t in templates]
            offset = Fraction(0)  # where the clip starts in the film, in seconds
            for number, path in enumerate(paths):
                with av.open(os.fspath(path)) as container:
                    sources: list[Any] = [container.streams.video[0], *container.streams.audio[:1]]
                    picture = sources[0]
                    length = Fraction(picture.duration or 0) * picture.time_base
                    end = offset
                    for packet in container.demux(*sources):
                        if packet.dts is None or packet.pts is None:
                            continue
                        tb = packet.stream.time_base
                        if packet.stream.type == "audio":
                            if (number > 0 and packet.pts < 0) or (length and packet.pts * tb >= length):
                                continue
                            packet.stream = outputs[1]
                        else:
                            packet.stream = outputs[0]
                            end = max(end, offset + (packet.pts + (packet.duration or 0)) * tb)
                        shift = round(offset / tb)
                        packet.pts += shift
                        packet.dts += shift
                        out.mux(packet)
                    offset = end


# -- re-encode --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    path: Path
    #: the film's frames this clip fills, at the film's rate
    frames: int
    #: frames shared with the next clip (faded into it); 0 for the last
    fade_out: int


def _plan(paths: Sequence[Path], durations: Sequence[float], rate: Fraction, crossfade: float) -> list[_Part]:
    """How many film frames each clip fills and how many it shares with the next: a fade
    never takes more of a clip than is left after the fade into it."""
    counts = [max(1, round(Fraction(d) * rate)) for d in durations]
    wanted = max(0, round(Fraction(crossfade) * rate)) if crossfade > 0 else 0
    parts, fade_in = [], 0
    for index, (path, count) in enumerate(zip(paths, counts, strict=True)):
        fade_out = 0 if index == len(paths) - 1 else min(wanted, count - fade_in, counts[index + 1])
        parts.append(_Part(path, count, fade_out))
        fade_in = fade_out
    return parts


def reencode(paths: Sequence[Path], dest: str, crossfade: float, durations: Sequence[float]) -> None:
    """Join by decoding and encoding again: H.264 (yuv420p) and, when any clip has sound,
    AAC-LC stereo 48 kHz. Clips are placed on the first clip's frame rate; a crossfade
    blends the pictures linearly and the sound with equal power over the same frames; a
    silent clip among sounded ones contributes silence as long as its picture."""
    import av

    with av.open(os.fspath(paths[0])) as first:
        source: Any = first.streams.video[0]
        width, height = source.codec_context.width, source.codec_context.height
        rate = Fraction(source.average_rate or source.guessed_rate or _DEFAULT_RATE)
    sounded = []
    for path in paths:
        with av.open(os.fspath(path)) as container:
            sounded.append(bool(container.streams.audio))
    parts = _plan(paths, durations, rate, crossfade)
    with av.open(dest, "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream: Any = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        pictures = _Pictures(out, stream)
        sound = _Sound(out, rate) if any(sounded) else None
        fade_in = 0
        for part, has_sound in zip(parts, sounded, strict=True):
            pictures.begin(part.frames, fade_in, part.fade_out)
            if sound is not None:
                sound.begin(pictures.start, part.frames, fade_in, part.fade_out)
            _decode_into(part.path, pictures, sound if has_sound else None)
            pictures.end()
            if sound is not None:
                sound.end()
            fade_in = part.fade_out
        pictures.finish()
        if sound is not None:
            sound.finish()


def _decode_into(path: Path, pictures: _Pictures, sound: _Sound | None) -> None:
    """Feed one clip's frames to `pictures` (and its sound to `sound`) in file order,
    stopping once both have what they need."""
    import av

    with av.open(os.fspath(path)) as container:
        video: Any = container.streams.video[0]
        audio: Any = container.streams.audio[0] if sound is not None and container.streams.audio else None
        resampler = av.AudioResampler(format="fltp", layout=LAYOUT, rate=SAMPLE_RATE) if audio else None
        start = float((video.start_time or 0) * video.time_base) if video.time_base else 0.0
        pictures.origin = start
        for packet in container.demux(*[s for s in (video, audio) if s is not None]):
            if packet.stream.type == "video":
                if pictures.full:
                    continue
                for frame in packet.decode():
                    pictures.add(frame)
            elif sound is not None and resampler is not None and not sound.full:
                for frame in packet.decode():
                    for resampled in resampler.resample(frame):
                        sound.add(resampled.to_ndarray(), resampled.time, start)
            if pictures.full and (sound is None or audio is None or sound.full):
                break


class _Pictures:
    """The film's picture: each clip's frames placed on the film's frame grid (the latest
    frame shown at each tick), the first `fade_in` blended with the previous clip's held
    last frames, its own last `fade_out` held for the next clip. Holds at most one
    decoded frame plus the fade's frames."""

    def __init__(self, out: Any, stream: Any) -> None:
        self.out, self.stream = out, stream
        self.rate = Fraction(stream.codec_context.framerate or stream.average_rate or _DEFAULT_RATE)
        #: the film frame the current clip starts at
        self.start = 0
        #: the current clip's time 0, in seconds (its first frame is shown there)
        self.origin = 0.0
        self._written = 0
        self._held: list[Any] = []  # the previous clip's last frames (yuv420p arrays)
        self._holding: list[Any] = []
        self._frames = self._fade_in = self._fade_out = self._next = 0
        self._current: Any = None

    def begin(self, frames: int, fade_in: int, fade_out: int) -> None:
        self.start = self._written  # the previous clip's held frames are not written yet
        self._frames, self._fade_in, self._fade_out = frames, fade_in, fade_out
        self._next, self._current = 0, None

    @property
    def full(self) -> bool:
        return self._next >= self._frames

    def add(self, frame: Any) -> None:
        at = float(frame.time) - self.origin if frame.time is not None else self._next / self.rate
        if self._current is None:
            self._current = frame
        # film frames whose tick comes before this frame (by half a frame) show the previous one
        while not self.full and (self._next + Fraction(1, 2)) / self.rate <= at:
            self._place(self._current)
        self._current = frame

    def end(self) -> None:
        if self._current is None:
            raise ValueError("a clip holds no picture")
        while not self.full:
            self._place(self._current)
        self._current = None
        self._held, self._holding = self._holding, []

    def _place(self, frame: Any) -> None:
        import numpy as np

        index = self._next
        self._next += 1
        image = frame.to_ndarray(format="yuv420p")
        if index < self._fade_in:
            weight = round(256 * (index + 1) / (self._fade_in + 1))
            old = self._held[index].astype(np.uint16)
            image = ((old * (256 - weight) + image.astype(np.uint16) * weight) >> 8).astype(np.uint8)
            self._held[index] = None  # let it go as soon as it is used
        if index >= self._frames - self._fade_out:
            self._holding.append(image)
        else:
            self._write(image)

    def _write(self, image: Any) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
        frame.pts = self._written
        self._written += 1
        self.out.mux(self.stream.encode(frame))

    def finish(self) -> None:
        for image in self._held:
            if image is not None:
                self._write(image)
        self._held = []
        self.out.mux(self.stream.encode(None))


class _Sound:
    """The film's sound on the picture's clock: a clip's samples fill exactly the film
    frames its picture fills (cut or padded with silence), the first ones mixed with the
    previous clip's held last ones (equal power), its own last ones held for the next."""

    def __init__(self, out: Any, rate: Fraction) -> None:
        self.out = out
        self.stream: Any = out.add_stream("aac", rate=SAMPLE_RATE)
        self.stream.codec_context.layout = LAYOUT
        self.stream.codec_context.bit_rate = AUDIO_BIT_RATE
        self.rate = rate
        self._pending: list[Any] = []  # samples not yet a whole AAC frame, (2, n) arrays
        self._pending_n = 0
        self._written = 0
        self._held: Any = None  # the previous clip's last samples
        self._holding: list[Any] = []
        self._length = self._fade_in = self._fade_out = self._filled = 0
        self._started = False

    def _sample_at(self, frame: int) -> int:
        return round(frame * SAMPLE_RATE / self.rate)

    def begin(self, start: int, frames: int, fade_in: int, fade_out: int) -> None:
        first = self._sample_at(start)
        self._length = self._sample_at(start + frames) - first
        self._fade_in = self._sample_at(start + fade_in) - first
        self._fade_out = self._sample_at(start + frames) - self._sample_at(start + frames - fade_out)
        self._filled = 0
        self._started = False

    @property
    def full(self) -> bool:
        return self._filled >= self._length

    def add(self, samples: Any, at: float | None, origin: float) -> None:
        """Decoded samples, (channels, n) float32, the first at `at` seconds."""
        import numpy as np

        if not self._started:
            self._started = True
            lead = round(((at if at is not None else origin) - origin) * SAMPLE_RATE)
            if lead > 0:  # the sound starts after the picture: silence until it does
                self._take(np.zeros((2, lead), dtype=np.float32))
            elif lead < 0:
                samples = samples[:, -lead:]
        self._take(samples)

    def end(self) -> None:
        import numpy as np

        if not self.full:  # a silent clip, or sound shorter than the picture
            self._take(np.zeros((2, self._length - self._filled), dtype=np.float32))
        self._held = np.concatenate(self._holding, axis=1) if self._holding else None
        self._holding = []

    def _take(self, samples: Any) -> None:
        import numpy as np

        samples = samples[:, : self._length - self._filled]
        begin = self._filled
        self._filled += samples.shape[1]
        # into the fade from the previous clip
        if begin < self._fade_in:
            n = min(samples.shape[1], self._fade_in - begin)
            index = np.arange(begin, begin + n, dtype=np.float32)
            angle = (index + 0.5) / self._fade_in * (math.pi / 2)
            mixed = self._held[:, begin : begin + n] * np.cos(angle) + samples[:, :n] * np.sin(angle)
            self._emit_or_hold(mixed.astype(np.float32), begin)
            samples, begin = samples[:, n:], begin + n
        if samples.shape[1]:
            self._emit_or_hold(samples, begin)

    def _emit_or_hold(self, samples: Any, begin: int) -> None:
        held_from = self._length - self._fade_out
        split = max(0, min(samples.shape[1], held_from - begin))
        if split:
            self._emit(samples[:, :split])
        if split < samples.shape[1]:
            self._holding.append(samples[:, split:].copy())

    def _emit(self, samples: Any) -> None:
        import numpy as np

        self._pending.append(samples)
        self._pending_n += samples.shape[1]
        if self._pending_n < _AAC_FRAME:
            return
        joined = np.concatenate(self._pending, axis=1)
        whole = joined.shape[1] // _AAC_FRAME * _AAC_FRAME
        for at in range(0, whole, _AAC_FRAME):
            self._encode(joined[:, at : at + _AAC_FRAME])
        rest = joined[:, whole:]
        self._pending, self._pending_n = ([rest] if rest.shape[1] else []), rest.shape[1]

    def _encode(self, samples: Any) -> None:
        import av
        import numpy as np

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=LAYOUT
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._written
        self._written += samples.shape[1]
        self.out.mux(self.stream.encode(frame))

    def finish(self) -> None:
        import numpy as np

        if self._held is not None:  # never: the last clip fades into nothing
            self._emit(self._held)
        if self._pending_n:
            self._encode(np.concatenate(self._pending, axis=1))
        self._pending, self._pending_n = [], 0
        self.out.mux(self.stream.encode(None))
