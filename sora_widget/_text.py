"""Small pure helpers for text a person reads: durations, shortened prompts."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """`m:ss`, rounded to the second: 83.4 → "1:23"."""
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
