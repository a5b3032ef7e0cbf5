"""The clips themselves: real, browser-playable H.264 of the asked size and length,
the same bytes for the same parameters, rendered once however often asked."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct

import av
import httpx
import pytest

from sora_widget.emulator.config import DEFAULT_FPS

KEY = {"x-api-key": "test-key"}


def top_level_boxes(data: bytes) -> list[str]:
    """The MP4's top-level box types, in file order."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def probe(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {
            "codec": stream.codec_context.name,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "pix_fmt": stream.codec_context.pix_fmt,
            "duration": float(stream.duration * stream.time_base),
            "fps": float(stream.average_rate),
            "frames": frames,
        }


def generate(emu, body: dict) -> bytes:
    """Through the synchronous /v1 path: one request, the video back."""
    response = httpx.post(emu.base_url + "/v1/sora-2", json=body, headers=KEY, timeout=60)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.slow
def test_an_8_second_portrait_clip_is_real_h264_with_moov_first(emulator):
    emu = emulator(latency=0, fps=DEFAULT_FPS)  # the rate users get (the tests' default is lighter)
    data = generate(emu, {"prompt": "A monk meditating under a waterfall", "duration": 8, "size": "720x1280"})
    facts = probe(data)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert (facts["width"], facts["height"]) == (720, 1280)
    assert facts["duration"] == pytest.approx(8.0, abs=0.1)
    assert facts["fps"] == 24 and facts["frames"] == 192
    boxes = top_level_boxes(data)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_a_4_second_landscape_clip_at_the_configured_frame_rate(emulator):
    # SORA_WIDGET_EMULATOR_FPS=8 for the whole test run (tests/conftest.py), an emulator's own
    # `fps` over it
    for emu, fps in ((emulator(latency=0), 8), (emulator(latency=0, fps=12), 12)):
        data = generate(emu, {"prompt": "a lighthouse at dusk", "duration": "4", "size": "landscape"})
        facts = probe(data)
        assert (facts["width"], facts["height"], facts["fps"], facts["frames"]) == (1280, 720, fps, 4 * fps)
        assert facts["duration"] == pytest.approx(4.0, abs=0.1)
    boxes = top_level_boxes(data)
    assert boxes.index("moov") < boxes.index("mdat")


def test_same_parameters_same_bytes_from_separate_emulators(emulator):
    body = {"prompt": "determinism, twice", "duration": 4, "size": "1280x720"}
    # private caches: each emulator renders on its own
    first, second = emulator(data_dir=None, latency=0), emulator(data_dir=None, latency=0)
    one, two = generate(first, body), generate(second, body)
    assert hashlib.sha256(one).hexdigest() == hashlib.sha256(two).hexdigest()
    assert first.stats()["renders"]["rendered"] == second.stats()["renders"]["rendered"] == 1
    other = generate(first, {**body, "prompt": "determinism, once"})
    assert hashlib.sha256(other).hexdigest() != hashlib.sha256(one).hexdigest()


async def test_concurrent_identical_jobs_share_one_render(emulator):
    emu = emulator(data_dir=None, latency=0.1, workers=8)
    body = {"prompt": "eight at once", "duration": 4, "size": "1280x720"}
    async with httpx.AsyncClient(headers=KEY, timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post(emu.base_url + "/v1/sora-2", json=body) for _ in range(8))
        )
    assert {r.status_code for r in responses} == {200}
    assert len({hashlib.sha256(r.content).digest() for r in responses}) == 1
    stats = emu.stats()
    assert stats["renders"] == {"rendered": 1, "cache_hits": 7}
    assert len({job["sha256"] for job in stats["jobs"].values()}) == 1


def test_a_reference_image_changes_the_picture(emulator):
    import base64

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 0, 255)).save(buffer, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    emu = emulator(latency=0)
    body = {"prompt": "a lighthouse at dusk", "duration": 4, "size": "1280x720"}
    with_reference = generate(emu, {**body, "input_reference": uri})
    without = generate(emu, body)
    assert with_reference != without
    with av.open(io.BytesIO(with_reference)) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    # the blue reference sits centred in the upper part of the frame
    y, x = 122 + 100, 640
    red, green, blue = (int(v) for v in picture[y, x])
    assert blue > 180 and red < 80 and green < 80
