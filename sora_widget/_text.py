"""Small pure helpers for text a person reads: durations, shortened prompts, text made
safe for a terminal, secrets redacted."""

from __future__ import annotations

import re
from collections.abc import Iterable


def format_duration(seconds: float) -> str:
    """`m:ss`, rounded to the second: 83.4 → "1:23"."""
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: stand-in for a secret (the API key) wherever a server echoed it back
REDACTED = "***"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every occurrence of each secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


# C0 and C1 controls (DEL too), and the invisible format characters that reorder or hide
# text on a terminal (bidi overrides and isolates, zero-width joiners and marks), and lone
# surrogates (which JSON may carry and no terminal encoding can print)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def terminal_safe(text: object, *, keep_newlines: bool = False) -> str:
    """Text from a file or a server, fit to print on a terminal: every control character
    (escape sequences, carriage returns, bidi overrides) shown as a visible `\\xNN` /
    `\\uNNNN` escape instead of acting on the terminal. Tabs become a space; newlines
    stay only with `keep_newlines` (a message of several lines, not a table cell)."""
    shown = str(text).replace("\t", " ")
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in shown.split("\n"))
    return _UNSAFE.sub(_escape, shown)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
