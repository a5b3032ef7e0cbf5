"""The emulator's bodies held against the shapes Segmind's real API sends.

The expected shapes below are written down (not imported) from two sources:

- Segmind's official Python SDK, segmind/segmind-python, `tests/test_v2.py`: its
  fixtures of the real v2 bodies — `SUBMIT_BODY`, `RESULT_BODY`, the FAILED body served
  as HTTP 422 (`test_wait_raises_inference_failed_on_4xx_terminal_body`) and the FAILED
  status served as HTTP 200 (`test_wait_raises_inference_failed_on_failed`).
- The metrics keys beyond `inference_time` (`queue_time`, `total_time`, `cost`), as
  Segmind's documentation names them (docs.segmind.com, "async inference"; summarised in
  api-evangelist/segmind, `data-model/segmind-data-model.yml`, `Metrics`). `cost` is in
  Segmind credits, which are priced in US dollars; a FAILED job's metrics carry timings
  and no cost, since nothing was charged.

Our own additions are allowed beside those keys (the emulator marks itself with
`synthetic: true` in `metrics` and the `x-sora-emulator` header), never instead of them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from sora_widget import __version__

KEY = {"x-api-key": "test-key"}
CLIP = {"prompt": "A monk meditating under a waterfall", "duration": 4, "size": "1280x720"}
RID = "{id}"

# -- segmind-python tests/test_v2.py ----------------------------------------------------------
#: SUBMIT_BODY: every key, and where each URL points
SUBMIT_SHAPE = {
    "request_id": str,
    "status": "QUEUED",
    "poll_url": "/v1/requests/{id}",
    "response_url": "/v2/requests/{id}",
    "status_url": "/v2/requests/{id}/status",
}
#: RESULT_BODY: {"status": "COMPLETED", "error": None, "metrics": {"inference_time": 0.5}, "output": "ok"}
RESULT_SHAPE = {"status": "COMPLETED", "error": None, "metrics": dict, "output": str}
RESULT_METRICS = {"inference_time": float}
#: the FAILED body the status URL serves as HTTP 422:
#: {"status": "FAILED", "error": "…", "metrics": {"inference_time": 0.008}, "request_id": REQ_ID}
FAILED_422_SHAPE = {"status": "FAILED", "error": str, "metrics": dict, "request_id": str}
#: a FAILED status may also come as HTTP 200: {"status": "FAILED", "error": "boom"}
FAILED_200_SHAPE = {"status": "FAILED", "error": str}

# -- Segmind's documented metrics (see the module docstring) ---------------------------------
METRICS_COMPLETED = {"inference_time": float, "queue_time": float, "total_time": float, "cost": float}
METRICS_FAILED = {"inference_time": float, "queue_time": float, "total_time": float}


def assert_shape(body: Any, shape: dict[str, Any], request_id: str | None = None) -> None:
    """Every key of `shape` is in `body`, with a value of that type, equal to that value,
    or (a path with {id}) a URL ending in that path."""
    assert isinstance(body, dict), body
    missing = set(shape) - set(body)
    assert not missing, f"missing {sorted(missing)} in {body}"
    for key, expected in shape.items():
        value = body[key]
        if expected is float:
            assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        elif isinstance(expected, type):
            assert isinstance(value, expected), (key, value)
        elif isinstance(expected, str) and RID in expected:
            assert request_id is not None
            assert isinstance(value, str) and value.startswith("http://"), (key, value)
            assert value.endswith(expected.replace(RID, request_id)), (key, value)
        else:
            assert value == expected, (key, value)


def client_for(emu) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=emu.base_url, headers=KEY, timeout=30)


async def until(client: httpx.AsyncClient, url: str, statuses: tuple[str, ...]) -> httpx.Response:
    for _ in range(600):
        response = await client.get(url)
        if response.json().get("status") in statuses:
            return response
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never reached {statuses}")


async def test_submit_and_completed_bodies_have_every_key_the_sdk_fixtures_use(emulator):
    emu = emulator()
    async with client_for(emu) as client:
        submitted = await client.post("/v2/sora-2", json=CLIP)
        body = submitted.json()
        rid = body["request_id"]
        assert_shape(body, SUBMIT_SHAPE, rid)
        status = await until(client, body["status_url"], ("COMPLETED",))
        result = await client.get(body["response_url"])
        polled = await client.get(body["poll_url"])
    for answer in (result, polled):
        assert answer.status_code == 200
        assert_shape(answer.json(), RESULT_SHAPE)
        assert_shape(answer.json()["metrics"], {**RESULT_METRICS, **METRICS_COMPLETED})
    # the status of a finished job: its state, error and metrics (the output is the result's)
    assert_shape(status.json(), {"status": "COMPLETED", "error": None, "metrics": dict})
    assert "output" not in status.json()
    # synthetic facts stay marked, beside the real keys
    assert result.json()["metrics"]["synthetic"] is True
    assert all(r.headers["x-sora-emulator"] == __version__ for r in (submitted, status, result, polled))


async def test_failed_bodies_have_every_key_of_the_422_fixture(emulator):
    emu = emulator(block_words=("waterfall",))
    async with client_for(emu) as client:
        body = (await client.post("/v2/sora-2", json=CLIP)).json()
        answers = [await until(client, body["status_url"], ("FAILED",))]
        answers += [await client.get(body["response_url"]), await client.get(body["poll_url"])]
    for answer in answers:
        assert answer.status_code == 422
        assert_shape(answer.json(), FAILED_422_SHAPE)
        assert answer.json()["request_id"] == body["request_id"]
        assert_shape(answer.json()["metrics"], METRICS_FAILED)
        assert "cost" not in answer.json()["metrics"]
        assert answer.json()["metrics"]["synthetic"] is True


async def test_failed_can_be_served_as_200_with_an_error_key(emulator):
    emu = emulator(block_words=("waterfall",), failed_status=200)
    async with client_for(emu) as client:
        body = (await client.post("/v2/sora-2", json=CLIP)).json()
        status = await until(client, body["status_url"], ("FAILED",))
        result = await client.get(body["response_url"])
        polled = await client.get(body["poll_url"])
        emu.configure(failed_status=422)  # a run-time knob: the same job, now the 422 form
        again = await client.get(body["status_url"])
    for answer in (status, result, polled):
        assert answer.status_code == 200
        assert_shape(answer.json(), FAILED_200_SHAPE)
        assert "content policy" in answer.json()["error"]
    assert again.status_code == 422 and again.json() == status.json()


async def test_the_poll_url_goes_through_the_same_states_as_the_v2_status(emulator):
    # one worker, a whole second each: the second job is seen QUEUED, then PROCESSING
    emu = emulator(workers=1, latency=1.0)
    async with client_for(emu) as client:
        await client.post("/v2/sora-2", json=CLIP)  # takes the only worker
        body = (await client.post("/v2/sora-2", json=CLIP)).json()
        seen: list[tuple[str, str]] = []
        for _ in range(600):
            status = (await client.get(body["status_url"])).json()
            polled = (await client.get(body["poll_url"])).json()
            if not seen or seen[-1] != (status["status"], polled["status"]):
                seen.append((status["status"], polled["status"]))
            if status["status"] == "COMPLETED" and polled["status"] == "COMPLETED":
                break
            await asyncio.sleep(0.05)
        result = (await client.get(body["response_url"])).json()
    states = [v2 for v2, _ in seen]
    assert states[0] == "QUEUED" and "PROCESSING" in states and states[-1] == "COMPLETED"
    # at most one step apart (the two GETs are not the same instant), never backwards
    order = ["QUEUED", "PROCESSING", "COMPLETED"]
    assert all(abs(order.index(a) - order.index(b)) <= 1 for a, b in seen)
    assert polled == result
    stats = emu.stats()
    assert stats["requests"]["poll"] >= 2 and stats["by_request"][body["request_id"]]["poll"] >= 2


async def test_a_v1_answer_carries_its_cost_and_time_in_headers(emulator):
    emu = emulator(latency=0.05)
    async with client_for(emu) as client:
        response = await client.post("/v1/sora-2", json=CLIP)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    assert float(response.headers["x-cost"]) == pytest.approx(0.4)
    assert float(response.headers["x-generation-time"]) >= 0.05
    assert response.headers["x-request-id"]
