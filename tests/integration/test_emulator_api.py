"""The emulator's API over real HTTP: every endpoint and status code a client meets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from sora_widget import __version__
from sora_widget.params import MODELS

KEY = "test-key"
CLIP = {"prompt": "a lighthouse at dusk", "duration": 4, "size": "1280x720"}


def client_for(emu, key: str | None = KEY, **kwargs) -> httpx.AsyncClient:
    headers = {"x-api-key": key} if key is not None else {}
    return httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=30, **kwargs)


def png_data_uri(colour=(200, 30, 30), size=(48, 32)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def completed(client, finish_job, body=CLIP) -> dict:
    submitted = await client.post("/v2/sora-2", json=body)
    assert submitted.status_code == 200, submitted.text
    final = await finish_job(client, submitted.json()["status_url"])
    assert final.json()["status"] == "COMPLETED", final.text
    result = await client.get(submitted.json()["response_url"])
    assert result.status_code == 200
    return result.json()


async def test_submit_poll_result_and_download(emulator, finish_job):
    emu = emulator()
    async with client_for(emu) as client:
        submitted = await client.post("/v2/sora-2", json=CLIP)
        assert submitted.status_code == 200
        body = submitted.json()
        rid = body["request_id"]
        assert body == {
            "request_id": rid,
            "status": "QUEUED",
            "poll_url": f"{emu.base_url}/v1/requests/{rid}",
            "status_url": f"{emu.base_url}/v2/requests/{rid}/status",
            "response_url": f"{emu.base_url}/v2/requests/{rid}",
        }
        status = await finish_job(client, body["status_url"])
        assert status.status_code == 200
        # a finished status says how it went, without the output
        assert status.json() == {
            "request_id": rid,
            "status": "COMPLETED",
            "error": None,
            "metrics": status.json()["metrics"],
        }
        result = await client.get(body["response_url"])
        data = result.json()
        assert data["status"] == "COMPLETED" and data["request_id"] == rid and data["error"] is None
        assert data["output"] == f"{emu.base_url}/outputs/{rid}.mp4"
        assert set(data["metrics"]) == {
            "inference_time",
            "queue_time",
            "total_time",
            "cost",
            "render_time",
            "synthetic",
        }
        assert data["metrics"] == status.json()["metrics"]
        assert data["metrics"]["synthetic"] is True
        assert data["metrics"]["inference_time"] >= 0.2
        assert data["metrics"]["cost"] == 0.4  # 4 s of sora-2 at $0.10
        polled = await client.get(body["poll_url"])
        assert polled.status_code == 200 and polled.json() == data
        video = await client.get(data["output"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["accept-ranges"] == "bytes"
    assert int(video.headers["content-length"]) == len(video.content)
    assert video.headers["etag"].startswith('"')
    for response in (submitted, status, result, polled, video):
        assert response.headers["x-sora-emulator"] == __version__

    stats = emu.stats()
    job = stats["jobs"][rid]
    assert job["status"] == "COMPLETED" and job["kind"] == "async"
    assert job["params"] == {**CLIP, "input_reference": None}
    assert job["sha256"] == hashlib.sha256(video.content).hexdigest()
    assert job["bytes"] == len(video.content)
    assert job["submitted_at"] <= job["started_at"] < job["completed_at"]
    assert job["render_s"] > 0
    assert stats["submits"] == 1
    assert stats["requests"]["submit"] == 1 and stats["requests"]["result"] == 1
    assert stats["requests"]["output"] == 1
    assert stats["by_request"][rid]["status"] == stats["requests"]["status"] >= 1
    assert stats["answers"]["submit"] == {"200": 1}


async def test_urls_follow_the_host_the_client_used(emulator, finish_job):
    emu = emulator()
    async with client_for(emu) as client:
        data = await completed(client, finish_job)
        rid = data["request_id"]
        elsewhere = {"host": "emulator.example:8443"}
        submitted = await client.post("/v2/sora-2", json=CLIP, headers=elsewhere)
        result = await client.get(f"/v2/requests/{rid}", headers=elsewhere)
    assert submitted.json()["status_url"].startswith("http://emulator.example:8443/v2/requests/")
    assert result.json()["output"] == f"http://emulator.example:8443/outputs/{rid}.mp4"


async def test_a_job_waits_queued_for_a_free_worker(emulator, finish_job):
    # a whole second each, so a slow machine still finds the first one PROCESSING
    emu = emulator(workers=1, latency=1.0)
    async with client_for(emu) as client:
        first = (await client.post("/v2/sora-2", json=CLIP)).json()
        second = (await client.post("/v2/sora-2", json=CLIP)).json()
        assert (await client.get(first["status_url"])).json()["status"] == "PROCESSING"
        assert (await client.get(second["status_url"])).json()["status"] == "QUEUED"
        await finish_job(client, second["status_url"])
        metrics = (await client.get(second["response_url"])).json()["metrics"]
    jobs = emu.stats()["jobs"]
    # the second started the moment the only worker was free
    assert jobs[second["request_id"]]["started_at"] == jobs[first["request_id"]]["completed_at"]
    assert metrics["queue_time"] > 0.5
    assert metrics["total_time"] == pytest.approx(
        metrics["queue_time"] + metrics["inference_time"], abs=0.002
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"duration": 4}, "prompt"),
        ({"prompt": "   ", "duration": 4}, "prompt"),
        ({"prompt": "x", "duration": 5}, "duration=5 is not allowed; allowed: 4, 8, 12"),
        ({"prompt": "x", "duration": "soon"}, "duration"),
        ({"prompt": "x", "size": "1024x1024"}, "'720x1280' (portrait), '1280x720' (landscape)"),
        ({"prompt": "x", "input_reference": "ftp://host/a.png"}, "input_reference"),
        ({"prompt": "x", "input_reference": "/etc/hostname"}, "input_reference"),
        ({"prompt": "x", "input_reference": "data:text/plain;base64,aGk="}, "input_reference"),
    ],
)
async def test_invalid_parameters_are_400_naming_the_field(emulator, body, named):
    emu = emulator()
    async with client_for(emu) as client:
        for path in ("/v2/sora-2", "/v1/sora-2"):
            response = await client.post(path, json=body)
            assert response.status_code == 400
            assert named in response.json()["error"]
    assert emu.stats()["jobs"] == {}


@pytest.mark.parametrize("content", [b"[1, 2]", b'"a prompt"', b"{not json", b""])
async def test_a_body_that_is_not_a_json_object_is_400(emulator, content):
    emu = emulator()
    async with client_for(emu) as client:
        response = await client.post(
            "/v2/sora-2", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json() == {"error": "the request body must be a JSON object"}


async def test_string_durations_are_accepted_and_fields_the_model_lacks_refused_by_name(emulator):
    emu = emulator()
    async with client_for(emu) as client:
        response = await client.post("/v2/sora-2", json={"prompt": "x", "duration": "8", "size": "landscape"})
        seeded = await client.post("/v2/sora-2", json={"prompt": "x", "duration": "8", "seed": 42})
        veo = await client.post("/v2/veo-3.1-fast", json={"prompt": "x", "size": "1280x720"})
    assert response.status_code == 200
    params = emu.stats()["jobs"][response.json()["request_id"]]["params"]
    assert params == {"prompt": "x", "duration": 8, "size": "1280x720", "input_reference": None}
    # each model takes its own fields: another model's is a 400 that names it
    assert seeded.status_code == 400 and "sora-2 takes no parameter 'seed'" in seeded.json()["error"]
    assert (
        veo.status_code == 400 and "'size'" in veo.json()["error"] and "aspect_ratio" in veo.json()["error"]
    )


async def test_keys_are_required_and_never_echoed(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    emu = emulator(api_keys=("sk-right-0001", "sk-right-0002"))
    async with client_for(emu, key=None) as anonymous:
        missing = await anonymous.post("/v2/sora-2", json=CLIP)
        status = await anonymous.get("/v2/requests/whatever/status")
        upload = await anonymous.post("/upload-asset", json={"data_urls": [png_data_uri()]})
    async with client_for(emu, key="sk-wrong-9999") as wrong:
        refused = await wrong.post("/v2/sora-2", json=CLIP)
    async with client_for(emu, key="sk-right-0002") as right:
        accepted = await right.post("/v2/sora-2", json=CLIP)
    assert missing.status_code == status.status_code == upload.status_code == 401
    assert "x-api-key" in missing.json()["error"]
    assert refused.status_code == 401 and refused.json() == {"error": "invalid API key"}
    assert accepted.status_code == 200
    everything = json.dumps(emu.stats()) + refused.text + caplog.text
    for key in ("sk-wrong-9999", "sk-right-0001", "sk-right-0002"):
        assert key not in everything


async def test_any_key_is_accepted_when_none_are_configured(emulator):
    emu = emulator()
    async with client_for(emu, key="anything-goes") as client:
        assert (await client.post("/v2/sora-2", json=CLIP)).status_code == 200
    async with client_for(emu, key="") as empty:
        assert (await empty.post("/v2/sora-2", json=CLIP)).status_code == 401


async def test_unknown_model_id_output_and_route_are_404(emulator):
    emu = emulator()
    async with client_for(emu) as client:
        for path in ("/v2/sora-3", "/v1/sora-3"):
            response = await client.post(path, json=CLIP)
            assert response.status_code == 404
            assert response.json() == {"error": "model not found: sora-3"}
        for path in (
            "/v2/requests/no-such-id/status",
            "/v2/requests/no-such-id",
            "/v1/requests/no-such-id",
            "/outputs/no-such-id.mp4",
        ):
            response = await client.get(path)
            assert response.status_code == 404 and "no-such-id" in response.json()["error"]
        route = await client.get("/v3/nothing")
    assert route.status_code == 404 and "error" in route.json()
    assert route.headers["x-sora-emulator"] == __version__


async def test_results_expire_after_the_retention(emulator, finish_job):
    emu = emulator(latency=0.05, retention=0.5)
    async with client_for(emu) as client:
        data = await completed(client, finish_job)
        rid = data["request_id"]
        for _ in range(100):  # until the emulator forgets it: 0.5 s, polled for at most 10 s
            gone = await client.get(f"/v2/requests/{rid}/status")
            if gone.status_code == 404:
                # an expired job stays in the stats for one more retention period: a longer
                # one now keeps it there while a loaded machine makes the next requests
                emu.configure(retention=60.0)
                break
            assert gone.json()["status"] == "COMPLETED"
            await asyncio.sleep(0.1)
        result = await client.get(f"/v2/requests/{rid}")
        output = await client.get(data["output"])
    assert gone.status_code == result.status_code == output.status_code == 404
    assert "expired" in result.json()["error"]
    assert emu.stats()["jobs"][rid]["expired"] is True


async def test_credits_are_charged_per_second_and_refused_with_406(emulator):
    emu = emulator(credits=6)
    async with client_for(emu) as client:
        first = await client.post("/v2/sora-2", json=CLIP)
        second = await client.post("/v2/sora-2", json=CLIP)
        sync = await client.post("/v1/sora-2", json=CLIP)
        assert first.status_code == 200
        assert second.status_code == sync.status_code == 406
        assert second.json() == {"error": "insufficient credits: this request costs 4 and 2 remain"}
        patched = await client.post("/_emulator/config", json={"credits": 100})
        assert patched.status_code == 200 and patched.json()["config"]["credits"] == 100
        assert (await client.post("/v2/sora-2", json=CLIP)).status_code == 200
    stats = emu.stats()
    assert stats["submits"] == 2 and stats["credits"] == 96


async def test_a_blocked_prompt_is_failed_and_served_as_422(emulator, finish_job):
    emu = emulator(block_words=("volcano",))
    async with client_for(emu) as client:
        submitted = (await client.post("/v2/sora-2", json={**CLIP, "prompt": "An erupting VOLCANO"})).json()
        status = await finish_job(client, submitted["status_url"])
        result = await client.get(submitted["response_url"])
        polled = await client.get(submitted["poll_url"])
        sync = await client.post("/v1/sora-2", json={**CLIP, "prompt": "volcanoes"})
    for response in (status, result, polled, sync):
        assert response.status_code == 422
        body = response.json()
        assert body["status"] == "FAILED"
        assert body["error"].startswith("Your request was blocked by our content policy")
        assert body["metrics"]["synthetic"] is True and "inference_time" in body["metrics"]
        assert "cost" not in body["metrics"]  # nothing delivered, nothing charged
    assert status.json()["request_id"] == submitted["request_id"]
    assert emu.stats()["jobs"][submitted["request_id"]]["status"] == "FAILED"


async def test_rate_limit_answers_429_with_retry_after_but_never_on_outputs(emulator, finish_job):
    emu = emulator(rate_limit=0.2)  # one request, then one per 5 s
    async with client_for(emu) as client:
        submitted = await client.post("/v2/sora-2", json=CLIP)
        limited = await client.get(submitted.json()["status_url"])
        assert submitted.status_code == 200
        assert limited.status_code == 429
        assert limited.headers["retry-after"].isdigit() and int(limited.headers["retry-after"]) >= 1
        assert "rate limit" in limited.json()["error"]
        async with client_for(emu, key="another-key") as other:
            assert (await other.get(submitted.json()["status_url"])).status_code == 200
        emu.configure(rate_limit=None)
        data = await completed(client, finish_job)
        emu.configure(rate_limit=0.01)
        assert (await client.post("/v2/sora-2", json=CLIP)).status_code == 200
        assert (await client.post("/v2/sora-2", json=CLIP)).status_code == 429
        downloads = [await client.get(data["output"]) for _ in range(3)]
    assert all(d.status_code == 200 for d in downloads)
    assert emu.stats()["requests"]["rate_limited"] == 2


async def test_range_requests(emulator, finish_job):
    emu = emulator()
    async with client_for(emu) as client:
        url = (await completed(client, finish_job))["output"]
        whole = await client.get(url)
        data, size = whole.content, len(whole.content)
        etag = whole.headers["etag"]
        head = await client.get(url, headers={"range": "bytes=0-99"})
        middle = await client.get(url, headers={"range": "bytes=1000-1999"})
        tail = await client.get(url, headers={"range": "bytes=-500"})
        rest = await client.get(url, headers={"range": f"bytes={size - 10}-", "if-range": etag})
        stale = await client.get(url, headers={"range": "bytes=0-99", "if-range": '"something-else"'})
        beyond = await client.get(url, headers={"range": f"bytes={size}-"})
        headers_only = await client.head(url)
    assert head.status_code == 206 and head.content == data[:100]
    assert head.headers["content-range"] == f"bytes 0-99/{size}"
    assert head.headers["content-length"] == "100"
    assert middle.content == data[1000:2000]
    assert tail.status_code == 206 and tail.content == data[-500:]
    assert tail.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert rest.status_code == 206 and rest.content == data[-10:]
    assert stale.status_code == 200 and stale.content == data
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    assert beyond.headers["content-type"] == "application/json" and "error" in beyond.json()
    assert headers_only.status_code == 200 and headers_only.content == b""
    assert headers_only.headers["content-length"] == str(size)


async def test_upload_asset_round_trip_and_use_as_reference(emulator, finish_job):
    emu = emulator()
    image = png_data_uri()
    async with client_for(emu) as client:
        uploaded = await client.post("/upload-asset", json={"data_urls": [image, png_data_uri((0, 0, 200))]})
        assert uploaded.status_code == 200
        body = uploaded.json()
        assert body["message"] and len(body["file_urls"]) == 2
        url = body["file_urls"][0]
        assert url.startswith(f"{emu.base_url}/assets/") and url.endswith(".png")
        served = await client.get(url)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert served.content == base64.b64decode(image.split(",", 1)[1])
        for bad in (
            {"data_urls": ["data:text/plain;base64,aGVsbG8="]},
            {"data_urls": ["data:image/png;base64," + base64.b64encode(b"not a png").decode()]},
            {"data_urls": []},
            {"data_urls": "data:image/png;base64,AAAA"},
            {"files": []},
        ):
            refused = await client.post("/upload-asset", json=bad)
            assert refused.status_code == 400, bad
        data = await completed(
            client, finish_job, {**CLIP, "prompt": "with a reference", "input_reference": url}
        )
    job = emu.stats()["jobs"][data["request_id"]]
    assert job["params"]["input_reference"] == url
    assert emu.stats()["requests"]["upload"] == 6 and emu.stats()["assets"] == 2


async def test_references_as_data_uri_and_external_url_render(emulator, finish_job):
    emu = emulator()
    async with client_for(emu) as client:
        with_image = await completed(client, finish_job, {**CLIP, "input_reference": png_data_uri()})
        with_url = await completed(
            client, finish_job, {**CLIP, "input_reference": "https://images.example/cat.png"}
        )
    jobs = emu.stats()["jobs"]
    shas = {jobs[r["request_id"]]["sha256"] for r in (with_image, with_url)}
    assert len(shas) == 2


async def test_v1_sync_answers_with_the_video(emulator):
    emu = emulator(latency=0.1)
    async with client_for(emu) as client:
        response = await client.post("/v1/sora-2", json=CLIP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp"
    stats = emu.stats()
    assert stats["syncs"] == 1 and stats["submits"] == 0 and stats["requests"]["sync"] == 1
    job = stats["jobs"][response.headers["x-request-id"]]
    assert job["kind"] == "sync" and job["sha256"] == hashlib.sha256(response.content).hexdigest()


async def test_runtime_config_patch_flips_chaos_on_and_off(emulator, finish_job):
    emu = emulator()
    async with client_for(emu) as client:
        submitted = (await client.post("/v2/sora-2", json=CLIP)).json()
        on = await client.post(
            "/_emulator/config", json={"chaos_error_rate": 1.0, "chaos_endpoints": ["status"]}
        )
        assert on.status_code == 200 and on.json()["config"]["chaos_endpoints"] == ["status"]
        failing = await client.get(submitted["status_url"])
        assert failing.status_code in (500, 502, 504) and "chaos" in failing.json()["error"]
        await client.post("/_emulator/config", json={"chaos_error_rate": 0})
        assert (await client.get(submitted["status_url"])).status_code == 200
        for bad in ({"port": 1}, {"colour": "red"}, {"workers": 0}, {"chaos_drop_rate": "lots"}):
            refused = await client.post("/_emulator/config", json=bad)
            assert refused.status_code == 400, bad
        json_type = {"content-type": "application/json"}
        assert (await client.post("/_emulator/config", content=b"[]", headers=json_type)).status_code == 400
    assert emu.configure(latency=0.01).latency == 0.01
    assert emu.config.latency == 0.01
    with pytest.raises(ValueError, match="cannot change"):
        emu.configure(host="0.0.0.0")


async def test_outputs_on_a_separate_host(emulator, finish_job):
    emu = emulator(separate_output_host=True)
    assert emu.output_base_url != emu.base_url
    async with client_for(emu) as client:
        data = await completed(client, finish_job)
        output = data["output"]
        assert output.startswith(emu.output_base_url + "/outputs/")
        assert urlsplit(output).port != urlsplit(emu.base_url).port
        on_api_host = await client.get(f"/outputs/{data['request_id']}.mp4")
        with_key = await client.get(output)
    async with httpx.AsyncClient(timeout=30) as anonymous:
        without_key = await anonymous.get(output)
        api_on_output_host = await anonymous.get(emu.output_base_url + "/_emulator/stats")
    assert on_api_host.status_code == 404
    assert with_key.status_code == without_key.status_code == 200
    assert with_key.headers["x-sora-emulator"] == __version__
    assert api_on_output_host.status_code == 404
    stats = emu.stats()
    assert stats["requests"]["output"] == 2 and stats["outputs_with_api_key"] == 1


async def test_the_stats_endpoint_needs_no_key(emulator):
    emu = emulator()
    async with client_for(emu, key=None) as client:
        stats = await client.get("/_emulator/stats")
        about = await client.get("/")
    assert stats.status_code == 200 and stats.json()["version"] == __version__
    assert stats.json()["config"]["latency"] == 0.2
    assert stats.json()["models"] == {"served": list(MODELS), "retired": []}
    assert about.json()["synthetic"] is True
    assert about.json()["models"] == list(MODELS) and about.json()["retired_models"] == []


def test_many_emulators_side_by_side_and_stop_is_idempotent(emulator):
    emus = [emulator() for _ in range(3)]
    assert len({e.base_url for e in emus}) == 3
    for emu in emus:
        assert httpx.get(emu.base_url + "/_emulator/stats", timeout=5).status_code == 200
    with emus[0] as first:
        pass
    first.stop()
    assert "stopped" in repr(first)
    with pytest.raises(httpx.ConnectError):
        httpx.get(first.base_url + "/_emulator/stats", timeout=5)
    assert first.stats()["version"] == __version__  # the last figures stay readable


def test_a_private_cache_directory_is_removed_on_stop(emulator):
    emu = emulator(data_dir=None)
    assert emu.stats()["config"]["data_dir"] is None
    directory = emu.data_dir
    assert directory.is_dir() and (directory / "renders").is_dir()
    emu.stop()
    assert not directory.exists()


async def test_stats_summarise_data_uri_references(emulator):
    emu = emulator()
    uri = png_data_uri(size=(400, 400))
    async with client_for(emu) as client:
        rid = (await client.post("/v2/sora-2", json={**CLIP, "input_reference": uri})).json()["request_id"]
    shown = emu.stats()["jobs"][rid]["params"]["input_reference"]
    assert shown.startswith("data:image/png;base64,…") and f"({len(uri)} characters" in shown


async def test_create_app_is_a_plain_asgi_app(tmp_path):
    from sora_widget.emulator import create_app

    app = create_app(data_dir=tmp_path, latency=0, block_words=("x",))  # blocked: nothing to render
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator.test", headers={"x-api-key": KEY}
    ) as c:
        submitted = await c.post("/v2/sora-2", json={**CLIP, "prompt": "x"})
        refused = await c.post("/v2/sora-2", json={"prompt": ""})
    assert submitted.status_code == 200
    assert submitted.json()["status_url"].startswith("http://emulator.test/v2/requests/")
    assert refused.status_code == 400 and refused.headers["x-sora-emulator"] == __version__
    with pytest.raises(TypeError, match="colour"):
        create_app(colour="red")


async def test_stats_say_when_a_client_first_learned_a_job_ended(emulator, finish_job):
    emu = emulator()
    async with client_for(emu) as client:
        submitted = (await client.post("/v2/sora-2", json=CLIP)).json()
        rid = submitted["request_id"]
        first = (await client.get(submitted["status_url"])).json()
        assert rid not in emu.stats()["detected_at"] or first["status"] == "COMPLETED"
        await finish_job(client, submitted["status_url"])
        await client.get(submitted["status_url"])  # asking again does not move the moment
    stats = emu.stats()
    job = stats["jobs"][rid]
    assert job["completed_at"] <= stats["detected_at"][rid]
