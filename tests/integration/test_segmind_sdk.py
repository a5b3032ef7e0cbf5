"""The official segmind SDK (1.3.0), unchanged, against the emulator: if the SDK is
happy, the emulator speaks Segmind's dialect (paths, codes, bodies, 422-on-FAILED).

SDK 1.3.0 polls `status_url` and reads `response_url`; the submit's `poll_url` it keeps
in `submit_response`. The SDK's own `AsyncJob`, aimed at `poll_url`, follows a job there
just as well — which is what a client that only keeps `poll_url` does."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

segmind = pytest.importorskip("segmind")
from segmind import AsyncJob, InferenceFailed, InferenceTimeout, SegmindClient, SegmindError  # noqa: E402
from segmind.files import Files  # noqa: E402

KEY = "test-key"
CLIP = {"prompt": "A monk meditating under a waterfall", "duration": "4", "size": "1280x720"}


def sdk(emu, key: str = KEY) -> SegmindClient:
    return SegmindClient(api_key=key, base_url=emu.base_url + "/v1")


def through_poll_url(job: AsyncJob) -> AsyncJob:
    """The same job, followed (status and result) through its `poll_url`."""
    poll_url = job.submit_response["poll_url"]
    assert poll_url.endswith(f"/v1/requests/{job.request_id}")
    return dataclasses.replace(job, status_url=poll_url, response_url=poll_url)


def test_the_sdk_version_is_the_one_we_target():
    assert segmind.__version__ == "1.3.0"


def test_submit_async_and_wait_completes_with_an_output_url(emulator):
    emu = emulator()
    client = sdk(emu)
    job = client.submit_async("sora-2", prompt=CLIP["prompt"], duration="8", size="720x1280")
    assert job.request_id and job.status()["status"] in ("QUEUED", "PROCESSING")
    result = job.wait(interval=0.2, timeout=60)
    assert result["status"] == "COMPLETED" and result["error"] is None
    assert result["output"] == f"{emu.base_url}/outputs/{job.request_id}.mp4"
    assert result["metrics"]["inference_time"] > 0 and result["metrics"]["cost"] == pytest.approx(0.8)
    assert result["metrics"]["synthetic"] is True
    assert job.result() == result
    assert emu.stats()["jobs"][job.request_id]["params"]["duration"] == 8


def test_submit_async_and_wait_through_the_poll_url(emulator):
    emu = emulator()
    job = through_poll_url(sdk(emu).submit_async("sora-2", **CLIP))
    assert job.status()["status"] in ("QUEUED", "PROCESSING")
    result = job.wait(interval=0.2, timeout=60)
    assert result["status"] == "COMPLETED" and result["error"] is None
    assert result["output"] == f"{emu.base_url}/outputs/{job.request_id}.mp4"
    stats = emu.stats()
    assert stats["by_request"][job.request_id]["poll"] >= 2
    assert "status" not in stats["by_request"][job.request_id]  # never asked the v2 status


@pytest.mark.parametrize("failed_status", [422, 200])
@pytest.mark.parametrize("via", ["status_url", "poll_url"])
def test_a_failed_job_raises_inference_failed_in_either_form(emulator, failed_status, via):
    emu = emulator(block_words=("waterfall",), failed_status=failed_status)
    job = sdk(emu).submit_async("sora-2", **CLIP)
    job = through_poll_url(job) if via == "poll_url" else job
    with pytest.raises(InferenceFailed) as caught:
        job.wait(interval=0.1, timeout=60)
    assert "content policy" in caught.value.detail
    assert caught.value.status_body["status"] == "FAILED"
    assert caught.value.status_body["request_id"] == job.request_id
    assert "inference_time" in caught.value.status_body["metrics"]


def test_a_blocked_prompt_raises_inference_failed_with_the_detail(emulator):
    emu = emulator(block_words=("waterfall",))
    job = sdk(emu).submit_async("sora-2", **CLIP)
    with pytest.raises(InferenceFailed) as caught:
        job.wait(interval=0.1, timeout=60)
    assert "content policy" in caught.value.detail
    assert caught.value.status_body["status"] == "FAILED"
    assert job.result()["status"] == "FAILED"  # the SDK reads the 422 body as a result


@pytest.mark.parametrize("via", ["status_url", "poll_url"])
def test_wait_times_out_while_the_job_runs_on(emulator, via):
    emu = emulator(latency=30)
    job = sdk(emu).submit_async("sora-2", **CLIP)
    job = through_poll_url(job) if via == "poll_url" else job
    with pytest.raises(InferenceTimeout) as caught:
        job.wait(interval=0.05, timeout=0.2)
    assert caught.value.request_id == job.request_id


@pytest.mark.parametrize(
    ("options", "slug", "params", "status", "detail"),
    [
        ({}, "sora-2", {**CLIP, "duration": "5"}, 400, "duration"),
        ({"api_keys": ("another-key",)}, "sora-2", CLIP, 401, "invalid API key"),
        ({}, "sora-3", CLIP, 404, "model not found: sora-3"),
        ({"credits": 1}, "sora-2", CLIP, 406, "insufficient credits"),
        ({"retired_models": ("sora-2",)}, "sora-2", CLIP, 410, "retired"),
    ],
)
def test_errors_surface_as_segmind_error_with_the_status(emulator, options, slug, params, status, detail):
    emu = emulator(**options)
    for call in (sdk(emu).submit_async, sdk(emu).run_sync):
        with pytest.raises(SegmindError) as caught:
            call(slug, **params)
        assert caught.value.status == status
        assert detail in caught.value.detail


def test_run_sync_returns_the_mp4(emulator):
    emu = emulator(latency=0.05)
    response = sdk(emu).run_sync("sora-2", **CLIP)
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp"
    assert emu.stats()["syncs"] == 1


def test_files_upload_then_use_as_reference(emulator, tmp_path, monkeypatch):
    emu = emulator()
    monkeypatch.setattr(Files, "STORAGE_BASE_URL", emu.base_url)
    image = tmp_path / "reference.jpg"
    Image.new("RGB", (40, 30), (10, 120, 200)).save(image)
    client = sdk(emu)
    uploaded = client.files.upload(image)
    assert uploaded["message"]
    (url,) = uploaded["file_urls"]
    assert url.startswith(emu.base_url + "/assets/") and url.endswith(".jpg")
    result = client.submit_async("sora-2", **CLIP, input_reference=url).wait(interval=0.1, timeout=60)
    assert result["status"] == "COMPLETED"
    served = client._client.get(url)
    assert Image.open(io.BytesIO(served.content)).size == (40, 30)


def test_the_request_history_through_generations_get_and_history(emulator, monkeypatch):
    """SDK 1.3.0's `generations.history()` and `.get()`, unchanged, read the emulator's request
    history: pointed at it as `files.upload` is (the SDK names Segmind's history host in a
    module constant, as it does its storage host)."""
    import importlib

    # the module (`segmind.generations` the attribute is the package's module-level proxy)
    generations = importlib.import_module("segmind.generations")
    emu = emulator(block_words=("volcano",))
    monkeypatch.setattr(
        generations, "REQUEST_HISTORY_URL", emu.base_url + "/inference-request/request-history"
    )
    client = sdk(emu)
    made = client.submit_async("sora-2", **CLIP)
    made.wait(interval=0.1, timeout=60)
    blocked = client.submit_async("sora-2", **{**CLIP, "prompt": "a volcano at night"})
    with pytest.raises(InferenceFailed):
        blocked.wait(interval=0.1, timeout=60)

    row = client.generations.get(made.request_id)
    assert row["request_id"] == made.request_id and row["model_status"] == "COMPLETED"
    assert row["credits_deduction"] == pytest.approx(0.4) and row["request_body"] == CLIP
    assert row["generation_url"] == f"{emu.base_url}/outputs/{made.request_id}.mp4"
    page = client.generations.history(model_name="sora-2", status="FAILED", per_page=5)
    assert [r["request_id"] for r in page["data"]] == [blocked.request_id]
    everything = client.generations.history(sort_by="credits_deduction", sort_order="desc")
    assert [r["request_id"] for r in everything["data"]] == [made.request_id, blocked.request_id]
    with pytest.raises(SegmindError) as missing:
        client.generations.get("no-such-request")
    assert missing.value.status == 404
    with pytest.raises(SegmindError) as refused:
        client.generations.history(per_page=500)
    assert refused.value.status == 400
