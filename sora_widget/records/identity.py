"""Request identity: which generations answer the same request.

Two requests are the same when they go to the same API host and model with the same
prompt, duration, size and reference images (by their bytes' sha256), the same other
values (sound, seed, the model's own options), and ask for the same take. A request
asked again is answered from the clip its identity already made — the notebook is its
own cache — unless a new take (or `reuse=False`) is asked for.

Pure: the caller says the reference's digest (`reference_digest`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: the digest of "no reference image"
NO_REFERENCE = ""


def request_key(
    *,
    api_host: str,
    model: str,
    prompt: str,
    duration: int,
    size: str | None,
    reference: str,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """What the request asks for, as a sha256 hex digest (the take aside). `extra`: what
    else it asks (a last frame, sound, a seed, the model's own options); left out when
    empty, so a request the first catalogue could make has the key it had then."""
    fields: list[Any] = [api_host.lower(), model, prompt, duration, size, reference]
    if extra:
        fields.append(sorted([name, value] for name, value in extra.items()))
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def identity(key: str, take: int) -> str:
    """The identity of take `take` of the request `key`: the key itself for the first
    take, so a record of take 1 names its request plainly."""
    if take == 1:
        return key
    return hashlib.sha256(f"{key}:take={take}".encode("ascii")).hexdigest()


def reference_digest(kind: str, value: str | None, data: bytes | None = None) -> str:
    """The reference as identity sees it: the sha256 of its image bytes (a data URI's, a
    local file's), or of its URL (whose pixels we do not fetch)."""
    if value is None:
        return NO_REFERENCE
    if data is not None:
        return hashlib.sha256(data).hexdigest()
    return "url:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
