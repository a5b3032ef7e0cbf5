"""Generations recorded in the notebook itself: as outputs, readable by any frontend.

Every job shown by the widget or the magics gets a record output — our own mimetype
holding the records, plus `text/plain` and `text/html` fallbacks — written with a
`display_id` and updated as the job advances. Outputs are saved in the .ipynb by every
frontend and by headless execution, so the notebook carries its provenance even where
no extension runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._files import file_sha256
from .environment import in_kernel, is_headless
from .ledger import Ledger, Observer
from .records import MIMETYPE, SCHEMA_VERSION, Generation, merge

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
        # the generations the notebook names, and those that ran in it: indexed reads
        for logged in ledger_beside(path).of_notebook(found, Path(path).name):
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
        digest, _size = file_sha256(file)
        if digest != record.sha256:
            problems.append(
                f"{record.id}: {record.video_path} has changed "
                f"(sha256 {digest[:12]}…, recorded {record.sha256[:12]}…)"
            )
    return problems


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


def kernel_observers() -> list[Observer]:
    """What a client made for this kernel tells of every job event: inside a kernel, the
    metadata mirror (one per kernel); elsewhere nothing."""
    global _mirror
    if not in_kernel():
        return []
    if _mirror is None:
        _mirror = MetadataMirror()
    return [_mirror]
