"""A record as a notebook shows it: the record output's mime bundle — the records
themselves under our mimetype, plus `text/plain` and `text/html` fallbacks that any
frontend, nbconvert or a static renderer can show without our extension."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._text import format_duration
from .schema import MIMETYPE, SCHEMA_VERSION

if TYPE_CHECKING:
    from ._model import Generation

_SAFE_VIDEO_PREFIXES = ("http://", "https://")
#: what a poster is, and the only kind of URI a poster may be
POSTER_PREFIX = "data:image/jpeg;base64,"
#: posters in one record output at most (each ≤ 30 KB and a few tens of ms to make): an
#: output of a thousand records stays quick to show and small in the notebook
MAX_POSTERS = 100


def record_bundle(records: Sequence[Generation]) -> dict[str, Any]:
    """The mime bundle of a record output: the records (with a poster frame of each saved
    clip, kept beside them — never in the record, so not in notebook metadata or the
    ledger), a text summary and an HTML table that shows the posters anywhere."""
    posters = posters_of(records)
    return {
        MIMETYPE: {
            "schema_version": SCHEMA_VERSION,
            "generations": [r.to_dict() for r in records],
            "posters": posters,
        },
        "text/plain": record_text(records),
        "text/html": record_html(records, posters),
    }


def posters_of(records: Sequence[Generation]) -> dict[str, str]:
    """A poster (JPEG data URI) for each record whose clip is here to take it from, for
    the first MAX_POSTERS of them. Runs on the kernel's thread: each poster decodes a
    bounded number of frames of a bounded picture (`video.poster_jpeg`) and is cached."""
    found: dict[str, str] = {}
    for record in records:
        if len(found) >= MAX_POSTERS:
            break
        if record.status == "COMPLETED" and record.video_path and _is_relative(record.video_path):
            from ..video import poster_data_uri  # PyAV loads only when a clip is shown

            uri = poster_data_uri(record.video_path)
            if uri is not None:
                found[record.id] = uri
    return found


def record_text(records: Sequence[Generation]) -> str:
    if not records:
        return "sora-widget: no generations yet"
    lines = []
    for r in records:
        lines.append(f"sora-widget {r.id}: {r.summary()}")
        if r.note:
            lines.append(f"  {r.note}")
    return "\n".join(lines)


def record_html(records: Sequence[Generation], posters: dict[str, str] | None = None) -> str:
    """A table a person can read without any extension — with a poster of each clip, so
    nbconvert's HTML, GitHub or a frontend without the extension show a picture; every
    value escaped."""
    posters = posters or {}
    if not records:
        return '<div class="sora-widget-record"><em>sora-widget: no generations yet</em></div>'
    rows = []
    for r in records:
        p = r.params
        cells = [
            r.status + (" · synthetic" if r.synthetic else ""),
            p.prompt,
            f"{p.duration}s {p.size}",
            sound_summary(r.video),
            r.request_id or "—",
            format_duration(r.latency_s) if r.latency_s is not None else "—",
            (r.sha256 or "")[:12] or "—",
        ]
        row = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        video = _video_tag(r, posters.get(r.id))
        rows.append(f"<tr>{row}<td>{video}</td></tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("status", "prompt", "params", "sound", "request id", "latency", "sha256", "video")
    )
    return (
        '<table class="sora-widget-record"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def sound_summary(video: dict[str, Any] | None) -> str:
    """What a clip's facts say of its sound: "AAC · stereo · 48 kHz", "silent", or "—"
    when they do not say (no file was read, or the record predates sound facts)."""
    if not isinstance(video, dict) or "audio" not in video:
        return "—"
    audio = video["audio"]
    if not isinstance(audio, dict):
        return "silent"
    parts = [str(audio.get("codec") or "")[:16].upper()]
    channels = audio.get("channels")
    if isinstance(channels, int):
        parts.append({1: "mono", 2: "stereo"}.get(channels, f"{channels} channels"))
    rate = audio.get("sample_rate")
    if isinstance(rate, int) and rate > 0:
        parts.append(f"{rate / 1000:g} kHz")
    return " · ".join(part for part in parts if part) or "sound"


def _video_tag(record: Generation, poster: str | None = None) -> str:
    """The clip as a `<video>` whose poster (a JPEG data URI) shows wherever the file is
    not: nbconvert's HTML, another machine, a frontend without the extension."""
    path = record.video_path
    if not path:
        error = (record.error or {}).get("detail") or (record.error or {}).get("message")
        return html.escape(str(error)) if error else "—"
    if not (_is_relative(path) or path.startswith(_SAFE_VIDEO_PREFIXES)):
        return html.escape(path)
    src = html.escape(path, quote=True)
    shown = ""
    if poster is not None and poster.startswith(POSTER_PREFIX):
        shown = f' poster="{html.escape(poster, quote=True)}"'
    return f'<video src="{src}"{shown} controls loop playsinline preload="metadata" width="240"></video>'


def _is_relative(path: str) -> bool:
    """A path a browser resolves below the notebook: not absolute on any system, no
    scheme or drive (`C:`, `javascript:`), no host (`//host`, `\\\\host\\x`: browsers read
    a backslash as a slash), nothing that climbs out (`..`)."""
    unified = path.replace("\\", "/")
    parts = unified.split("/")
    return (
        bool(path)
        and not os.path.isabs(path)
        and not unified.startswith("/")
        and ":" not in parts[0]
        and ".." not in parts
        # browsers trim spaces around a URL and drop tabs and newlines inside it
        and path == path.strip()
        and not any(ord(c) < 0x20 for c in path)
    )


def reproduce_code(record: Generation) -> str:
    """The exact Python call that generates this clip again."""
    lineage = _lineage_code(record)
    if lineage:
        return lineage
    p = record.params
    args = [repr(p.prompt), f"duration={p.duration}", f"size={p.size!r}"]
    if p.input_reference:
        args.append(f"input_reference={p.input_reference!r}")
    lines = ["import sora_widget as sw", "", f"clip = sw.generate({', '.join(args)})"]
    if record.reference_source:
        lines.insert(2, f"# reference image uploaded from {record.reference_source}")
    return "\n".join(lines)


def _lineage_code(record: Generation) -> str:
    """A film is stitched again from its parts; an extended shot continues its parent
    (whose last frame is extracted again): neither is a plain `sw.generate`."""
    if record.kind == "film":
        ids = ", ".join(repr(part.get("id")) for part in record.parts or [])
        return f"import sora_widget as sw\n\nfilm = sw.stitch([{ids}], {record.video_path or 'film.mp4'!r})"
    derived = record.derived_from or {}
    if derived.get("how") != "extend":
        return ""
    p = record.params
    args = [repr(derived.get("id")), repr(p.prompt), f"duration={p.duration}", f"size={p.size!r}"]
    args.append(f"model={record.model!r}")
    return "\n".join(
        [
            "import sora_widget as sw",
            "",
            "# continues the clip of that id (sw.read_records lists them) from its last frame",
            f"clip = sw.extend({', '.join(args)})",
        ]
    )
