"""Reading the API's answers: the job status, why it failed, where the finished video
is, and what the server says about time and money (`metrics`, cost headers).

Segmind's v2 bodies, as its official SDK's tests record them: a finished job carries
`status`, `error` (null on success) and `metrics` (`inference_time` …); a FAILED one
comes as 422 — or as 200 — with `status`, `error`, `metrics` and `request_id`. Every
reader here is pure and tolerant: keys we do not know are kept, never an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._text import shorten
from ..errors import UnexpectedResponse
from ..records import Generation
from ._errors import MAX_DETAIL_CHARS

SERVER_STATUSES = ("QUEUED", "PROCESSING", "COMPLETED", "FAILED")
_URL_KEYS = ("url", "video", "video_url", "output", "uri", "href")

#: `metrics` keys holding a job's cost, most explicit first. Segmind's v2 `metrics.cost`
#: is in its credits, which are priced in US dollars
COST_KEYS = ("cost_usd", "cost")
#: the header a v1 (sync) answer carries its cost in, as Segmind does
COST_HEADERS = ("x-cost",)
#: server `metrics` key → the record timing it becomes (seconds)
SERVER_TIMINGS = {"inference_time": "inference_s", "queue_time": "server_queue_s"}
#: how deep nested values of `metrics` are kept (deeper ones are dropped)
_MAX_DEPTH = 4
NO_REASON = "the server gave no reason"


def read_status(body: Any, *, request_id: str | None) -> str:
    status = body.get("status") if isinstance(body, dict) else None
    if status not in SERVER_STATUSES:
        raise UnexpectedResponse(
            f"the status answer has no known status (got {describe_shape(body)})", request_id=request_id
        )
    return str(status)


def failure_in_body(body: Any) -> str | None:
    """The reason a body reports a FAILED job, or None when it does not report one.

    The same whatever the HTTP status it came with: Segmind serves a FAILED job as 422,
    and a FAILED status may also arrive as 200 with an `error` key.
    """
    if not isinstance(body, dict) or body.get("status") != "FAILED":
        return None
    return failure_detail(body)


def failure_detail(body: Any) -> str:
    """The `error` of a failure body as text (`NO_REASON` when it has none)."""
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("detail") or detail
    # a server's words reach the record, the ledger, the metadata and the view: bounded
    return shorten(str(detail), MAX_DETAIL_CHARS) if detail else NO_REASON


def read_metrics(body: Any) -> dict[str, Any]:
    """The `metrics` object of a status or result body, as JSON-safe data: every key kept
    (ours or not), values that JSON cannot hold (NaN, infinities, odd types) dropped."""
    metrics = body.get("metrics") if isinstance(body, dict) else None
    if not isinstance(metrics, dict):
        return {}
    kept = _json_safe(metrics, 0)
    return kept if isinstance(kept, dict) else {}


def server_timings(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The server's own figures for the record's `timings`: `inference_s` (seconds the job
    ran) and `server_queue_s` (seconds it waited), when present as numbers."""
    timings: dict[str, float] = {}
    for key, name in SERVER_TIMINGS.items():
        value = _number(metrics.get(key))
        if value is not None and value >= 0:
            timings[name] = round(value, 3)
    return timings


def api_cost_usd(body_or_metrics: Any, headers: Mapping[str, str] | None = None) -> float | None:
    """What the API says a job cost, in US dollars: a v2 `metrics` cost (given a body or
    its `metrics`), else a cost header of a v1 answer; None when it says nothing."""
    metrics = body_or_metrics
    if isinstance(metrics, dict) and isinstance(metrics.get("metrics"), dict):
        metrics = metrics["metrics"]
    if isinstance(metrics, dict):
        for key in COST_KEYS:
            value = _number(metrics.get(key))
            if value is not None and value >= 0:
                return value
    for name in COST_HEADERS:
        text = (headers or {}).get(name)
        value = _number_text(text) if text is not None else None
        if value is not None and value >= 0:
            return value
    return None


def _number(value: Any) -> float | None:
    """A finite number (a bool is not one; a numeric string is)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return _number_text(value)
    return None


def _number_text(text: str) -> float | None:
    try:
        value = float(text.strip().removeprefix("$"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_DROP = object()


def _json_safe(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return value if math.isfinite(value) else _DROP
    if depth >= _MAX_DEPTH:
        return _DROP
    if isinstance(value, dict):
        kept = {str(k): _json_safe(v, depth + 1) for k, v in value.items() if isinstance(k, str)}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_json_safe(item, depth + 1) for item in value) if v is not _DROP]
    return _DROP


def output_url(body: Any, *, request_id: str | None) -> str:
    """The video URL from a COMPLETED result, whose `output` may be a URL, a list of URLs,
    or an object holding one."""
    output = body.get("output") if isinstance(body, dict) else None
    url = _find_url(output)
    if url is None:
        raise UnexpectedResponse(
            f"the result holds no video URL (got {describe_shape(body)})", request_id=request_id
        )
    return url


def _find_url(value: Any, depth: int = 0) -> str | None:
    if depth > 3:
        return None
    if isinstance(value, str):
        return value if value.startswith(("http://", "https://")) else None
    if isinstance(value, list):
        for item in value:
            found = _find_url(item, depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key in _URL_KEYS:
            if key in value:
                found = _find_url(value[key], depth + 1)
                if found:
                    return found
    return None


def describe_shape(value: Any, depth: int = 0) -> str:
    """The shape of a JSON value without its contents: `{"output": [str], "status": str}`."""
    if depth > 2:
        return "…"
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {describe_shape(v, depth + 1)}" for k, v in list(value.items())[:8])
        return "{" + inner + (", …" if len(value) > 8 else "") + "}"
    if isinstance(value, list):
        return (
            "["
            + (describe_shape(value[0], depth + 1) if value else "")
            + (", …" if len(value) > 1 else "")
            + "]"
        )
    if value is None:
        return "null"
    return type(value).__name__


def keep_figures(record: Generation, body: Any, headers: Mapping[str, str]) -> None:
    """What a status or result answer says about time and money, kept on the record:
    the server's timings, its raw `metrics` (unknown keys included) and its cost."""
    metrics = read_metrics(body)
    record.timings.update(server_timings(metrics))
    if metrics:
        record.metrics = {**record.metrics, **metrics}
    cost = api_cost_usd(metrics, headers)
    if cost is not None:
        record.cost = {"usd": cost, "source": "api"}
