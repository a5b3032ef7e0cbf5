"""Generations recorded in the notebook itself: as outputs, readable by any frontend.

Every job shown by the widget or the magics gets a record output — our own mimetype
holding the records, plus `text/plain` and `text/html` fallbacks — written with a
`display_id` and updated as the job advances. Outputs are saved in the .ipynb by every
frontend and by headless execution, so the notebook carries its provenance even where
no extension runs.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from typing import Any

from ._progress import format_duration
from .records import MIMETYPE, SCHEMA_VERSION, Generation

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


def cell_context() -> dict[str, str] | None:
    """The notebook path and the id of the cell being executed, when the frontend says.

    JupyterLab and Notebook 7 send the cell id in the execute request's metadata, and
    jupyter-server names the notebook in the kernel's JPY_SESSION_NAME; headless runners
    send neither.
    """
    context: dict[str, str] = {}
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        context["path"] = session
    cell_id = _parent_metadata().get("cellId")
    if isinstance(cell_id, str) and cell_id:
        context["cell_id"] = cell_id
    return context or None


def is_headless() -> bool:
    """Executed by a runner (nbclient, papermill, nbval) rather than a person's frontend:
    the execute request names no cell and does not allow input."""
    parent = _parent()
    if not parent:
        return False
    content = parent.get("content") or {}
    return not _parent_metadata().get("cellId") and not content.get("allow_stdin", False)


def _parent() -> dict[str, Any]:
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return {}
    if not Kernel.initialized():
        return {}
    kernel = Kernel.instance()
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # older ipykernel: get_parent() takes no channel
        parent = kernel.get_parent()
    return parent if isinstance(parent, dict) else {}


def _parent_metadata() -> dict[str, Any]:
    metadata = _parent().get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}
