"""Where the client sends requests and keeps files: arguments first, then the environment."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from ..errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.segmind.com"
#: the official SDK's storage endpoint for reference images (files.upload)
DEFAULT_UPLOAD_URL = "https://workflows-api.segmind.com/upload-asset"
#: the host of Segmind's request history (the official SDK's REQUEST_HISTORY_URL's)
DEFAULT_HISTORY_URL = "https://api.spotprod.segmind.com"
DEFAULT_OUTPUT_DIR = "sora-outputs"

API_KEY_ENV = "SEGMIND_API_KEY"
BASE_URL_ENV = "SEGMIND_BASE_URL"
UPLOAD_URL_ENV = "SEGMIND_UPLOAD_URL"
HISTORY_URL_ENV = "SEGMIND_HISTORY_URL"
OUTPUT_DIR_ENV = "SORA_WIDGET_OUTPUT_DIR"


def resolve_api_key(explicit: str | None = None) -> str | None:
    key = explicit if explicit is not None else os.environ.get(API_KEY_ENV)
    key = (key or "").strip()
    return key or None


def _check_url(text: str, *, what: str, env: str, example: str, unset: bool) -> None:
    """A ConfigurationError naming `what` and the variable to fix, unless `text` is an
    http(s) URL with a host and no credentials, query or fragment. The
    message shows the URL without its user:password part: that part is a secret, and would
    otherwise be written into every record's api_host and shown by %sora_config."""
    parts = urlsplit(text)
    shown = _without_credentials(parts)
    or_unset = ", or unset it" if unset else ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{what} {shown if '@' in text else repr(text)} is not an http(s) URL",
            hint=f"Set {env} to something like {example}{or_unset}.",
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"{what} {shown} holds a user name or password",
            hint=f"Set {env} without credentials{or_unset}; the API key goes in {API_KEY_ENV}.",
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"{what} {shown} must not have a query or fragment",
            hint=f"Set {env} to something like {example}{or_unset}.",
        )


def normalize_base_url(url: str) -> str:
    """The API root, without a trailing slash or version segment (`/v1`, `/v2`).

    The official SDK takes `https://api.segmind.com/v1`; we accept that form too.
    """
    text = url.strip().rstrip("/")
    _check_url(
        text,
        what="base URL",
        env=BASE_URL_ENV,
        example=f"{DEFAULT_BASE_URL} (a trailing /v1 is fine)",
        unset=False,
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
    chosen = (explicit or os.environ.get(UPLOAD_URL_ENV) or "").strip()
    if not chosen:
        return DEFAULT_UPLOAD_URL if base_url == DEFAULT_BASE_URL else f"{base_url}/upload-asset"
    _check_url(chosen, what="upload URL", env=UPLOAD_URL_ENV, example=DEFAULT_UPLOAD_URL, unset=True)
    return chosen


def resolve_history_url(base_url: str, explicit: str | None = None) -> str:
    """Where the account's request history is read: Segmind's own history host for
    Segmind's API, the API itself for any other (the emulator serves it beside itself),
    unless `explicit` or SEGMIND_HISTORY_URL names one. The key goes there (and only there
    beside the API and its uploads)."""
    chosen = (explicit or os.environ.get(HISTORY_URL_ENV) or "").strip().rstrip("/")
    if not chosen:
        return DEFAULT_HISTORY_URL if base_url == DEFAULT_BASE_URL else base_url
    _check_url(
        chosen,
        what="request history URL",
        env=HISTORY_URL_ENV,
        example=DEFAULT_HISTORY_URL,
        unset=True,
    )
    return chosen


def api_host(base_url: str) -> str:
    """What records keep of the API they used: `host[:port]`, never a user, a password or
    a path."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{host}:{parts.port}" if parts.port else host


def _without_credentials(parts: SplitResult) -> str:
    """A URL as it may be shown: scheme, host, port and path only."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


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
