"""The picture, without encoding: deterministic, labelled, sized as asked."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from sora_widget.emulator.render import EncoderSettings, render_key
from sora_widget.emulator.scene import DEFAULT_FPS, Reference, Scene, _font, _line_width, _wrap
from sora_widget.params import GenerationParams


def rgb(frame: np.ndarray) -> np.ndarray:
    """A yuv420p frame as the browser shows it (decoded by FFmpeg's own conversion)."""
    import av

    return av.VideoFrame.from_ndarray(frame, format="yuv420p").to_ndarray(format="rgb24")


def test_frames_have_the_requested_size_and_count():
    scene = Scene(GenerationParams("a fox", duration=4, size="1280x720"))
    assert scene.frames == 4 * DEFAULT_FPS
    frame = scene.frame(0)
    # yuv420p, as the encoder takes it: full-size luma, then two quarter-size chroma planes
    assert frame.shape == (720 * 3 // 2, 1280) and frame.dtype == np.uint8
    assert rgb(frame).shape == (720, 1280, 3)


def test_same_prompt_same_pictures_other_prompt_other_pictures():
    params = GenerationParams("a fox in the snow", duration=4)
    a, b = Scene(params), Scene(params)
    other = Scene(GenerationParams("a heron at dawn", duration=4))
    assert np.array_equal(a.frame(30), b.frame(30))
    assert not np.array_equal(a.frame(30), other.frame(30))


def test_the_model_is_on_screen_and_in_the_render_key():
    params = GenerationParams("a fox in the snow", duration=4, size="720x1280")
    plain, pro = Scene(params), Scene(params, model="sora-2-pro")
    assert not np.array_equal(plain.frame(0), pro.frame(0))
    encoder = EncoderSettings()
    keys = {render_key(params, Reference(), encoder, model) for model in ("sora-2", "sora-2-pro")}
    hd = GenerationParams("a fox in the snow", duration=4, size="1024x1792")
    keys.add(render_key(hd, Reference(), encoder, "sora-2-pro"))
    assert len(keys) == 3
    assert render_key(params, Reference(), encoder) == render_key(params, Reference(), encoder, "sora-2")


def test_at_any_frame_rate_a_moment_looks_the_same_and_the_rate_is_in_the_render_key():
    params = GenerationParams("a fox in the snow", duration=4, size="1280x720")
    smooth, light = Scene(params), Scene(params, fps=8)
    assert (smooth.frames, light.frames) == (96, 32)
    # one second in, the background has scrolled as far and the discs have moved as far: the
    # picture above the facts line ("24 fps" against "8 fps", from row 640) is the same
    assert np.array_equal(smooth.frame(24)[:600], light.frame(8)[:600])
    assert not np.array_equal(smooth.frame(24)[:600], light.frame(9)[:600])
    assert not np.array_equal(light.frame(0), light.frame(1))
    keys = {render_key(params, Reference(), EncoderSettings(fps=fps)) for fps in (24, 8, 12)}
    assert len(keys) == 3


def test_the_scene_moves():
    scene = Scene(GenerationParams("waves", duration=4))
    assert not np.array_equal(scene.frame(0), scene.frame(12))


def test_a_reference_image_is_composited():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 0, 255)).save(buffer, "PNG")
    params = GenerationParams("a fox", duration=4)
    plain = rgb(Scene(params).frame(0))
    with_image = rgb(Scene(params, Reference(image=buffer.getvalue())).frame(0))
    changed = np.any(plain != with_image, axis=2)
    assert changed.sum() > 10_000
    # blue pixels from the reference are in the frame (YUV rounds by a step or two)
    red, green, blue = (with_image[..., c].astype(int) for c in range(3))
    assert np.sum((blue > 245) & (red < 10) & (green < 10)) > 10_000
    assert not np.any((plain[..., 2] > 245) & (plain[..., 0] < 10) & (plain[..., 1] < 10))


def test_colours_convert_as_the_decoder_converts_them_back():
    """The scene's own RGB → YUV matches FFmpeg's YUV → RGB: a white overlay stays white."""
    scene = Scene(GenerationParams("a fox", duration=4, size="1280x720"))
    picture = rgb(scene.frame(scene.frames - 1))
    # the progress bar is full on the last frame: white across the bottom rows
    assert np.all(picture[-3:, 8:-8] >= 250)


def test_an_unreadable_reference_becomes_a_note_not_an_error():
    Scene(GenerationParams("a fox", duration=4), Reference(image=b"not an image")).frame(0)


def test_long_prompts_are_wrapped_and_shortened_with_an_ellipsis():
    font = _font(36)
    lines = _wrap("word " * 200, font, 600, max_lines=4)
    assert len(lines) == 4 and lines[-1].endswith("…")
    assert all(_line_width(line, font) <= 600 for line in lines)


def test_dashes_missing_from_the_font_are_measured_as_bars():
    font = _font(40)
    assert _line_width("a — b", font) == font.getlength("a ") + 40 + font.getlength(" b")
