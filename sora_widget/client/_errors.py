"""The one place where HTTP answers and transport failures become `SoraError`s.

Messages are built from the server's body and our own words, never from request
headers, so the API key cannot leak into an exception.
"""

from __future__ import annotations

from typing import Any

import httpx

from .._text import shorten
from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequest,
    InsufficientCredits,
    ModelUnavailable,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestExpired,
    ServerError,
    SoraError,
)
from ..params import MODELS
from ._policy import parse_retry_after

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    406: InsufficientCredits,
}


#: the most of a server's own words any error, record, ledger row or widget keeps
MAX_DETAIL_CHARS = 2000


def server_detail(response: httpx.Response) -> str | None:
    """The error text a Segmind-style body carries (`error`, `detail` or `message`), at most
    `MAX_DETAIL_CHARS` of it: a server's words reach records, the ledger and the view."""
    body = json_of(response)
    if body is None:
        text = response.text.strip()
        return shorten(text, MAX_DETAIL_CHARS) or None
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if value:
                return shorten(value if isinstance(value, str) else str(value), MAX_DETAIL_CHARS)
    return None


def json_of(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON — or nested too deeply for Python to
    read (a crafted `[[[[…` raises RecursionError, which must not become "a bug in
    sora-widget")."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def error_from_response(
    response: httpx.Response,
    *,
    during: str,
    request_id: str | None = None,
    attempts: int = 1,
) -> SoraError:
    """Map an error answer to the exception a user can act on.

    `during` says what we were doing ("submitting", "checking status", …); a 404 for a
    request id we already know means the result expired, not that the model is missing.
    """
    status = response.status_code
    detail = server_detail(response)
    said = f": {detail}" if detail else ""
    message = f"HTTP {status} while {during}{said}"
    kwargs: dict[str, Any] = {"http_status": status, "request_id": request_id, "detail": detail}
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        error = RateLimited(message, retry_after=retry_after, **kwargs)
        if attempts > 1:
            error.hint = (
                f"Too many requests: retried for you {attempts - 1} times. "
                "Slow down, or run fewer generations at once."
            )
        return error
    if status == 404 and request_id is not None:
        return RequestExpired(message, **kwargs)
    if status == 410 or (status == 404 and during == SUBMITTING):
        # retired (410 Gone), or the API says the model does not exist: a job for it can
        # never be made, whatever is retried
        return ModelUnavailable(message, available=_available_models(response), **kwargs)
    if status >= 500:
        return ServerError(message + _retried(attempts), **kwargs)
    cls = _BY_STATUS.get(status, APIStatusError)
    return cls(message, **kwargs)


#: what the client is doing when it sends a job (the `during` of its submit)
SUBMITTING = "submitting the job"


def _available_models(response: httpx.Response) -> list[str]:
    """The models the API says are available, else the ones sora-widget knows of."""
    body = json_of(response)
    listed = body.get("available_models") if isinstance(body, dict) else None
    if isinstance(listed, list) and all(isinstance(name, str) for name in listed):
        return [name[:100] for name in listed[:20]]
    return list(MODELS)


def error_from_transport(
    exc: httpx.HTTPError, *, during: str, url: str, request_id: str | None = None, attempts: int = 1
) -> NetworkError:
    host = httpx.URL(url).host
    kind = type(exc).__name__
    return NetworkError(
        f"could not reach {host} while {during} ({kind}){_retried(attempts)}",
        request_id=request_id,
    )


def _retried(attempts: int) -> str:
    return f", after {attempts} attempts" if attempts > 1 else ""
