"""Every error sora-widget raises, in one tree.

    SoraError                      .http_status .request_id .detail .retryable .hint
    ├── InvalidParams (ValueError) bad input, raised before any HTTP request
    ├── ConfigurationError         no API key, unusable base URL or output dir
    ├── APIStatusError             the API answered with an error status
    │   ├── BadRequest             400  the server rejected the parameters
    │   ├── AuthenticationError    401  missing or wrong API key
    │   ├── PermissionDenied       403
    │   ├── NotFound               404  unknown model or endpoint
    │   │   └── ModelUnavailable   410 / 404  the model is retired or does not exist
    │   ├── RequestExpired         404  a request id that existed has expired
    │   ├── InsufficientCredits    406
    │   ├── RateLimited            429  .retry_after
    │   └── ServerError            5xx
    ├── NetworkError               the API could not be reached (after retries)
    ├── SubmitOutcomeUnknown       the submit may have been accepted and billed
    ├── BudgetExceeded             the clip would pass this kernel's budget (nothing sent)
    ├── GenerationFailed           the job ended FAILED (content blocks included)
    ├── GenerationTimeout          we stopped waiting; the job may still finish
    ├── UnexpectedResponse         a body we cannot interpret (its shape is shown)
    └── DownloadError              the video could not be saved intact

This module is a leaf: `params`, `records`, the client and the emulator all import
it, and it imports nothing of ours. HTTP responses are mapped onto this tree in
exactly one place, `sora_widget.client._errors`.

No message here may contain the API key: errors are built from server bodies and
our own text only, never from request headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequest",
    "BudgetExceeded",
    "ConfigurationError",
    "DownloadError",
    "GenerationFailed",
    "GenerationTimeout",
    "InsufficientCredits",
    "InvalidParams",
    "ModelUnavailable",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RequestExpired",
    "ServerError",
    "SoraError",
    "SubmitOutcomeUnknown",
    "UnexpectedResponse",
]


class SoraError(Exception):
    """Base class. `hint` says what the user can do about it."""

    #: Whether doing the same thing again later may succeed.
    retryable: bool = False
    hint: str = ""
    #: the generation this error concerns, when there is one (set by the client)
    record: Any = None

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.request_id = request_id
        self.detail = detail
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        parts = [self.message]
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        text = " ".join(parts)
        if self.hint:
            text += f"\n→ {self.hint}"
        return text

    def __repr__(self) -> str:
        fields = [repr(self.message)]
        if self.http_status is not None:
            fields.append(f"http_status={self.http_status}")
        if self.request_id:
            fields.append(f"request_id={self.request_id!r}")
        return f"{type(self).__name__}({', '.join(fields)})"

    def to_dict(self) -> dict[str, Any]:
        """What a record or a widget shows of this error (never headers, never the key)."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "http_status": self.http_status,
            "request_id": self.request_id,
            "detail": self.detail,
            "hint": self.hint,
            "retryable": self.retryable,
        }


class InvalidParams(SoraError, ValueError):
    """A parameter is not one the API accepts. Raised before any request is sent."""

    def __init__(
        self,
        field: str,
        value: object,
        allowed: str | Sequence[object],
        *,
        message: str | None = None,
        hint: str | None = None,
    ) -> None:
        """`message` and `hint` replace the usual "is not allowed; allowed: …" wording where
        the value is fine but the model does not take it at all (or needs one)."""
        allowed_text = allowed if isinstance(allowed, str) else ", ".join(map(repr, allowed))
        shown = _short_repr(value)
        super().__init__(
            message or f"{field}={shown} is not allowed; allowed: {allowed_text}",
            hint=hint or f"Pass {field} as one of: {allowed_text}.",
        )
        self.field = field
        self.value = value
        self.allowed = allowed


class ConfigurationError(SoraError):
    """The client cannot be set up as configured (for example: no API key)."""


class APIStatusError(SoraError):
    """The API answered with an HTTP error status."""


class BadRequest(APIStatusError):
    hint = "The API rejected the parameters; check the detail above."


class AuthenticationError(APIStatusError):
    hint = (
        "Set the SEGMIND_API_KEY environment variable (or pass api_key=...) to a valid "
        "Segmind API key; or call sw.use_emulator() to work offline with synthetic clips."
    )


class PermissionDenied(APIStatusError):
    hint = "This key may not use this model; check its permissions in your Segmind account."


class NotFound(APIStatusError):
    hint = "Check the model name and SEGMIND_BASE_URL (default https://api.segmind.com)."


class ModelUnavailable(NotFound):
    """The model is retired (410 Gone) or the API says it does not exist. Nothing was
    generated or billed; `available` names the models that are."""

    def __init__(self, message: str, *, available: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.available = list(available)
        names = ", ".join(self.available) or "none listed"
        self.hint = (
            f"Use another model (available: {names}); sw.models() lists them with their sizes and prices."
        )


class RequestExpired(APIStatusError):
    hint = (
        "Segmind keeps results for one hour after completion; this one is gone. "
        "Generate it again (sw.replay) if you need the clip."
    )


class InsufficientCredits(APIStatusError):
    hint = "Add credits to your Segmind account, then try again; nothing was generated."


class RateLimited(APIStatusError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.hint = "Too many requests: slow down, or run fewer generations at once."


class ServerError(APIStatusError):
    retryable = True
    hint = "The API had a server-side problem; try again in a minute."


class NetworkError(SoraError):
    retryable = True
    hint = "Check your network connection and SEGMIND_BASE_URL, then try again."


class SubmitOutcomeUnknown(SoraError):
    """The submit POST may have reached the server, so the job may be running and billed.

    It is never retried automatically: that could pay for the same clip twice.
    """

    def __init__(self, message: str, *, ledger_id: str, **kwargs: Any) -> None:
        given_hint = kwargs.pop("hint", None)
        super().__init__(message, **kwargs)
        self.ledger_id = ledger_id
        self.hint = given_hint or (
            f"The job may be running and billed. It is recorded in the ledger as {ledger_id}; "
            "sw.pending() and sw.resume() ask Segmind's request history what became of it, "
            "and nothing is submitted again until it says."
        )


class BudgetExceeded(SoraError):
    """A submit would take this kernel's spend past its budget. Raised before any request:
    nothing was sent or billed."""

    def __init__(
        self, message: str, *, needed_usd: float, remaining_usd: float, jobs: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.needed_usd = needed_usd
        self.remaining_usd = remaining_usd
        self.jobs = jobs
        self.hint = (
            "Raise the budget with sw.configure(budget_usd=...) (or SORA_WIDGET_BUDGET_USD), "
            "choose a shorter or smaller clip, or sw.spend() to see what was spent."
        )


class GenerationFailed(SoraError):
    """The job ended FAILED; `detail` holds the server's reason (content blocks included)."""

    hint = "The server refused or failed this generation; see its reason above."


class GenerationTimeout(SoraError):
    """We stopped waiting. The job is still pending on the server and resumable."""

    retryable = True

    def __init__(self, message: str, *, request_id: str, **kwargs: Any) -> None:
        super().__init__(message, request_id=request_id, **kwargs)
        self.hint = (
            f"The job keeps running on the server. Resume it with sw.resume({request_id!r}) "
            f"or `sora-widget resume {request_id}` within the hour."
        )


class UnexpectedResponse(SoraError):
    hint = "The API answered in a shape sora-widget does not understand; please report it."


class DownloadError(SoraError):
    retryable = True
    hint = "The video could not be saved intact; sw.resume() downloads it again within the hour."


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
