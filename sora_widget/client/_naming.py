"""Where a clip is saved and under which name: pure, apart from reading the local time zone."""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path

from ..records import Generation, parse_time


def submitted_locally(record: Generation) -> datetime:
    """When the job was submitted, in local time (a record that cannot say: now)."""
    try:
        return parse_time(record.submitted_at).astimezone() if record.submitted_at else datetime.now()
    except (TypeError, ValueError):
        return datetime.now()


def video_filename(record: Generation, when: datetime) -> str:
    """`YYYYmmdd-HHMMSS-<prompt slug>-<id8>.mp4`: sortable, readable, unique."""
    return f"{when:%Y%m%d-%H%M%S}-{slugify(record.params.prompt)}-{record.id[:8]}.mp4"


def destination(output_dir: Path, save_to: str | os.PathLike[str] | None, filename: str) -> Path:
    """`save_to` (a .mp4 path, or a folder to put `filename` in), else the output dir."""
    if save_to is None:
        return output_dir / filename
    target = Path(save_to).expanduser()
    if target.suffix.lower() == ".mp4":
        return target
    return target / filename


def slugify(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or "clip"
