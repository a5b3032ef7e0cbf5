"""Segmind v2 over httpx: the async client, its policies and its clock."""

import sys

if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    # httpx imports its command-line client (click, rich, pygments) whenever they are
    # installed, as they are beside Jupyter: ~100 ms of a kernel's first generation, for
    # a tool we never run. Without it, `httpx.main` says the CLI's dependencies are
    # missing (the `httpx` command runs in a process of its own and is not affected).
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        del sys.modules["httpx._main"]

from ._client import AsyncSoraClient
from ._config import DEFAULT_BASE_URL, normalize_base_url
from ._history import HistoryPolicy, HistoryRow
from ._http import prepare_tls
from ._naming import slugify, video_filename
from ._policy import LatencyModel, PollPolicy, RetryPolicy, latency_model, next_poll_delay
from ._ratelimit import AdaptiveLimiter, AimdPacer, RateSettings
from ._requests import Clock, Limiter

__all__ = [
    "DEFAULT_BASE_URL",
    "AdaptiveLimiter",
    "AimdPacer",
    "AsyncSoraClient",
    "Clock",
    "HistoryPolicy",
    "HistoryRow",
    "LatencyModel",
    "Limiter",
    "PollPolicy",
    "RateSettings",
    "RetryPolicy",
    "latency_model",
    "next_poll_delay",
    "normalize_base_url",
    "prepare_tls",
    "slugify",
    "video_filename",
]
