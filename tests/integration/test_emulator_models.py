"""Every model of the table, served by the emulator with that model's sizes, latency and
prices; retired models answer 410 and say what is still available."""

from __future__ import annotations

import io

import av
import httpx
import pytest

from sora_widget.emulator import start
from sora_widget.params import MODELS, validate

KEY = {"x-api-key": "test-key"}


def probe(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        return {
            "codec": stream.codec_context.name,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "duration": float(stream.duration * stream.time_base),
        }


@pytest.mark.slow
def test_sora_2_pro_renders_a_real_1792x1024_h264_clip(emulator):
    emu = emulator(latency=0)
    body = {"prompt": "a glacier calving into the sea", "duration": 4, "size": "1792x1024"}
    with httpx.Client(base_url=emu.base_url, headers=KEY, timeout=120) as client:
        sync = client.post("/v1/sora-2-pro", json=body)
        submitted = client.post("/v2/sora-2-pro", json=body).json()
        for _ in range(1200):
            polled = client.get(submitted["poll_url"]).json()
            if polled["status"] == "COMPLETED":
                break
        video = client.get(polled["output"]).content
        refused = client.post("/v2/sora-2", json=body)  # that size is pro-only
    assert sync.status_code == 200, sync.text
    facts = probe(sync.content)
    assert facts["codec"] == "h264" and (facts["width"], facts["height"]) == (1792, 1024)
    assert facts["duration"] == pytest.approx(4.0, abs=0.1)
    assert float(sync.headers["x-cost"]) == pytest.approx(
        4 * MODELS["sora-2-pro"].usd_per_second["1792x1024"]
    )
    # the same clip by the async path, and priced by the table
    assert video == sync.content
    assert polled["metrics"]["cost"] == pytest.approx(4 * MODELS["sora-2-pro"].usd_per_second["1792x1024"])
    assert refused.status_code == 400 and "sora-2-pro also offers" in refused.json()["error"]
    jobs = emu.stats()["jobs"]
    assert jobs[submitted["request_id"]]["model"] == "sora-2-pro"


def test_each_model_is_served_on_v2_and_v1_with_its_own_sizes(emulator):
    emu = emulator(latency=30)  # accepted is enough: nothing here waits for a clip
    with httpx.Client(base_url=emu.base_url, headers=KEY, timeout=30) as client:
        for name, model in MODELS.items():
            frame = (
                {"first_frame": "https://example.com/f.png"} if model.field("first_frame").required else {}
            )
            for size in model.sizes or [None]:
                body = validate("x", model=name, size=size, **frame).payload()
                answer = client.post(f"/v2/{name}", json=body)
                assert answer.status_code == 200, (name, size, answer.text)
            offered_elsewhere = {s for m in MODELS.values() for s in m.sizes} - set(model.sizes)
            for size in offered_elsewhere:
                body = {**validate("x", model=name, **frame).payload(), "size": size}
                for path in (f"/v2/{name}", f"/v1/{name}"):
                    refused = client.post(path, json=body)
                    assert refused.status_code == 400 and "size" in refused.json()["error"], (path, size)
    served = {job["model"] for job in emu.stats()["jobs"].values()}
    assert served == set(MODELS)


def test_a_retired_model_answers_410_naming_the_models_available(emulator):
    emu = emulator(retired_models=["sora-2-pro"])
    clip = {"prompt": "x", "duration": 4, "size": "720x1280"}
    with httpx.Client(base_url=emu.base_url, headers=KEY, timeout=30) as client:
        gone = [client.post(path, json=clip) for path in ("/v2/sora-2-pro", "/v1/sora-2-pro")]
        unknown = client.post("/v2/sora-3", json=clip)
        still = client.post("/v2/sora-2", json=clip)
        about = client.get("/").json()
        emu.configure(retired_models=[])  # a run-time knob: the model comes back
        back = client.post("/v2/sora-2-pro", json=clip)
    for answer in gone:
        assert answer.status_code == 410
        body = answer.json()
        assert "retired" in body["error"] and "sora-2-pro" in body["error"]
        available = [m for m in MODELS if m != "sora-2-pro"]
        assert f"available models: {', '.join(available)}" in body["error"]
        assert body["available_models"] == available
    assert unknown.status_code == 404 and unknown.json() == {"error": "model not found: sora-3"}
    assert still.status_code == back.status_code == 200
    assert about["models"] == [m for m in MODELS if m != "sora-2-pro"] and about["retired_models"] == [
        "sora-2-pro"
    ]
    stats = emu.stats()
    assert stats["models"] == {"served": list(MODELS), "retired": []}
    assert stats["answers"]["submit"]["410"] == 1 and stats["answers"]["sync"]["410"] == 1
    assert len(stats["jobs"]) == 2  # nothing was created for the retired model


def test_start_takes_retired_models_and_even_one_the_table_no_longer_has(tmp_path):
    with start(latency=0.1, data_dir=tmp_path, retired_models=["sora-2", "sora-1"]) as emu:
        clip = {"prompt": "x", "duration": 4}
        old = httpx.post(emu.base_url + "/v2/sora-1", json=clip, headers=KEY, timeout=30)
        current = httpx.post(emu.base_url + "/v2/sora-2", json=clip, headers=KEY, timeout=30)
        models = emu.stats()["models"]
    assert old.status_code == current.status_code == 410
    others = [m for m in MODELS if m != "sora-2"]
    assert old.json()["available_models"] == others
    assert models == {"served": others, "retired": ["sora-2", "sora-1"]}


def test_a_models_typical_latency_scales_the_configured_one(emulator):
    emu = emulator(latency=0)
    clip = {"prompt": "a heron in fog", "duration": 4, "size": "720x1280"}
    scale = MODELS["sora-2-pro"].typical_latency_s / MODELS["sora-2"].typical_latency_s

    def finished(client: httpx.Client, model: str) -> dict:
        body = client.post(f"/v2/{model}", json=clip).json()
        for _ in range(2400):
            polled = client.get(body["poll_url"]).json()
            if polled["status"] == "COMPLETED":
                return polled["metrics"]
        raise AssertionError(f"the {model} job did not finish")

    with httpx.Client(base_url=emu.base_url, headers=KEY, timeout=60) as client:
        for model in ("sora-2", "sora-2-pro"):
            finished(client, model)  # rendered once: the timed jobs below find their clip ready
        emu.configure(latency=0.5)
        metrics = {model: finished(client, model) for model in ("sora-2", "sora-2-pro")}
    assert 0.5 <= metrics["sora-2"]["inference_time"] < 0.5 * scale - 0.1
    assert metrics["sora-2-pro"]["inference_time"] >= 0.5 * scale - 0.002
    for model, figures in metrics.items():
        assert figures["cost"] == pytest.approx(4 * MODELS[model].usd_per_second["720x1280"])
