"""Reading the API's answers: the job status and where the finished video is."""

from __future__ import annotations

from typing import Any

from ..errors import UnexpectedResponse

SERVER_STATUSES = ("QUEUED", "PROCESSING", "COMPLETED", "FAILED")
_URL_KEYS = ("url", "video", "video_url", "output", "uri", "href")


def read_status(body: Any, *, request_id: str | None) -> str:
    status = body.get("status") if isinstance(body, dict) else None
    if status not in SERVER_STATUSES:
        raise UnexpectedResponse(
            f"the status answer has no known status (got {describe_shape(body)})", request_id=request_id
        )
    return str(status)


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
