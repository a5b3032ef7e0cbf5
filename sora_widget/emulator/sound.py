"""The sound of a synthetic clip: a soft phrase of chimes seeded from the prompt,
repeated for as long as the picture lasts, in AAC-LC stereo at 48 kHz (what Sora 2 clips
carry).

Encoding AAC costs about as much per second of sound as the emulator's pictures cost at
8 fps, so the phrase is encoded once (per prompt and process) and its packets are
repeated: a clip of any length costs one phrase (1.4 s of sound, ~15 ms) to encode. The
phrase starts and ends in silence longer than an AAC frame's overlap, so its packets can
follow each other unchanged.

Two prompts give two phrases (notes, timing, panning); the same prompt gives the same
bytes, like the picture.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from .scene import seed_of

SAMPLE_RATE = 48_000
LAYOUT = "stereo"
BIT_RATE = 96_000
#: samples per AAC frame
FRAME = 1024
#: the phrase's length in AAC frames (1.365 s), and its silent edges in samples
PHRASE_FRAMES = 64
_QUIET_EDGE = 3 * FRAME
#: a major pentatonic scale, in semitones above the root
_SCALE = (0, 2, 4, 7, 9, 12, 14, 16)

Samples = npt.NDArray[np.float32]


def phrase(prompt: str) -> Samples:
    """The prompt's phrase: (2, PHRASE_FRAMES × FRAME) float32, soft (peaks near -14 dBFS)."""
    rng = np.random.default_rng(seed_of(prompt) ^ 0x5EED)
    length = PHRASE_FRAMES * FRAME
    sound = np.zeros((2, length), dtype=np.float32)
    root = 196.0 * 2 ** (int(rng.integers(0, 7)) / 12)  # G3 and a few semitones up
    notes = int(rng.integers(2, 5))
    last_onset = length - _QUIET_EDGE - int(0.9 * SAMPLE_RATE)
    for onset in sorted(int(x) for x in rng.integers(_QUIET_EDGE, last_onset, size=notes)):
        hz = root * 2 ** (_SCALE[int(rng.integers(0, len(_SCALE)))] / 12)
        pan = 0.2 + 0.6 * float(rng.random())
        _chime(sound, onset, hz, pan, length - _QUIET_EDGE)
    return sound


def _chime(sound: Samples, onset: int, hz: float, pan: float, end: int) -> None:
    """A soft bell: a sine and its octave, a 10 ms attack, an exponential decay that is
    silent by `end`."""
    t = np.arange(end - onset, dtype=np.float32) / SAMPLE_RATE
    attack = np.minimum(1.0, t / 0.01)
    decay = np.exp(-t / 0.28) * np.clip((end - onset - np.arange(end - onset)) / 2048, 0, 1)
    tone = np.sin(2 * math.pi * hz * t) + 0.25 * np.sin(4 * math.pi * hz * t)
    note = (0.16 * attack * decay * tone).astype(np.float32)
    # equal-power panning: left and right gains cos/sin of the pan angle
    angle = pan * math.pi / 2
    sound[0, onset:end] += note * math.cos(angle)
    sound[1, onset:end] += note * math.sin(angle)


@functools.lru_cache(maxsize=64)
def encoded_phrase(prompt: str) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The phrase in AAC-LC: the encoder's priming packets (before time 0), then one
    packet per AAC frame of the phrase."""
    import av

    encoder: Any = av.CodecContext.create("aac", "w")
    encoder.sample_rate, encoder.layout, encoder.format = SAMPLE_RATE, LAYOUT, "fltp"
    encoder.bit_rate = BIT_RATE
    encoder.time_base = Fraction(1, SAMPLE_RATE)
    samples = phrase(prompt)
    packets = []
    for start in range(0, samples.shape[1], FRAME):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[:, start : start + FRAME]), format="fltp", layout=LAYOUT
        )
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    timed = [p for p in packets if p.pts is not None]
    priming = tuple(bytes(p) for p in timed if p.pts < 0)
    return priming, tuple(bytes(p) for p in timed if 0 <= p.pts < samples.shape[1])


class Soundtrack:
    """The sound stream of a clip being written: `packets_until(t)` gives the AAC packets
    due up to `t` seconds, so they interleave with the pictures; the track ends with the
    picture (`seconds`), its last packet cut to fit. The stream's own encoder is opened
    by the container (its AAC configuration is the phrase encoder's: same profile, rate
    and channels) but never fed."""

    def __init__(self, container: Any, prompt: str, seconds: float) -> None:
        self.stream: Any = container.add_stream("aac", rate=SAMPLE_RATE)
        self.stream.codec_context.layout = LAYOUT
        self.stream.codec_context.bit_rate = BIT_RATE
        self.stream.codec_context.time_base = Fraction(1, SAMPLE_RATE)
        self._priming, self._frames = encoded_phrase(prompt)
        self._total = round(seconds * SAMPLE_RATE)
        self._packets = self._all_packets()
        self._due: Any = next(self._packets, None)

    def _all_packets(self) -> Iterator[tuple[bytes, int, int]]:
        """(payload, pts, duration) of every packet of the track, in order."""
        for payload in self._priming:
            yield payload, -FRAME, FRAME
        pts = 0
        while pts < self._total:
            for payload in self._frames:
                if pts >= self._total:
                    return
                yield payload, pts, min(FRAME, self._total - pts)
                pts += FRAME

    def packets_until(self, seconds: float) -> Iterator[Any]:
        import av

        limit = seconds * SAMPLE_RATE
        while self._due is not None and self._due[1] < limit:
            payload, pts, duration = self._due
            packet = av.Packet(payload)
            packet.stream = self.stream
            packet.time_base = Fraction(1, SAMPLE_RATE)
            packet.pts = packet.dts = pts
            packet.duration = duration
            packet.is_keyframe = True
            yield packet
            self._due = next(self._packets, None)
