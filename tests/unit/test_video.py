"""Clips read and made with PyAV: facts, posters, the last frame, films. Real tiny MP4s,
encoded here with PyAV (H.264, as the emulator and Sora make them); no network."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from sora_widget import video


def make_clip(
    path: Path,
    *,
    frames: int = 24,
    size: tuple[int, int] = (160, 96),
    rate: int = 24,
    colour_of=None,
    moov_first: bool = True,
) -> Path:
    """A real H.264 clip; frame i is a flat colour (colour_of(i)) so frames can be told apart."""
    colour_of = colour_of or (lambda i: (i * 10 % 256, 80, 200))
    options = {"movflags": "+faststart"} if moov_first else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        for i in range(frames):
            image = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            image[:, :] = colour_of(i)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_facts_of_a_clip(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", frames=48)
    assert video.facts(clip) == {
        "width": 160,
        "height": 96,
        "duration_s": 2.0,
        "codec": "h264",
        "fps": 24.0,
        "frames": 48,
        "faststart": True,
    }


def test_a_trailing_index_is_told_apart(tmp_path):
    clip = make_clip(tmp_path / "b.mp4", moov_first=False)
    facts = video.facts(clip)
    assert facts is not None and facts["faststart"] is False


def test_what_is_not_a_video_has_no_facts(tmp_path):
    junk = tmp_path / "c.mp4"
    junk.write_text("<html>expired</html>")
    assert video.facts(junk) is None
    assert video.facts(tmp_path / "missing.mp4") is None


def test_a_poster_is_a_small_jpeg_of_the_frame_a_second_in(tmp_path):
    clip = make_clip(
        tmp_path / "d.mp4",
        frames=48,
        size=(640, 360),
        colour_of=lambda i: (250, 20, 20) if i >= 24 else (20, 20, 250),
    )
    data = video.poster_jpeg(clip)
    assert data[:3] == b"\xff\xd8\xff" and len(data) <= video.POSTER_MAX_BYTES
    with av.open(__import__("io").BytesIO(data)) as container:
        frame = next(container.decode(video=0))
        assert frame.width == 320 and frame.height == 180
        red, _, blue = frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    assert red > 200 and blue < 60  # the frame at 1 s, not the first
    uri = video.poster_data_uri(clip)
    assert uri is not None and uri.startswith("data:image/jpeg;base64,")
    assert video.poster_data_uri(tmp_path / "missing.mp4") is None


def test_the_last_frame_is_exact(tmp_path):
    clip = make_clip(tmp_path / "e.mp4", frames=10, colour_of=lambda i: (i * 20, 100, 60))
    png = video.last_frame_png(clip)
    assert png[:4] == b"\x89PNG"
    with av.open(__import__("io").BytesIO(png)) as container:
        pixels = next(container.decode(video=0)).to_ndarray(format="rgb24")
    # lossless PNG of the decoded last frame (qp 0 H.264: the colour is what was encoded)
    assert abs(int(pixels[..., 0].mean()) - 180) <= 2


def test_films_join_clips_in_order_by_copy_or_re_encoding(tmp_path):
    first = make_clip(tmp_path / "1.mp4", frames=24, colour_of=lambda i: (200, 0, 0))
    second = make_clip(tmp_path / "2.mp4", frames=24, colour_of=lambda i: (0, 0, 200))
    film = video.stitch([first, second], tmp_path / "film.mp4")
    assert film.how == "copy" and film.duration_s == pytest.approx(2.0, abs=0.1)
    with av.open(str(film.path)) as container:
        colours = [
            f.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0) for f in container.decode(video=0)
        ]
    assert len(colours) == 48
    assert colours[0][0] > 150 and colours[-1][2] > 150  # red first, then blue

    faded = video.stitch([first, second], tmp_path / "faded.mp4", crossfade=0.25)
    assert faded.how == "encode" and faded.duration_s == pytest.approx(1.75, abs=0.1)


def test_clips_of_different_sizes_are_refused_naming_the_odd_one(tmp_path):
    a = make_clip(tmp_path / "a.mp4")
    b = make_clip(tmp_path / "b.mp4", size=(96, 160))
    with pytest.raises(ValueError, match=r"clips\[1\] \(b.mp4\) is 96x160"):
        video.stitch([a, b], tmp_path / "film.mp4")
    assert not (tmp_path / "film.mp4").exists()
