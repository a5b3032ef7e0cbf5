"""Clips have sound, as Sora 2's do: the emulator renders it (or not, `audio=False`), in
both file layouts; records say what it is; `sw.stitch` keeps it, copied or re-encoded,
crossfaded with the pictures, as long as the picture. Real HTTP to the emulator."""

from __future__ import annotations

import asyncio
import io

import av
import httpx
import numpy as np
import pytest

import sora_widget as sw
from sora_widget import api, video

KEY = {"x-api-key": "test-key"}


def generate(emu, prompt: str, tmp_path, name: str):
    """A clip through the synchronous /v1 path, saved; its path."""
    body = {"prompt": prompt, "duration": 4, "size": "1280x720"}
    response = httpx.post(emu.base_url + "/v1/sora-2", json=body, headers=KEY, timeout=60)
    assert response.status_code == 200, response.text
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def sound_of(path) -> np.ndarray:
    """The decoded sound, each frame placed at its time (as a player places it: a joined
    clip's last AAC frame is decoded whole, but the next clip starts at its own time)."""
    with av.open(str(path)) as container:
        frames = [(f.pts, f.to_ndarray()) for f in container.decode(audio=0)]
    sound = np.zeros((2, max(pts + samples.shape[1] for pts, samples in frames)), dtype=np.float32)
    for pts, samples in frames:
        sound[:, pts : pts + samples.shape[1]] = samples
    return sound


def test_clips_carry_a_soft_stereo_aac_track_as_long_as_the_picture_that_follows_the_prompt(
    emulator, tmp_path
):
    emu = emulator(latency=0)
    boat = generate(emu, "a paper boat on a rainy street", tmp_path, "boat.mp4")
    kite = generate(emu, "a red kite over the dunes", tmp_path, "kite.mp4")
    facts = video.facts(boat)
    assert facts["audio"] == {"codec": "aac", "channels": 2, "sample_rate": 48_000, "duration_s": 4.0}
    assert facts["faststart"] is True  # the default layout still plays while it downloads
    boat_sound, kite_sound = sound_of(boat), sound_of(kite)
    assert boat_sound.shape[0] == 2
    assert abs(boat_sound.shape[1] / 48_000 - facts["duration_s"]) <= 1 / facts["fps"]
    level = float(np.sqrt(np.mean(boat_sound**2)))
    assert level > 0.005 and float(np.abs(boat_sound).max()) < 0.5  # audible, soft
    length = min(boat_sound.shape[1], kite_sound.shape[1])
    assert not np.allclose(boat_sound[:, :length], kite_sound[:, :length], atol=0.01)

    silent = generate(
        emulator(latency=0, audio=False), "a paper boat on a rainy street", tmp_path, "quiet.mp4"
    )
    assert video.facts(silent)["audio"] is None


def test_the_camera_layout_has_b_frames_and_moov_at_the_end(emulator, tmp_path):
    clip = generate(emulator(latency=0, layout="camera"), "a lighthouse at dusk", tmp_path, "cam.mp4")
    facts = video.facts(clip)
    assert facts["faststart"] is False and facts["audio"]["duration_s"] == 4.0
    with av.open(str(clip)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert any(p.pts != p.dts for p in packets)  # stored out of display order
    # the last frame an extended shot starts from is the last one displayed
    with av.open(str(clip)) as container:
        shown = max(container.decode(video=0), key=lambda f: f.pts).to_ndarray(format="rgb24")
    with av.open(io.BytesIO(video.last_frame_png(clip))) as container:
        extracted = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert np.array_equal(extracted, shown)


@pytest.fixture
def camera_server(emulator, tmp_path, monkeypatch):
    handle = emulator(latency=0.2, layout="camera")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", "test-key")
    monkeypatch.setenv("SEGMIND_BASE_URL", handle.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(api, "_defaults", {})
    return handle


def test_films_of_clips_with_sound_keep_it_and_records_say_so(camera_server):
    async def both():
        prompts = ("a red kite rising over the dunes", "a paper boat drifting at dusk")
        return await asyncio.gather(*(sw.agenerate(p, duration=4, size="landscape") for p in prompts))

    kite, boat = asyncio.run(both())
    assert kite.video["audio"] == {"codec": "aac", "channels": 2, "sample_rate": 48_000, "duration_s": 4.0}

    copied = sw.stitch([kite, boat], "film.mp4")
    faded = sw.stitch([kite, boat], "faded.mp4", crossfade=0.5)
    for film, length in ((copied, 8.0), (faded, 7.5)):
        facts = film.record.video
        assert facts["duration_s"] == pytest.approx(length, abs=0.05)
        assert facts["audio"]["codec"] == "aac" and facts["audio"]["channels"] == 2
        assert facts["audio"]["duration_s"] == pytest.approx(facts["duration_s"], abs=1 / facts["fps"])
        assert facts == video.facts(film)  # the record says what the file is
    # copied: the clips' own packets, pictures and sound, each in its place
    assert first_packet(copied, "video") == first_packet(kite.video_path, "video")
    sound, kite_sound, boat_sound = (sound_of(path)[0] for path in (copied, kite.video_path, boat.video_path))
    assert np.allclose(sound[48_000:96_000], kite_sound[48_000:96_000], atol=1e-4)
    assert np.allclose(sound[240_000:288_000], boat_sound[48_000:96_000], atol=1e-4)


def first_packet(path, kind: str) -> bytes:
    with av.open(str(path)) as container:
        return next(bytes(p) for p in container.demux(**{kind: 0}) if p.size)


def test_a_storyboards_film_keeps_its_shots_sound_and_silent_shots_give_silence(camera_server):
    """The storyboard's film (shots continuing each other, stitched) has a sound track as
    long as its picture; a silent model's shot among sounded ones is silence of its length."""
    board = sw.Storyboard(shots=["a kite rises over the dunes", "the kite dives to the sea"], duration=4)
    film = board.run()
    facts = film.record.video
    assert [c.video["audio"]["duration_s"] for c in board.clips] == [4.0, 4.0]
    assert facts["audio"]["codec"] == "aac"
    assert facts["audio"]["duration_s"] == pytest.approx(facts["duration_s"], abs=1 / facts["fps"])

    sounded = board.clips[-1]
    quiet = sw.extend(sounded, "the kite lands on the sand", model="veo-3.1-fast", sound=False)
    assert quiet.video["audio"] is None  # Veo made it silent, as asked
    mixed = sw.stitch([sounded, quiet], "mixed.mp4")
    mixed_facts = mixed.record.video
    assert mixed_facts["audio"]["duration_s"] == pytest.approx(
        mixed_facts["duration_s"], abs=1 / mixed_facts["fps"]
    )
    tail = sound_of(mixed)[:, -int(3.5 * 48_000) :]  # well inside the silent shot
    assert float(np.abs(tail).max()) < 1e-3
