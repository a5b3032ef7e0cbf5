"""Every catalogued model end to end on the emulator over loopback: `sw.generate` with the
model's own fields → a clip made under the model's own parameter names, priced by its rule
and recorded with what was sent → the same call again reuses it (0 submits). One test per
model, from the catalogue: a model added there is covered here."""

from __future__ import annotations

import base64
import io

import av
import pytest
from PIL import Image

import sora_widget as sw
from sora_widget import api, cost, params
from sora_widget.client import PollPolicy
from sora_widget.params import MODELS
from sora_widget.records import Generation

FAKE_KEY = "sk-test-FAKE-models-71c4"
FAST_POLL = PollPolicy(first_check=0.05, min_interval=0.05, max_interval=0.3, expected_s=0.3)


def png(width: int, height: int, colour: tuple[int, int, int]) -> str:
    """A data URI of a small image of this shape (its pixels go up with the request)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


#: what each call asks beyond the prompt: the model's first duration, its images where it
#: takes them (portrait, so an image-shaped clip is portrait), sound off where it is a choice
def request_for(name: str) -> dict[str, object]:
    entry = MODELS[name]
    fields: dict[str, object] = {"model": name, "duration": entry.durations[0]}
    if entry.has("first_frame"):
        fields["first_frame"] = png(36, 64, (200, 120, 40))
    if entry.has("last_frame"):
        fields["last_frame"] = png(36, 64, (40, 120, 200))
    if entry.has("sound"):
        fields["sound"] = False
    if entry.has("seed"):
        fields["seed"] = 11
    if entry.has("size"):
        fields["size"] = "landscape"
    return fields


@pytest.fixture
def here(emulator, tmp_path, monkeypatch):
    server = emulator(latency=0.2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", server.base_url)
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    monkeypatch.setattr(api, "_defaults", {"poll": FAST_POLL})
    monkeypatch.setattr(cost, "_session", cost.Budget())
    return server


@pytest.mark.parametrize("name", list(MODELS))
async def test_a_clip_of_every_model_is_made_recorded_and_reused(here, name, capsys):
    fields = request_for(name)
    clip = await sw.agenerate("a lighthouse at dusk", **fields)
    request = params.validate("a lighthouse at dusk", **fields)
    assert clip.status == "COMPLETED" and clip.model == name and clip.params == request

    # sent under the model's own names, as the emulator's stats show what it received
    job = here.stats()["jobs"][clip.request_id]
    assert job["model"] == name and job["params"]["duration"] == request.duration
    body = request.payload()
    assert set(body) <= {"prompt", *(f.wire for f in MODELS[name].fields)}

    # the clip is the shape asked (or the first frame's), and its cost the model's price rule
    with av.open(clip.video_path) as container:
        stream = container.streams.video[0]
        shape = (stream.codec_context.width, stream.codec_context.height)
    expected = request.size or "720x1280"  # a portrait first frame makes a portrait clip
    assert f"{shape[0]}x{shape[1]}" == expected
    assert clip.cost == {"usd": pytest.approx(params.clip_price(request)[0]), "source": "segmind"}

    # the record says what was asked, and reads back as it was
    saved = Generation.from_dict(clip.to_dict())
    assert saved.params == request and saved.model == name
    if MODELS[name].has("last_frame"):
        assert saved.params.last_frame == fields["last_frame"]

    # the same call again: the same clip, nothing sent
    submits = here.stats()["requests"]["submit"]
    again = await sw.agenerate("a lighthouse at dusk", **fields)
    assert again.id == clip.id and here.stats()["requests"]["submit"] == submits
    assert f"Reused clip {clip.id}" in capsys.readouterr().out
