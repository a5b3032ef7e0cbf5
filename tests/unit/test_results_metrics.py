"""Reading what the API says about a finished job — its failure, its timings, its cost —
from the bodies Segmind sends. The bodies below are the shapes of the fixtures in
Segmind's official SDK tests (segmind/segmind-python, tests/test_v2.py), plus the
documented metrics keys (`queue_time`, `total_time`, `cost`) and keys nobody knows yet."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from sora_widget.client._results import (
    NO_REASON,
    api_cost_usd,
    failure_detail,
    failure_in_body,
    read_metrics,
    server_timings,
)
from sora_widget.client._results import keep_figures as _keep_figures
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

RID = "11111111-2222-3333-4444-555555555555"
#: the SDK fixture RESULT_BODY
RESULT_BODY = {"status": "COMPLETED", "error": None, "metrics": {"inference_time": 0.5}, "output": "ok"}
#: the FAILED status the SDK fixtures serve as HTTP 422
FAILED_422 = {
    "status": "FAILED",
    "error": "Validation error in MockInferenceProcessor: sleep must be …",
    "metrics": {"inference_time": 0.008},
    "request_id": RID,
}
#: the FAILED status the SDK fixtures serve as HTTP 200
FAILED_200 = {"status": "FAILED", "error": "boom"}


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (FAILED_422, FAILED_422["error"]),
        (FAILED_200, "boom"),
        ({"status": "FAILED"}, NO_REASON),
        ({"status": "FAILED", "error": ""}, NO_REASON),
        ({"status": "FAILED", "error": {"message": "blocked", "code": 7}}, "blocked"),
    ],
)
def test_a_failed_body_gives_its_reason_whatever_status_code_it_came_with(body, reason):
    assert failure_in_body(body) == reason


@pytest.mark.parametrize(
    "body",
    [RESULT_BODY, {"status": "PROCESSING"}, {"error": "Invalid API key"}, None, [FAILED_200], "FAILED"],
)
def test_only_a_failed_status_is_a_failure(body):
    # an error key alone (a 401's body) is not a FAILED job
    assert failure_in_body(body) is None


def test_failure_detail_reads_any_error_body():
    assert failure_detail({"error": "Invalid API key"}) == "Invalid API key"
    assert failure_detail(None) == failure_detail({}) == NO_REASON


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_of_the_sdk_fixtures_are_read():
    assert read_metrics(RESULT_BODY) == {"inference_time": 0.5}
    assert read_metrics(FAILED_422) == {"inference_time": 0.008}


def test_unknown_metrics_keys_are_kept():
    metrics = {
        "inference_time": 1.5,
        "queue_time": 0.25,
        "total_time": 1.75,
        "cost": 0.8,
        "remaining_credits": 12.5,
        "retry_count": 1,
        "synthetic": True,
        "gpu": "A100",
        "stages": [{"name": "encode", "s": 0.3}],
        "note": None,
    }
    assert read_metrics({"status": "COMPLETED", "metrics": metrics}) == metrics


def test_values_json_cannot_hold_are_dropped_not_an_error():
    body: dict[str, Any] = {
        "metrics": {
            "inference_time": 2.0,
            "bad": math.nan,
            "worse": math.inf,
            "blob": b"bytes",
            "thing": object(),
            "pair": (1, 2),
            "nested": {"ok": 1, "bad": -math.inf, 3: "int key"},
            "list": [1, math.nan, "two"],
            "deep": {"a": {"b": {"c": {"d": 1}}}},
        }
    }
    assert read_metrics(body) == {
        "inference_time": 2.0,
        "nested": {"ok": 1},
        "list": [1, "two"],
        "deep": {"a": {"b": {}}},
    }


@pytest.mark.parametrize(
    "body", [None, [], "x", {}, {"metrics": None}, {"metrics": [1, 2]}, {"metrics": "fast"}]
)
def test_no_metrics_is_an_empty_dict(body):
    assert read_metrics(body) == {}


def test_server_timings_become_record_timings():
    figures = {"inference_time": 0.5, "queue_time": 2, "total_time": 2.5, "cost": 0.4}
    assert server_timings(figures) == {"inference_s": 0.5, "server_queue_s": 2.0}
    assert server_timings({"inference_time": "1.25"}) == {"inference_s": 1.25}
    assert server_timings({"inference_time": 0.12345678}) == {"inference_s": 0.123}


@pytest.mark.parametrize("value", [True, None, "soon", -1.0, math.nan, math.inf, [1], {"s": 1}])
def test_timings_are_numbers_only(value):
    assert server_timings({"inference_time": value, "queue_time": value}) == {}


# -- cost -------------------------------------------------------------------------------------


def test_the_cost_of_a_v2_answer_is_its_metrics_cost():
    completed = {**RESULT_BODY, "metrics": {"inference_time": 0.5, "cost": 0.8}}
    assert api_cost_usd(completed) == 0.8
    assert api_cost_usd(completed["metrics"]) == 0.8
    assert api_cost_usd({"cost": 0.8, "cost_usd": 0.75}) == 0.75  # the explicit unit first
    assert api_cost_usd({"cost": "1.2"}) == 1.2


def test_the_cost_of_a_v1_answer_is_its_cost_header():
    assert api_cost_usd({}, httpx.Headers({"X-Cost": "0.8"})) == 0.8
    assert api_cost_usd(None, {"x-cost": "$1.20"}) == 1.2
    # the body's figure wins over a header
    assert api_cost_usd({"metrics": {"cost": 0.4}}, {"x-cost": "9"}) == 0.4


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (RESULT_BODY, None),
        (FAILED_422, None),  # a failed job is not charged
        ({"metrics": {"cost": -1}}, None),
        ({"metrics": {"cost": math.nan}}, None),
        ({"metrics": {"cost": True}}, None),
        ({"metrics": {"cost": "free"}}, {"x-cost": "n/a"}),
        ({}, {"x-remaining-credits": "12"}),  # what is left is not what it cost
    ],
)
def test_no_cost_when_the_answer_names_none(body, headers):
    assert api_cost_usd(body, headers) is None


# -- onto the record --------------------------------------------------------------------------


def record() -> Generation:
    return Generation(id="r1", params=GenerationParams("a cat", duration=4), request_id=RID)


def test_figures_of_an_answer_land_on_the_record():
    clip = record()
    clip.cost = {"usd": 0.4, "source": "estimate"}
    status = {"status": "COMPLETED", "error": None, "metrics": {"inference_time": 3.0, "queue_time": 1.0}}
    _keep_figures(clip, status, httpx.Headers())
    assert clip.cost == {"usd": 0.4, "source": "estimate"}  # the status named no cost
    result = {**status, "metrics": {"inference_time": 3.0, "cost": 0.8, "gpu": "H100"}, "output": "https://x"}
    _keep_figures(clip, result, httpx.Headers())
    assert clip.timings == {"inference_s": 3.0, "server_queue_s": 1.0}
    assert clip.metrics == {"inference_time": 3.0, "queue_time": 1.0, "cost": 0.8, "gpu": "H100"}
    assert clip.cost == {"usd": 0.8, "source": "api"}


def test_a_cost_header_is_the_apis_figure_too():
    clip = record()
    _keep_figures(clip, {"status": "COMPLETED"}, httpx.Headers({"x-cost": "1.2"}))
    assert clip.cost == {"usd": 1.2, "source": "api"}


def test_the_figures_are_saved_with_the_record():
    clip = record()
    _keep_figures(clip, {**FAILED_422, "metrics": {"inference_time": 0.008, "cost": 1}}, httpx.Headers())
    again = Generation.from_dict(clip.to_dict())
    assert again.timings == {"inference_s": 0.008}
    assert again.metrics == {"inference_time": 0.008, "cost": 1}
    assert again.cost == {"usd": 1.0, "source": "api"}
