"""sora-widget: Segmind's Sora 2 text-to-video API, native to the notebook."""

from __future__ import annotations

from . import params
from ._version import __version__
from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequest,
    ConfigurationError,
    DownloadError,
    GenerationFailed,
    GenerationTimeout,
    InsufficientCredits,
    InvalidParams,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestExpired,
    ServerError,
    SoraError,
    SubmitOutcomeUnknown,
    UnexpectedResponse,
)
from .params import GenerationParams
from .records import Generation

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequest",
    "ConfigurationError",
    "DownloadError",
    "Generation",
    "GenerationFailed",
    "GenerationParams",
    "GenerationTimeout",
    "InsufficientCredits",
    "InvalidParams",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RequestExpired",
    "ServerError",
    "SoraError",
    "SubmitOutcomeUnknown",
    "UnexpectedResponse",
    "__version__",
    "params",
]
