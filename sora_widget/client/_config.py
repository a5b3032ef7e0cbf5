"""Where the client sends requests and keeps files: arguments first, then the environment."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.segmind.com"
#: the official SDK's storage endpoint for reference images (files.upload)
DEFAULT_UPLOAD_URL = "https://workflows-api.segmind.com/upload-asset"
DEFAULT_OUTPUT_DIR = "sora-outputs"

API_KEY_ENV = "SEGMIND_API_KEY"
BASE_URL_ENV = "SEGMIND_BASE_URL"
UPLOAD_URL_ENV = "SEGMIND_UPLOAD_URL"
OUTPUT_DIR_ENV = "SORA_WIDGET_OUTPUT_DIR"


def resolve_api_key(explicit: str | None = None) -> str | None:
    key = explicit if explicit is not None else os.environ.get(API_KEY_ENV)
    key = (key or "").strip()
    return key or None


def normalize_base_url(url: str) -> str:
    """The API root, without a trailing slash or version segment (`/v1`, `/v2`).

    The official SDK takes `https://api.segmind.com/v1`; we accept that form too.
    """
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"base URL {url!r} is not an http(s) URL",
            hint=f"Set {BASE_URL_ENV} to something like {DEFAULT_BASE_URL} (a trailing /v1 is fine).",
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"base URL {url!r} must not have a query or fragment",
            hint=f"Set {BASE_URL_ENV} to something like {DEFAULT_BASE_URL}.",
        )
    for suffix in ("/v1", "/v2"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    return text


def resolve_base_url(explicit: str | None = None) -> str:
    return normalize_base_url(explicit or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)


def resolve_upload_url(base_url: str, explicit: str | None = None) -> str:
    """Segmind's storage lives on its own host; any other backend serves it beside the API."""
    chosen = explicit or os.environ.get(UPLOAD_URL_ENV)
    if chosen:
        return chosen.strip()
    return DEFAULT_UPLOAD_URL if base_url == DEFAULT_BASE_URL else f"{base_url}/upload-asset"


def resolve_output_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get(OUTPUT_DIR_ENV) or DEFAULT_OUTPUT_DIR)


def origin(url: str) -> tuple[str, str]:
    """(scheme, host:port) — what decides whether a URL belongs to the API."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{(parts.hostname or '').lower()}:{port}"


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as records keep it: relative to the working directory (the notebook's
    folder, in a kernel) when below it, so it travels with the notebook; else absolute."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(resolved)
