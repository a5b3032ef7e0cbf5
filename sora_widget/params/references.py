"""Images a request names (a first or a last frame): an http(s) URL, an image data URI, or
a local image file that the client uploads before the submit."""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Literal

from ..errors import InvalidParams

#: image types accepted as a local reference file (uploaded before the submit)
IMAGE_TYPES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
#: a reference travels inside a JSON body as base64; beyond this it is refused early
MAX_REFERENCE_BYTES = 10 * 1024 * 1024

ReferenceKind = Literal["url", "data", "path"]

_DATA_URI = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.*)$", re.IGNORECASE | re.DOTALL)


def reference_kind(value: str) -> ReferenceKind:
    """Which of the three accepted forms a reference is (without validating it)."""
    lowered = value[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return "url"
    if lowered.startswith("data:"):
        return "data"
    return "path"


def validate_reference(
    value: object, *, allow_local: bool = True, field: str = "input_reference"
) -> str | None:
    """An http(s) URL, an image data URI, or (when `allow_local`) a local image file.
    `field`: the parameter's name as the caller gave it, for the error."""
    if value is None or value == "":
        return None
    allowed = "an http(s) URL or a data:image/...;base64 URI" + (
        ", or the path of a local image file (" + ", ".join(IMAGE_TYPES) + ")" if allow_local else ""
    )
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise InvalidParams(field, value, allowed)
    kind = reference_kind(value)
    if kind == "url":
        if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE) or any(c.isspace() for c in value):
            raise InvalidParams(field, value, allowed)
        return value
    if kind == "data":
        _decode_data_uri(value, allowed, field)
        return value
    if not allow_local:
        raise InvalidParams(field, value, allowed)
    path = Path(value).expanduser()
    if path.suffix.lower() not in IMAGE_TYPES or not path.is_file():
        reason = "no such file" if not path.exists() else "not an image file"
        raise InvalidParams(field, value, f"{allowed} ({reason}: {value})")
    if path.stat().st_size > MAX_REFERENCE_BYTES:
        raise InvalidParams(field, value, f"an image of at most {MAX_REFERENCE_BYTES} bytes")
    return str(path)


def decode_data_uri(value: str) -> tuple[str, bytes]:
    """(mime type, bytes) of an image data URI; `InvalidParams` if it is not one."""
    return _decode_data_uri(value, "a data:image/...;base64 URI", "input_reference")


def _decode_data_uri(value: str, allowed: str, field: str) -> tuple[str, bytes]:
    match = _DATA_URI.match(value)
    if not match:
        raise InvalidParams(field, value, allowed)
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParams(field, value, f"{allowed} (the base64 part is malformed)") from None
    if not data:
        raise InvalidParams(field, value, f"{allowed} (it is empty)")
    if len(data) > MAX_REFERENCE_BYTES:
        raise InvalidParams(field, value, f"an image of at most {MAX_REFERENCE_BYTES} bytes")
    return match.group(1).lower(), data
