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


def record_bundle(records: Sequence[Generation]) -> dict[str, Any]:
    """The mime bundle of a record output: the records, a text summary and an HTML table."""
    return {
        MIMETYPE: {"schema_version": SCHEMA_VERSION, "generations": [r.to_dict() for r in records]},
        "text/plain": record_text(records),
        "text/html": record_html(records),
    }


def record_text(records: Sequence[Generation]) -> str:
    if not records:
        return "sora-widget: no generations yet"
    return "\n".join(f"sora-widget {r.id}: {r.summary()}" for r in records)


def record_html(records: Sequence[Generation]) -> str:
    """A table a person can read without any extension; every value escaped."""
    if not records:
        return '<div class="sora-widget-record"><em>sora-widget: no generations yet</em></div>'
    rows = []
    for r in records:
        p = r.params
        cells = [
            r.status + (" · synthetic" if r.synthetic else ""),
            p.prompt,
            f"{p.duration}s {p.size}",
            r.request_id or "—",
            format_duration(r.latency_s) if r.latency_s is not None else "—",
            (r.sha256 or "")[:12] or "—",
        ]
        row = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        video = _video_tag(r)
        rows.append(f"<tr>{row}<td>{video}</td></tr>")
    head = "".join(
        f"<th>{h}</th>" for h in ("status", "prompt", "params", "request id", "latency", "sha256", "video")
    )
    return (
        '<table class="sora-widget-record"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _video_tag(record: Generation) -> str:
    path = record.video_path
    if not path:
        error = (record.error or {}).get("detail") or (record.error or {}).get("message")
        return html.escape(str(error)) if error else "—"
    if not (_is_relative(path) or path.startswith(_SAFE_VIDEO_PREFIXES)):
        return html.escape(path)
    src = html.escape(path, quote=True)
    return f'<video src="{src}" controls loop playsinline preload="metadata" width="240"></video>'


def _is_relative(path: str) -> bool:
    return not os.path.isabs(path) and ":" not in path.split("/")[0] and not path.startswith("//")


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
