"""Uploaded reference images (`POST /upload-asset`), stored by content hash.

Like Segmind's storage, an upload answers with a URL per image; the emulator serves
them at `/assets/{sha256}.{ext}` and, when a job's `input_reference` names one of
them, draws the image itself — without fetching anything.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import InvalidParams
from ..params import decode_data_uri
from .render import write_atomic

#: the file extension each accepted image type is served with
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
}
_NAME = re.compile(r"^([0-9a-f]{64})\.([a-z]+)$")


class AssetRejected(ValueError):
    """An upload that is not an image we can serve; answered with 400."""


@dataclass(frozen=True)
class Asset:
    sha256: str
    mime: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.sha256}.{EXTENSIONS[self.mime]}"


class AssetStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._assets: dict[str, Asset] = {}

    def add(self, data_url: object, *, label: str = "data_urls[0]") -> Asset:
        if not isinstance(data_url, str):
            raise AssetRejected(f"{label} must be a data:image/...;base64 URI string")
        try:
            mime, data = decode_data_uri(data_url)
        except InvalidParams as error:
            raise AssetRejected(f"{label} is not an image data URI: {error.message}") from None
        mime = "image/jpeg" if mime == "image/jpg" else mime
        if mime not in EXTENSIONS:
            raise AssetRejected(f"{label}: {mime} is not accepted; accepted: {', '.join(sorted(EXTENSIONS))}")
        if not _is_image(data):
            raise AssetRejected(f"{label} says {mime} but its bytes are not a readable image")
        digest = hashlib.sha256(data).hexdigest()
        asset = Asset(sha256=digest, mime=mime, path=self.directory / f"{digest}.{EXTENSIONS[mime]}")
        if not asset.path.exists():
            write_atomic(asset.path, data)
        self._assets[asset.name] = asset
        return asset

    def get(self, name: str) -> Asset | None:
        return self._assets.get(name)

    def image_for(self, url: str) -> bytes | None:
        """The bytes of one of our assets named by `url` (on whatever host), else None."""
        path = urlsplit(url).path
        match = _NAME.match(path.rsplit("/", 1)[-1]) if path.startswith("/assets/") else None
        asset = self._assets.get(match.group(0)) if match else None
        return None if asset is None else asset.path.read_bytes()

    def __len__(self) -> int:
        return len(self._assets)


def _is_image(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:  # Pillow raises many types for garbage; any of them means "no"
        return False
    return True
