"""The picture of a synthetic clip: an animated scene seeded from the prompt.

Everything that does not move (the "synthetic" banner, the prompt, the reference
image or its note) is drawn once with Pillow into small RGBA patches; each frame is
a slice of a pre-computed periodic background, a few soft discs and those patches,
blended with integer numpy arithmetic inside their own boxes only. That keeps a
frame at a few milliseconds, so encoding dominates the render time.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import re
import textwrap
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from ..params import DEFAULT_MODEL, GenerationParams

FPS = 24
LABEL = "synthetic — sora-widget emulator"

Font = ImageFont.FreeTypeFont
#: dash glyphs missing from Pillow's bundled font, with their width in em
_DASHES = {"—": 1.0, "–": 0.6, "―": 1.0, "−": 0.6}
_DASH = re.compile("([" + "".join(_DASHES) + "])")

Pixels = npt.NDArray[np.uint8]
Weights = npt.NDArray[np.uint16]


@dataclass(frozen=True)
class Reference:
    """What the scene shows for `input_reference`: the image, or a note saying why not."""

    image: bytes | None = None
    note: str | None = None

    def fingerprint(self) -> str | None:
        if self.image is not None:
            return "image:" + hashlib.sha256(self.image).hexdigest()
        return None if self.note is None else "note:" + self.note


@dataclass(frozen=True)
class Patch:
    """A static overlay box: premultiplied colour and 0..256 opacity, blended per frame."""

    top: int
    left: int
    colour: Weights
    alpha: Weights

    def blend_onto(self, frame: Pixels) -> None:
        h, w = self.alpha.shape[:2]
        region = frame[self.top : self.top + h, self.left : self.left + w]
        blended = (region * (256 - self.alpha) + self.colour) >> 8
        region[...] = blended.astype(np.uint8)


def seed_of(prompt: str) -> int:
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")


class Scene:
    def __init__(
        self, params: GenerationParams, reference: Reference | None = None, *, model: str = DEFAULT_MODEL
    ) -> None:
        self.model = model
        self.width, self.height = params.width, params.height
        self.frames = params.duration * FPS
        self.seed = seed_of(params.prompt)
        rng = np.random.default_rng(self.seed)
        self._palette = [
            _colour(rng.random(), 0.55 + 0.35 * rng.random(), 0.55 + 0.4 * rng.random()) for _ in range(5)
        ]
        self._period = max(self.width, self.height) // 2
        self._background = self._draw_background(rng)
        self._discs = [self._draw_disc(rng, colour) for colour in self._palette[2:]]
        self._patches = self._draw_overlays(params, reference or Reference())

    def frame(self, index: int) -> Pixels:
        t = index / FPS
        offset = (index * 3) % self._period
        frame = self._background[offset : offset + self.height].copy()
        for disc in self._discs:
            disc.draw(frame, t)
        for patch in self._patches:
            patch.blend_onto(frame)
        self._draw_progress(frame, index)
        return frame

    # -- layers ----------------------------------------------------------------------------

    def _draw_background(self, rng: np.random.Generator) -> Pixels:
        """Diagonal waves between two seed colours, periodic in y so a slice can scroll."""
        rows = self.height + self._period
        y = np.arange(rows, dtype=np.float32)[:, None]
        x = np.arange(self.width, dtype=np.float32)[None, :]
        tilt = 0.3 + 0.7 * float(rng.random())
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * (y / self._period + tilt * x / self.width))
        low, high = (np.array(c, dtype=np.float32) for c in self._palette[:2])
        picture = low * (1 - wave[..., None]) + high * wave[..., None]
        return np.clip(picture, 0, 255).astype(np.uint8)

    def _draw_disc(self, rng: np.random.Generator, colour: tuple[int, int, int]) -> _Disc:
        radius = int(min(self.width, self.height) * (0.10 + 0.08 * rng.random()))
        return _Disc(
            radius=radius,
            colour=colour,
            centre=(self.width * (0.2 + 0.6 * rng.random()), self.height * (0.2 + 0.6 * rng.random())),
            swing=(self.width * 0.3, self.height * 0.3),
            speed=(0.05 + 0.2 * rng.random(), 0.05 + 0.2 * rng.random()),
            phase=(2 * math.pi * rng.random(), 2 * math.pi * rng.random()),
        )

    def _draw_overlays(self, params: GenerationParams, reference: Reference) -> list[Patch]:
        short = min(self.width, self.height)
        patches = [self._text_box(LABEL, top=int(short * 0.04), size=int(short * 0.045), shade=200)]
        body_size = int(short * 0.05)
        max_lines = 7 if self.height > self.width else 4
        lines = _wrap(params.prompt, _font(body_size), int(self.width * 0.84), max_lines)
        prompt_top = int(self.height * (0.58 if self.height > self.width else 0.52))
        patches.append(self._text_box("\n".join(lines), top=prompt_top, size=body_size, shade=150))
        seed = f"seed {self.seed % 16**6:06x}"
        facts = f"{self.model} · {params.duration} s · {params.size} · {FPS} fps · {seed}"
        patches.append(
            self._text_box(facts, top=self.height - int(short * 0.11), size=int(short * 0.03), shade=120)
        )
        image = _open_image(reference.image) if reference.image is not None else None
        if image is not None:
            patches.append(self._image_box(image))
        elif reference.image is not None or reference.note is not None:
            note = reference.note or "reference: unreadable image"
            patches.append(self._text_box(note, top=int(short * 0.17), size=int(short * 0.035), shade=150))
        return patches

    def _text_box(self, text: str, *, top: int, size: int, shade: int) -> Patch:
        """Lines of text on a translucent dark panel, centred horizontally."""
        font = _font(size)
        pad, line_height = size // 2, round(size * 1.3)
        lines = text.split("\n")
        width = min(self.width, round(max(_line_width(line, font) for line in lines)) + 2 * pad)
        height = min(self.height - top, len(lines) * line_height + 2 * pad - (line_height - size))
        box = Image.new("RGBA", (width, height), (10, 10, 16, shade))
        draw = ImageDraw.Draw(box)
        for number, line in enumerate(lines):
            _draw_line(draw, (pad, pad + number * line_height), line, font)
        return _patch(box, top=top, left=(self.width - width) // 2)

    def _image_box(self, image: Image.Image) -> Patch:
        """The reference image, fitted into the upper part of the frame with a white frame."""
        border = max(2, min(self.width, self.height) // 120)
        limit = (int(self.width * 0.5), int(self.height * 0.3))
        image = image.convert("RGBA")
        # small references are enlarged too: the point is to see that it was used
        scale = min(limit[0] / image.width, limit[1] / image.height)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        framed = Image.new(
            "RGBA", (image.width + 2 * border, image.height + 2 * border), (255, 255, 255, 255)
        )
        framed.alpha_composite(image, (border, border))
        top = int(min(self.width, self.height) * 0.17)
        return _patch(framed, top=top, left=(self.width - framed.width) // 2)

    def _draw_progress(self, frame: Pixels, index: int) -> None:
        thickness = max(4, self.height // 160)
        filled = round(self.width * (index + 1) / self.frames)
        bar = frame[self.height - thickness :]
        bar[:, :filled] = (255, 255, 255)
        bar[:, filled:] //= 2


class _Disc:
    """A soft disc drifting along a Lissajous path."""

    def __init__(
        self,
        *,
        radius: int,
        colour: tuple[int, int, int],
        centre: tuple[float, float],
        swing: tuple[float, float],
        speed: tuple[float, float],
        phase: tuple[float, float],
    ) -> None:
        self.radius, self.centre, self.swing, self.speed, self.phase = radius, centre, swing, speed, phase
        yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float32)
        # a soft edge reads as "light", and hides the lack of anti-aliasing
        falloff = np.clip(1.0 - np.hypot(xx, yy) / radius, 0.0, 1.0) ** 0.6
        self._alpha: Weights = (falloff * 200).astype(np.uint16)[..., None]
        self._colour: Weights = self._alpha * np.array(colour, dtype=np.uint16)

    def draw(self, frame: Pixels, t: float) -> None:
        r = self.radius
        cx = self.centre[0] + self.swing[0] * math.sin(2 * math.pi * self.speed[0] * t + self.phase[0])
        cy = self.centre[1] + self.swing[1] * math.sin(2 * math.pi * self.speed[1] * t + self.phase[1])
        x0, y0 = round(cx) - r, round(cy) - r
        height, width = frame.shape[:2]
        top, left = max(0, y0), max(0, x0)
        bottom, right = min(height, y0 + 2 * r + 1), min(width, x0 + 2 * r + 1)
        if top >= bottom or left >= right:
            return
        rows, cols = slice(top - y0, bottom - y0), slice(left - x0, right - x0)
        region = frame[top:bottom, left:right]
        blended = (region * (256 - self._alpha[rows, cols]) + self._colour[rows, cols]) >> 8
        region[...] = blended.astype(np.uint8)


def _patch(image: Image.Image, *, top: int, left: int) -> Patch:
    rgba = np.asarray(image, dtype=np.uint16)
    alpha = rgba[..., 3:4] + (rgba[..., 3:4] > 127)  # 0..255 → 0..256, so opaque stays exact
    return Patch(top=top, left=left, colour=rgba[..., :3] * alpha, alpha=alpha)


def _font(size: int) -> Font:
    # Pillow's bundled font: no system fonts needed, identical pixels everywhere
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow was built without FreeType"
    return font


def _line_width(line: str, font: Font) -> float:
    return sum(
        font.size * _DASHES[part] if part in _DASHES else font.getlength(part) for part in _DASH.split(line)
    )


def _draw_line(draw: ImageDraw.ImageDraw, origin: tuple[int, int], line: str, font: Font) -> None:
    """Draw one line; dashes, which the bundled font lacks, become bars of their width."""
    x, y = float(origin[0]), origin[1]
    ascent, _ = font.getmetrics()
    thickness = max(2, round(font.size * 0.07))
    middle = y + round(ascent * 0.62)
    for part in _DASH.split(line):
        if part in _DASHES:
            length = font.size * _DASHES[part]
            draw.rectangle(
                (x + 0.15 * length, middle, x + 0.85 * length, middle + thickness - 1), fill="white"
            )
            x += length
        elif part:
            draw.text((x, y), part, font=font, fill=(255, 255, 255, 255))
            x += font.getlength(part)


def _wrap(text: str, font: Font, width: int, max_lines: int) -> list[str]:
    average = max(1.0, font.getlength("abcdefghijklmnopqrstuvwxyz") / 26)
    columns = max(8, int(width / average))
    lines = textwrap.wrap(" ".join(text.split()), columns) or [""]
    # long words or wide glyphs can still overflow: shorten until each line fits
    fitted = []
    for line in lines[:max_lines]:
        while len(line) > 1 and _line_width(line, font) > width:
            line = line[:-1]
        fitted.append(line)
    if len(lines) > max_lines:
        fitted[-1] = fitted[-1][: max(0, len(fitted[-1]) - 1)].rstrip() + "…"
    return fitted


def _open_image(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _colour(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)
