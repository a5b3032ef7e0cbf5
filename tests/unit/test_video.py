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
    tone: float | None = None,
    b_frames: int = 0,
    sample_rate: int = 48_000,
    gop: int | None = None,
) -> Path:
    """A real H.264 clip; frame i is a flat colour (colour_of(i)) so frames can be told
    apart. With `tone`, a stereo AAC track of that sine (Hz) as long as the picture; with
    `b_frames` and `moov_first=False`, laid out as cameras and most encoders write files."""
    colour_of = colour_of or (lambda i: (i * 10 % 256, 80, 200))
    options = {"movflags": "+faststart"} if moov_first else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        # lossless (qp 0) leaves B-frames out: nearly lossless keeps them
        stream.options = {"preset": "ultrafast", "qp": "2" if b_frames else "0"}
        stream.codec_context.max_b_frames = b_frames
        if gop is not None:
            stream.codec_context.gop_size = gop
        sound = None
        if tone is not None:
            sound = out.add_stream("aac", rate=sample_rate)
            sound.codec_context.layout = "stereo"
            t = np.arange(frames * sample_rate // rate) / sample_rate
            wave = (0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
            samples = np.stack([wave, wave])
        written = 0
        for i in range(frames):
            image = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            image[:, :] = colour_of(i)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
            # sound interleaved with the pictures, as real files are
            while sound is not None and written < min(samples.shape[1], (i + 1) * sample_rate // rate):
                chunk = np.ascontiguousarray(samples[:, written : written + 1024])
                piece = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                piece.sample_rate, piece.pts = sample_rate, written
                written += chunk.shape[1]
                out.mux(sound.encode(piece))
        for packet in stream.encode(None):
            out.mux(packet)
        if sound is not None:
            out.mux(sound.encode(None))
    return path


def camera_clip(path: Path, **options) -> Path:
    """Laid out as cameras, phones and most encoders (Sora's own included) write files:
    30 fps, B-frames (pictures stored out of display order), `moov` at the end."""
    return make_clip(path, rate=30, b_frames=3, moov_first=False, **options)


def sound_of(path: Path) -> np.ndarray:
    """The decoded sound, left channel, at 48 kHz."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
    with av.open(str(path)) as container:
        pieces = [r.to_ndarray()[0] for f in container.decode(audio=0) for r in resampler.resample(f)]
    return np.concatenate(pieces)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def loudest_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / 48_000)[spectrum.argmax()])


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
        "audio": None,
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
    assert film.audio_s is None and video.facts(film.path)["audio"] is None  # silent clips, silent film

    faded = video.stitch([first, second], tmp_path / "faded.mp4", crossfade=0.25)
    assert faded.how == "encode" and faded.duration_s == pytest.approx(1.75, abs=0.1)


def test_clips_of_different_sizes_are_refused_naming_the_odd_one(tmp_path):
    a = make_clip(tmp_path / "a.mp4")
    b = make_clip(tmp_path / "b.mp4", size=(96, 160))
    with pytest.raises(ValueError, match=r"clips\[1\] \(b.mp4\) is 96x160"):
        video.stitch([a, b], tmp_path / "film.mp4")
    assert not (tmp_path / "film.mp4").exists()


def test_facts_say_what_the_sound_is(tmp_path):
    clip = make_clip(tmp_path / "s.mp4", frames=48, tone=440, sample_rate=44_100)
    assert video.facts(clip)["audio"] == {
        "codec": "aac",
        "channels": 2,
        "sample_rate": 44_100,
        "duration_s": 2.0,
    }


def test_the_last_frame_of_a_file_with_b_frames_and_moov_at_the_end_is_the_last_displayed(tmp_path):
    clip = camera_clip(
        tmp_path / "cam.mp4", frames=45, gop=15, colour_of=lambda i: (i * 5, 100, 60), tone=440
    )
    with av.open(str(clip)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert any(p.pts != p.dts for p in packets)  # stored out of display order: B-frames
    assert video.facts(clip)["faststart"] is False
    with av.open(__import__("io").BytesIO(video.last_frame_png(clip))) as container:
        pixels = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert abs(int(pixels[..., 0].mean()) - 44 * 5) <= 2  # frame 44, not 43 nor a stored-last B-frame


def test_a_poster_decodes_a_bounded_number_of_frames_of_a_bounded_picture(tmp_path):
    # 200 frames all stamped before half a second: a poster "a second in" would decode them all
    crafted = make_clip(tmp_path / "crafted.mp4", frames=200, rate=400, colour_of=lambda i: (i, 20, 20))
    with av.open(__import__("io").BytesIO(video.poster_jpeg(crafted))) as container:
        red = next(container.decode(video=0)).to_ndarray(format="rgb24")[..., 0].mean()
    assert red < video.POSTER_MAX_FRAMES + 10  # frame 29 or so, not frame 199
    huge = make_clip(tmp_path / "huge.mp4", frames=1, size=(4160, 2320))
    with pytest.raises(video.VideoError, match="too large for a poster"):
        video.poster_jpeg(huge)
    assert video.poster_data_uri(huge) is None


def test_films_of_clips_with_the_same_sound_encoding_are_copied_with_their_sound(tmp_path):
    first = make_clip(tmp_path / "1.mp4", frames=48, tone=440, colour_of=lambda i: (200, 0, 0))
    second = make_clip(tmp_path / "2.mp4", frames=48, tone=660, colour_of=lambda i: (0, 0, 200))
    film = video.stitch([first, second], tmp_path / "film.mp4")
    assert film.how == "copy" and film.duration_s == pytest.approx(4.0, abs=0.05)
    assert film.audio_s == pytest.approx(film.duration_s, abs=1 / 24)
    sound = sound_of(film.path)
    assert loudest_hz(sound[24_000:72_000]) == pytest.approx(440, abs=5)
    assert loudest_hz(sound[120_000:168_000]) == pytest.approx(660, abs=5)


def test_a_silent_clip_among_sounded_ones_is_silence_of_its_length(tmp_path):
    sounded = make_clip(tmp_path / "1.mp4", frames=48, tone=440)
    silent = make_clip(tmp_path / "2.mp4", frames=48)
    other_rate = make_clip(tmp_path / "3.mp4", frames=48, tone=660, sample_rate=44_100)
    film = video.stitch([sounded, silent, other_rate], tmp_path / "film.mp4")
    assert film.how == "encode" and film.duration_s == pytest.approx(6.0, abs=0.05)
    facts = video.facts(film.path)
    assert facts["audio"] == {
        "codec": "aac",
        "channels": 2,
        "sample_rate": 48_000,
        "duration_s": film.audio_s,
    }
    assert film.audio_s == pytest.approx(film.duration_s, abs=1 / 24)
    sound = sound_of(film.path)
    assert loudest_hz(sound[12_000:84_000]) == pytest.approx(440, abs=5) and rms(sound[12_000:84_000]) > 0.15
    assert rms(sound[108_000:180_000]) < 0.005  # the silent clip's two seconds
    assert loudest_hz(sound[204_000:276_000]) == pytest.approx(660, abs=5)


def test_a_crossfade_fades_the_sound_with_equal_power_over_the_pictures_window(tmp_path):
    first = make_clip(tmp_path / "1.mp4", frames=48, tone=440, colour_of=lambda i: (200, 0, 0))
    second = make_clip(tmp_path / "2.mp4", frames=48, tone=660, colour_of=lambda i: (0, 0, 200))
    film = video.stitch([first, second], tmp_path / "faded.mp4", crossfade=0.5)
    assert film.how == "encode" and film.duration_s == pytest.approx(3.5, abs=0.05)
    assert film.audio_s == pytest.approx(film.duration_s, abs=1 / 24)
    sound = sound_of(film.path)
    # the window is 1.5 s to 2.0 s, pictures and sound alike
    before, middle, after = sound[60_000:70_000], sound[82_000:86_000], sound[98_000:108_000]
    assert loudest_hz(before) == pytest.approx(440, abs=10) and loudest_hz(after) == pytest.approx(
        660, abs=10
    )
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    hz = np.fft.rfftfreq(len(middle), 1 / 48_000)
    assert spectrum[np.abs(hz - 440) < 15].max() > 0.5 * spectrum.max()  # both tones at once
    assert spectrum[np.abs(hz - 660) < 15].max() > 0.5 * spectrum.max()
    assert rms(middle) == pytest.approx(rms(before), rel=0.15)  # equal power: no dip halfway
    with av.open(str(film.path)) as container:
        pictures = [f.to_ndarray(format="rgb24")[0, 0] for f in container.decode(video=0)]
    halfway = pictures[int(1.75 * 24)]
    assert 60 < halfway[0] < 140 and 60 < halfway[2] < 140  # the pictures fade over the same frames


def test_files_with_b_frames_and_moov_at_the_end_are_joined_with_their_sound(tmp_path):
    red = camera_clip(tmp_path / "1.mp4", frames=60, tone=440, colour_of=lambda i: (200, 0, 0))
    blue = camera_clip(tmp_path / "2.mp4", frames=60, tone=660, colour_of=lambda i: (0, 0, 200))
    film = video.stitch([red, blue], tmp_path / "film.mp4")
    assert film.how == "copy" and film.duration_s == pytest.approx(4.0, abs=0.05)
    assert film.audio_s == pytest.approx(film.duration_s, abs=1 / 30)
    with av.open(str(film.path)) as container:
        colours = [f.to_ndarray(format="rgb24")[0, 0] for f in container.decode(video=0)]
    assert len(colours) == 120 and colours[59][0] > 150 and colours[60][2] > 150
    # with a 24 fps web clip: re-encoded on the first clip's 30 fps, lengths kept
    web = make_clip(tmp_path / "3.mp4", frames=48, tone=550)
    mixed = video.stitch([red, web, blue], tmp_path / "mixed.mp4", crossfade=0.25)
    assert mixed.how == "encode" and mixed.duration_s == pytest.approx(6.0 - 0.5, abs=0.05)
    assert mixed.audio_s == pytest.approx(mixed.duration_s, abs=1 / 30)
    assert video.facts(mixed.path)["fps"] == 30
