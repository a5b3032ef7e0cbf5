"""Segmind v2 over httpx: the async client, its policies and its clock."""

from ._client import AsyncSoraClient, slugify, video_filename
from ._config import DEFAULT_BASE_URL, normalize_base_url
from ._policy import LatencyModel, PollPolicy, RetryPolicy, latency_model, next_poll_delay
from ._ratelimit import AdaptiveLimiter, AimdPacer, RateSettings
from ._requests import Clock, Limiter

__all__ = [
    "DEFAULT_BASE_URL",
    "AdaptiveLimiter",
    "AimdPacer",
    "AsyncSoraClient",
    "Clock",
    "LatencyModel",
    "Limiter",
    "PollPolicy",
    "RateSettings",
    "RetryPolicy",
    "latency_model",
    "next_poll_delay",
    "normalize_base_url",
    "slugify",
    "video_filename",
]
