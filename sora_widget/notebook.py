"""Generations recorded in the notebook itself: as outputs, readable by any frontend.

Every job shown by the widget or the magics gets a record output — our own mimetype
holding the records, plus `text/plain` and `text/html` fallbacks — written with a
`display_id` and updated as the job advances. Outputs are saved in the .ipynb by every
frontend and by headless execution, so the notebook carries its provenance even where
no extension runs.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._progress import format_duration
from .ledger import Ledger
from .records import MIMETYPE, SCHEMA_VERSION, Generation, merge

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
    from .client._config import display_path

    context: dict[str, str] = {}
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        # jupyter-server gives an absolute path: relative, the record travels with the
        # notebook without telling readers where it once lived (and the user's name)
        context["path"] = display_path(session)
    cell_id = _parent_metadata().get("cellId")
    if isinstance(cell_id, str) and cell_id:
        context["cell_id"] = cell_id
    return context or None


def is_headless() -> bool:
    """Executed by a runner (nbclient, papermill, nbval) rather than a person's frontend."""
    return is_runner_request(_parent())


def is_runner_request(parent: dict[str, Any]) -> bool:
    """Whether the message the kernel is handling came from a runner: an execute request
    that names no cell and does not allow input. Only execute requests can say so: a comm
    message (a widget's button) comes from a frontend, and an asyncio task that outlived
    its cell sees whatever message came last."""
    if not parent or (parent.get("header") or {}).get("msg_type") != "execute_request":
        return False
    metadata = parent.get("metadata") or {}
    content = parent.get("content") or {}
    cell_id = metadata.get("cellId") if isinstance(metadata, dict) else None
    return not cell_id and not content.get("allow_stdin", False)


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


# -- reading a saved notebook ---------------------------------------------------------------

METADATA_KEY = "sora_widget"


def load_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or "cells" not in data:
        raise ValueError(f"{path} is not a Jupyter notebook")
    return data


def read_records(path: str | os.PathLike[str], *, include_ledger: bool = True) -> list[Generation]:
    """Every generation a notebook knows of: its record outputs, its metadata and (for
    the generations it names or that ran in it) the ledger beside it. Views of one
    generation are merged — a terminal status wins, then the newest — and each record's
    `sources` says where it was found ("output", "metadata", "ledger")."""
    nb = load_notebook(path)
    found: dict[str, Generation] = {}
    for data, _cell_id in _output_records(nb):
        _add(found, data, "output")
    for data in _metadata_records(nb):
        _add(found, data, "metadata")
    if include_ledger:
        name = Path(path).name
        for logged in ledger_beside(path).records().values():
            ran_here = bool(logged.notebook and Path(logged.notebook.get("path", "")).name == name)
            if logged.id in found or ran_here:
                _add(found, logged.to_dict(), "ledger")
    return sorted(found.values(), key=lambda r: (r.submitted_at or "", r.id))


def ledger_beside(notebook_path: str | os.PathLike[str]) -> Ledger:
    """The ledger a kernel started beside this notebook wrote to (output dir resolved
    against the notebook's directory, as the kernel's working directory was)."""
    from .client._config import resolve_output_dir

    output_dir = resolve_output_dir()
    if not output_dir.is_absolute():
        output_dir = Path(notebook_path).resolve().parent / output_dir
    return Ledger.in_dir(output_dir)


def _add(found: dict[str, Generation], data: dict[str, Any], source: str) -> None:
    try:
        record = Generation.from_dict(data)
    except (ValueError, TypeError, KeyError):
        return  # a record of another schema version, or damaged: not ours to guess at
    record.sources = [source]
    known = found.get(record.id)
    found[record.id] = record if known is None else merge(known, record)


def _output_records(nb: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    out = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            bundle = (output.get("data") or {}).get(MIMETYPE)
            if isinstance(bundle, dict):
                for data in bundle.get("generations", []) or []:
                    if isinstance(data, dict):
                        out.append((data, cell.get("id")))
    return out


def _metadata_records(nb: dict[str, Any]) -> list[dict[str, Any]]:
    generations = ((nb.get("metadata") or {}).get(METADATA_KEY) or {}).get("generations") or {}
    return [data for data in generations.values() if isinstance(data, dict)]


def embed(path: str | os.PathLike[str]) -> int:
    """Write every known record into the notebook's metadata (and each record's id into
    the metadata of the cell that produced it). Idempotent; returns the record count.

    For notebooks executed headless, where no frontend extension wrote the metadata.
    """
    records = read_records(path)
    nb = load_notebook(path)
    cells_by_id = {cell.get("id"): cell for cell in nb.get("cells", []) if cell.get("id")}
    ids_by_cell: dict[str, list[str]] = {}
    for data, cell_id in _output_records(nb):
        if cell_id and isinstance(data.get("id"), str):
            ids_by_cell.setdefault(cell_id, []).append(data["id"])
    for record in records:
        origin = (record.notebook or {}).get("cell_id")
        if origin is not None and origin in cells_by_id:
            ids_by_cell.setdefault(origin, []).append(record.id)
    section = nb.setdefault("metadata", {}).setdefault(METADATA_KEY, {})
    section["schema_version"] = SCHEMA_VERSION
    generations = section.setdefault("generations", {})
    for record in records:
        generations[record.id] = record.to_dict()
    for cell_id, ids in ids_by_cell.items():
        cell_meta = cells_by_id[cell_id].setdefault("metadata", {}).setdefault(METADATA_KEY, {})
        known = cell_meta.get("generation_ids") or []
        cell_meta["generation_ids"] = list(dict.fromkeys([*known, *ids]))
    _write_notebook(path, nb)
    return len(records)


def verify(path: str | os.PathLike[str]) -> list[str]:
    """Problems with the clips a notebook records: missing files, changed bytes. Empty
    when every completed generation's file exists and matches its sha256."""
    return verify_records(read_records(path), Path(path).resolve().parent)


def verify_records(records: Sequence[Generation], base: Path) -> list[str]:
    """`verify` for records already read; relative clip paths are resolved against `base`
    (the notebook's folder, where its kernel ran)."""
    problems = []
    for record in records:
        if record.status != "COMPLETED":
            continue
        if not record.video_path or not record.sha256:
            problems.append(f"{record.id}: completed but no saved file is recorded")
            continue
        file = Path(record.video_path)
        file = file if file.is_absolute() else base / file
        if not file.exists():
            problems.append(f"{record.id}: {record.video_path} is missing")
            continue
        digest = _sha256(file)
        if digest != record.sha256:
            problems.append(
                f"{record.id}: {record.video_path} has changed "
                f"(sha256 {digest[:12]}…, recorded {record.sha256[:12]}…)"
            )
    return problems


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_notebook(path: str | os.PathLike[str], nb: dict[str, Any]) -> None:
    """Atomically, in nbformat's own layout (1-space indent, sorted keys, final newline)."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.sora-widget.tmp")
    temp.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temp, target)


# -- mirroring records into notebook metadata (through the frontend extension) ----------------

COMM_TARGET = "sora_widget.records"


class MetadataMirror:
    """Sends every record change to the notebook extension, which writes it into the
    notebook's and the cell's metadata. One short-lived comm per change, so a reloaded
    page or a restarted frontend still receives the next one; without the extension
    the frontend just closes each comm and nothing else happens."""

    def __call__(self, event: str, record: Generation) -> None:
        if is_headless():
            return  # no frontend to write metadata: `sora-widget embed` does it afterwards
        try:
            import comm
        except ImportError:
            return
        payload = {
            "schema_version": SCHEMA_VERSION,
            "event": event,
            "record": record.to_dict(),
            "cell_id": (record.notebook or {}).get("cell_id"),
            "notebook_path": (record.notebook or {}).get("path"),
        }
        channel = comm.create_comm(target_name=COMM_TARGET, data=payload)
        channel.close()


_mirror: MetadataMirror | None = None


def install_mirror() -> bool:
    """Inside a kernel, mirror every record into the notebook's metadata (once)."""
    global _mirror
    if _mirror is not None:
        return True
    if not _in_kernel():
        return False
    from .client import _client

    _mirror = MetadataMirror()
    _client.observers.append(_mirror)
    return True


def _in_kernel() -> bool:
    import sys

    kernelbase = sys.modules.get("ipykernel.kernelbase")
    return bool(kernelbase and kernelbase.Kernel.initialized())
