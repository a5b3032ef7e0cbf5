"""The picture of a synthetic clip: an animated scene seeded from the prompt.

Frames are made directly in the encoder's own format, planar YUV 4:2:0 (BT.601, limited
range — what a browser assumes for an untagged H.264 stream): converting RGB frames cost
more than drawing and encoding them together. Everything that does not move (the
"synthetic" banner, the prompt, the reference image or its note) is drawn once with Pillow
into small RGBA patches and converted once; each frame is a slice of a pre-computed
periodic background, a few soft discs and those patches, blended with integer numpy
arithmetic inside their own boxes only, plane by plane.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import re
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from ..params import DEFAULT_MODEL, Request
from .config import DEFAULT_FPS

#: pixels the background scrolls per second (whatever the frame rate)
SCROLL_PER_S = 96
LABEL = "synthetic — sora-widget emulator"

Font = ImageFont.FreeTypeFont
#: dash glyphs missing from Pillow's bundled font, with their width in em
_DASHES = {"—": 1.0, "–": 0.6, "―": 1.0, "−": 0.6}
_DASH = re.compile("([" + "".join(_DASHES) + "])")

Pixels = npt.NDArray[np.uint8]
Weights = npt.NDArray[np.uint16]
Floats = npt.NDArray[np.floating[Any]]

# BT.601 limited range: Y in 16..235, Cb and Cr in 16..240 around 128
_RGB_TO_YUV = np.array(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]], dtype=np.float32
) / np.float32(255)
_YUV_OFFSET = np.array([16, 128, 128], dtype=np.float32)


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
    """A static overlay box on one plane: premultiplied value and 0..256 opacity."""

    top: int
    left: int
    colour: Weights
    alpha: Weights

    def blend_onto(self, plane: Pixels) -> None:
        _blend(plane, self.top, self.left, self.colour, self.alpha)


def _blend(plane: Pixels, top: int, left: int, colour: Weights, alpha: Weights) -> None:
    """Blend a premultiplied box onto a plane at (top, left), clipped to the plane."""
    height, width = plane.shape
    y0, x0 = max(0, top), max(0, left)
    y1, x1 = min(height, top + alpha.shape[0]), min(width, left + alpha.shape[1])
    if y0 >= y1 or x0 >= x1:
        return
    rows, cols = slice(y0 - top, y1 - top), slice(x0 - left, x1 - left)
    region = plane[y0:y1, x0:x1]
    # at most 255 * 256: the sum stays within uint16
    blended = (region * (256 - alpha[rows, cols]) + colour[rows, cols]) >> 8
    region[...] = blended.astype(np.uint8)


def seed_of(prompt: str) -> int:
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")


class Scene:
    def __init__(
        self,
        params: Request,
        reference: Reference | None = None,
        *,
        model: str = DEFAULT_MODEL,
        fps: int = DEFAULT_FPS,
    ) -> None:
        self.model = model
        self.fps = fps
        self.width, self.height = params.width, params.height
        self.frames = params.duration * fps
        self.seed = seed_of(params.prompt)
        rng = np.random.default_rng(self.seed)
        self._palette = [
            _colour(rng.random(), 0.55 + 0.35 * rng.random(), 0.55 + 0.4 * rng.random()) for _ in range(5)
        ]
        # even, like every offset into it: a chroma row covers two rows of the picture
        self._period = max(self.width, self.height) // 4 * 2
        self._background = self._draw_background(rng)
        self._discs = [self._draw_disc(rng, colour) for colour in self._palette[2:]]
        self._patches = self._draw_overlays(params, reference or Reference())

    def frame(self, index: int) -> Pixels:
        """Frame `index` as yuv420p: the Y plane's rows, then U's and V's (height × 3/2 rows)."""
        w, h = self.width, self.height
        frame = np.empty((h * 3 // 2, w), dtype=np.uint8)
        planes = _planes(frame, w, h)
        offset = (index * SCROLL_PER_S // 2 // self.fps * 2) % self._period  # even: see _period
        for plane, background, scale in zip(planes, self._background, (1, 2, 2), strict=True):
            plane[...] = background[offset // scale : (offset + h) // scale]
        t = index / self.fps
        for disc in self._discs:
            disc.draw(planes, t)
        for patch, which in self._patches:
            patch.blend_onto(planes[which])
        self._draw_progress(planes, index)
        return frame

    # -- layers ----------------------------------------------------------------------------

    def _draw_background(self, rng: np.random.Generator) -> tuple[Pixels, Pixels, Pixels]:
        """Diagonal waves between two seed colours, periodic in y so a slice can scroll."""
        rows = self.height + self._period
        y = np.arange(rows, dtype=np.float32)[:, None]
        x = np.arange(self.width, dtype=np.float32)[None, :]
        tilt = 0.3 + 0.7 * float(rng.random())
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * (y / self._period + tilt * x / self.width))
        low, high = (_yuv(np.array(c, dtype=np.float32)) for c in self._palette[:2])
        # each plane is low + (high - low) · wave, linear in the wave: the 2×2 mean of a chroma
        # plane is that of the wave, so one channel at a time and the chroma ones from the halved
        # wave (a full-size three-channel picture took longer than drawing every frame)
        half = _halve(wave)
        luma = _quantise(low[0] + (high[0] - low[0]) * wave)
        return (luma, *(_quantise(low[c] + (high[c] - low[c]) * half) for c in (1, 2)))  # type: ignore[return-value]

    def _draw_disc(self, rng: np.random.Generator, colour: tuple[int, int, int]) -> _Disc:
        # even: the chroma disc (half the radius) then shares the luma disc's centre
        radius = int(min(self.width, self.height) * (0.05 + 0.04 * rng.random())) * 2
        return _Disc(
            radius=radius,
            colour=colour,
            centre=(self.width * (0.2 + 0.6 * rng.random()), self.height * (0.2 + 0.6 * rng.random())),
            swing=(self.width * 0.3, self.height * 0.3),
            speed=(0.05 + 0.2 * rng.random(), 0.05 + 0.2 * rng.random()),
            phase=(2 * math.pi * rng.random(), 2 * math.pi * rng.random()),
        )

    def _draw_overlays(self, params: Request, reference: Reference) -> list[tuple[Patch, int]]:
        short = min(self.width, self.height)
        patches = self._text_box(LABEL, top=int(short * 0.04), size=int(short * 0.045), shade=200)
        body_size = int(short * 0.05)
        max_lines = 7 if self.height > self.width else 4
        lines = _wrap(params.prompt, _font(body_size), int(self.width * 0.84), max_lines)
        prompt_top = int(self.height * (0.58 if self.height > self.width else 0.52))
        patches += self._text_box("\n".join(lines), top=prompt_top, size=body_size, shade=150)
        seed = f"seed {self.seed % 16**6:06x}"
        facts = f"{self.model} · {params.duration} s · {params.size} · {self.fps} fps · {seed}"
        facts_top = self.height - int(short * 0.11)
        patches += self._text_box(facts, top=facts_top, size=int(short * 0.03), shade=120)
        image = _open_image(reference.image) if reference.image is not None else None
        if image is not None:
            patches += self._image_box(image)
        elif reference.image is not None or reference.note is not None:
            note = reference.note or "reference: unreadable image"
            patches += self._text_box(note, top=int(short * 0.17), size=int(short * 0.035), shade=150)
        return patches

    def _text_box(self, text: str, *, top: int, size: int, shade: int) -> list[tuple[Patch, int]]:
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

    def _image_box(self, image: Image.Image) -> list[tuple[Patch, int]]:
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

    def _draw_progress(self, planes: tuple[Pixels, Pixels, Pixels], index: int) -> None:
        """A white bar along the bottom fills up; the rest of that strip is darkened."""
        thickness = max(4, self.height // 160) // 2 * 2
        filled = round(self.width * (index + 1) / self.frames) // 2 * 2
        # per plane: subsampling, the filled value (white), the value darkening tends to
        looks = ((1, 235, 16), (2, 128, 128), (2, 128, 128))
        for plane, (scale, white, middle) in zip(planes, looks, strict=True):
            bar = plane[plane.shape[0] - thickness // scale :]
            bar[:, : filled // scale] = white
            # halfway to black: luma halfway to 16, chroma halfway to neutral
            rest = bar[:, filled // scale :]
            rest[...] = (rest >> 1) + (middle >> 1)


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
        yuv = _yuv(np.array(colour, dtype=np.float32))
        # per plane: luma at full resolution, chroma at half (a disc of half the radius)
        self._layers: list[tuple[Weights, Weights]] = []
        for plane, r in enumerate((radius, radius // 2, radius // 2)):
            yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
            # a soft edge reads as "light", and hides the lack of anti-aliasing
            falloff = np.clip(1.0 - np.hypot(xx, yy) / r, 0.0, 1.0) ** 0.6
            alpha = (falloff * 200).astype(np.uint16)
            self._layers.append((alpha * np.uint16(round(float(yuv[plane]))), alpha))

    def draw(self, planes: tuple[Pixels, Pixels, Pixels], t: float) -> None:
        r = self.radius
        cx = self.centre[0] + self.swing[0] * math.sin(2 * math.pi * self.speed[0] * t + self.phase[0])
        cy = self.centre[1] + self.swing[1] * math.sin(2 * math.pi * self.speed[1] * t + self.phase[1])
        # the top-left corner on even coordinates, where the chroma disc's corner is exact
        x0, y0 = round((cx - r) / 2) * 2, round((cy - r) / 2) * 2
        for (colour, alpha), plane, scale in zip(self._layers, planes, (1, 2, 2), strict=True):
            _blend(plane, y0 // scale, x0 // scale, colour, alpha)


def _planes(frame: Pixels, width: int, height: int) -> tuple[Pixels, Pixels, Pixels]:
    """Views of a yuv420p frame's Y, U and V planes."""
    flat = frame.reshape(-1)
    luma, quarter = width * height, width * height // 4
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + quarter].reshape(height // 2, width // 2),
        flat[luma + quarter :].reshape(height // 2, width // 2),
    )


def _yuv(rgb: Floats) -> Floats:
    """RGB (0..255, last axis) → Y, Cb, Cr as floats."""
    return rgb @ _RGB_TO_YUV.T + _YUV_OFFSET


def _halve(values: Floats) -> Floats:
    """The mean of each 2×2 block (4:2:0 chroma); both sides must be even. Four strided sums:
    numpy's mean over two inner axes of a reshaped array is several times slower."""
    total = values[0::2, 0::2] + values[1::2, 0::2]
    total += values[0::2, 1::2]
    total += values[1::2, 1::2]
    return total * 0.25


def _quantise(values: Floats) -> Pixels:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _patch(image: Image.Image, *, top: int, left: int) -> list[tuple[Patch, int]]:
    """An RGBA picture as premultiplied patches for the Y, U and V planes (the plane's index
    beside each), at even coordinates with even sides so chroma blocks line up."""
    top, left = top // 2 * 2, left // 2 * 2
    rgba = np.asarray(image, dtype=np.float32)
    h, w = rgba.shape[:2]
    rgba = np.pad(rgba, ((0, h % 2), (0, w % 2), (0, 0)))
    opacity = rgba[..., 3] / 255
    yuv = _yuv(rgba[..., :3])
    patches = []
    for plane, scale in ((0, 1), (1, 2), (2, 2)):
        weight: Floats = opacity
        value: Floats = yuv[..., plane] * opacity
        if scale == 2:
            weight, value = _halve(weight), _halve(value)
        # 0..256 opacity so that opaque stays exact
        alpha = np.rint(weight * 256).astype(np.uint16)
        colour = np.minimum(np.rint(value * 256), alpha * np.float32(255)).astype(np.uint16)
        patches.append((Patch(top=top // scale, left=left // scale, colour=colour, alpha=alpha), plane))
    return patches


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
