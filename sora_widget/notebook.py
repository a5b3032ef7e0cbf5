"""Generations recorded in the notebook itself: as outputs, readable by any frontend.

Every job shown by the widget or the magics gets a record output — our own mimetype
holding the records, plus `text/plain` and `text/html` fallbacks — written with a
`display_id` and updated as the job advances. Outputs are saved in the .ipynb by every
frontend and by headless execution, so the notebook carries its provenance even where
no extension runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from ._files import (
    MAX_CLIP_BYTES,
    FileRefused,
    RecordFileMissing,
    contained,
    open_record_file,
    path_text_problem,
    read_bounded,
    write_replacing,
)
from ._text import terminal_safe
from .environment import cell_context, in_kernel, is_headless
from .errors import SoraError
from .ledger import LEDGER_NAME, Ledger, Observer
from .records import MIMETYPE, SCHEMA_VERSION, Generation, merge
from .records._check import InvalidRecord

log = logging.getLogger(__name__)

# -- reading a saved notebook ---------------------------------------------------------------
#
# A notebook may come from anyone (a colleague, a git clone, an archive), so everything
# in it is untrusted input: a record that does not match the schema is skipped with a
# problem naming where it was and which field is wrong; files it names are opened only
# when they are regular files inside the notebook's folder or the output dir.

METADATA_KEY = "sora_widget"

#: a notebook larger than this is refused rather than read into memory
MAX_NOTEBOOK_BYTES = 512 * 1024 * 1024


class SkippedRecord(UserWarning):
    """A record of a notebook was skipped: it does not match the schema (see its text)."""


@dataclass(frozen=True)
class Problem:
    """Something in a notebook that could not be used: where it is, and what is wrong.
    Its text comes partly from the file: print it through `_text.terminal_safe`."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class NotebookRecords:
    """What `scan` found: the usable records (merged, oldest first) and the problems."""

    records: list[Generation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The notebook's JSON: a regular file of at most `MAX_NOTEBOOK_BYTES` (read without
    blocking on a FIFO or a device), an object with a list of cells — else ValueError
    (or an OSError for a file that cannot be read)."""
    data = read_bounded(path, MAX_NOTEBOOK_BYTES)
    try:
        nb = json.loads(data)
    except RecursionError:
        raise ValueError(f"{path} is not a Jupyter notebook (its JSON is nested too deeply)") from None
    except ValueError as error:
        raise ValueError(f"{path} is not a Jupyter notebook (not JSON: {error})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is not a Jupyter notebook")
    return nb


def load_marimo_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A marimo notebook (a `.py` file that imports marimo) as a notebook with no cells:
    marimo keeps no outputs or metadata in it, so its records are the ledger's, found by
    the notebook path each one names. Read as `load_notebook` reads (a regular file, bounded)."""
    data = read_bounded(path, MAX_NOTEBOOK_BYTES)
    if b"import marimo" not in data:
        raise ValueError(f"{path} is neither a Jupyter notebook (.ipynb) nor a marimo notebook")
    return {"cells": []}


def scan(path: str | os.PathLike[str], *, include_ledger: bool = True) -> NotebookRecords:
    """Every generation a notebook knows of, and every record it holds that could not be
    used. See `read_records`. A marimo notebook's are those in the ledger that ran in it."""
    if Path(path).suffix == ".py":
        return _scan(path, load_marimo_notebook(path), include_ledger=include_ledger)
    return _scan(path, load_notebook(path), include_ledger=include_ledger)


def read_records(path: str | os.PathLike[str], *, include_ledger: bool = True) -> list[Generation]:
    """Every generation a notebook knows of: its record outputs, its metadata and (for
    the generations it names or that ran in it) the ledger beside it — for a marimo
    notebook (`.py`), which keeps no outputs, the ledger's that ran in it. Views of one
    generation are merged — a terminal status wins, then the newest — and each record's
    `sources` says where it was found ("output", "metadata", "ledger").

    A record that does not match the schema is skipped with a `SkippedRecord` warning
    naming its cell and field."""
    found = scan(path, include_ledger=include_ledger)
    for problem in found.problems:
        warnings.warn(terminal_safe(problem), SkippedRecord, stacklevel=2)
    return found.records


def _scan(path: str | os.PathLike[str], nb: dict[str, Any], *, include_ledger: bool) -> NotebookRecords:
    result = NotebookRecords()
    found: dict[str, Generation] = {}
    for data, where, _cell_id in _output_records(nb, result.problems):
        _add(found, data, "output", where, result.problems)
    for data, where in _metadata_records(nb, result.problems):
        _add(found, data, "metadata", where, result.problems)
    if include_ledger:
        for data, where in _ledger_records(Path(path), set(found), result.problems):
            _add(found, data, "ledger", where, result.problems)
    result.records = sorted(found.values(), key=lambda r: (r.submitted_at or "", r.id))
    return result


def output_dir_of(notebook_path: str | os.PathLike[str]) -> Path:
    """The output dir a kernel started beside this notebook used (a relative one resolved
    against the notebook's folder, as the kernel's working directory was)."""
    from .client._config import resolve_output_dir

    output_dir = resolve_output_dir()
    if not output_dir.is_absolute():
        output_dir = notebook_folder(notebook_path) / output_dir
    return output_dir


def _usable_output_dir(notebook_path: str | os.PathLike[str]) -> Path | None:
    """The output dir, if files may be read from it for this notebook: one configured as
    an absolute path (the user's own), or a relative one that stays inside the notebook's
    folder once resolved — not a `sora-outputs` symlink planted in a folder someone sent,
    pointing elsewhere (reading a ledger there would even write its journal files there)."""
    from .client._config import resolve_output_dir

    output_dir = output_dir_of(notebook_path)
    if resolve_output_dir().is_absolute():
        return output_dir
    return output_dir if contained(output_dir, [notebook_folder(notebook_path)]) is not None else None


def ledger_beside(notebook_path: str | os.PathLike[str]) -> Ledger:
    """The ledger a kernel started beside this notebook wrote to."""
    return Ledger.in_dir(output_dir_of(notebook_path))


def notebook_folder(notebook_path: str | os.PathLike[str]) -> Path:
    """The notebook's folder, resolved (the notebook itself is not: a symlinked notebook
    belongs to the folder it is in, not to the one it points into)."""
    return Path(notebook_path).absolute().parent.resolve()


def _ledger_records(
    path: Path, named: set[str], problems: list[Problem]
) -> Iterator[tuple[dict[str, Any], str]]:
    """The ledger's records of the generations the notebook names, and of those that ran
    in this very notebook. The ledger is only read where one exists (reading never
    creates it) and, when the output dir is relative, only inside the notebook's folder."""
    folder = notebook_folder(path)
    output_dir = output_dir_of(path)
    ledger_file = output_dir / LEDGER_NAME
    if not os.path.lexists(ledger_file):
        return
    if _usable_output_dir(path) is None:
        problems.append(Problem(f"the ledger {ledger_file}", "lies outside the notebook's folder; not read"))
        return
    book = Ledger(ledger_file, read_only=True)  # a folder someone sent is left as it came
    notebook = folder / Path(path).name
    own = contained(output_dir, [folder]) is not None
    try:
        logged = book.of_notebook(named, notebook.name)
    except (SoraError, OSError, sqlite3.Error) as error:  # refused, unreadable or damaged
        said = error.message if isinstance(error, SoraError) else str(error)
        problems.append(Problem(f"the ledger {ledger_file}", f"cannot be read ({said})"))
        return
    finally:
        book.close()
    for record in logged:
        if record.id in named or _ran_in(record, notebook, own):
            yield record.to_dict(), f"the ledger {ledger_file}, generation {record.id}"


def _ran_in(record: Generation, notebook: Path, own_ledger: bool) -> bool:
    """Whether a ledger record the notebook does not name ran in this very notebook: its
    recorded path (relative to the kernel's folder, the notebook's) leads to it. A shared
    ledger (an output dir outside the notebook's folder) holds the records of many
    projects, where a name such as Untitled.ipynb says nothing: there only an absolute
    path counts. Compared by their text, never resolved: a path in a received ledger may
    name another machine (`\\\\host\\share\\nb.ipynb`, which Windows would connect to)."""
    recorded = (record.notebook or {}).get("path")
    if not isinstance(recorded, str) or not recorded:
        return False
    if PurePath(recorded).is_absolute():
        return Path(os.path.normpath(recorded)) == notebook
    if path_text_problem(recorded) is not None:
        return False
    return own_ledger and Path(os.path.normpath(notebook.parent / recorded)) == notebook


def _add(
    found: dict[str, Generation], data: dict[str, Any], source: str, where: str, problems: list[Problem]
) -> None:
    try:
        record = Generation.from_dict(data)
    except InvalidRecord as invalid:
        problems.append(Problem(where, f"record skipped: {invalid}"))
        return
    except (ValueError, TypeError, KeyError) as error:
        problems.append(Problem(where, f"record skipped: {error}"))
        return
    record.sources = [source]
    known = found.get(record.id)
    found[record.id] = record if known is None else merge(known, record)


def _cell_name(index: int, cell: dict[str, Any]) -> str:
    cell_id = cell.get("id")
    return f"cell {index + 1}" + (f" (id {cell_id})" if isinstance(cell_id, str) else "")


def _output_records(
    nb: dict[str, Any], problems: list[Problem]
) -> list[tuple[dict[str, Any], str, str | None]]:
    """(record, where it is, its cell's id) of every record output."""
    out = []
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict):
            problems.append(Problem(f"cell {index + 1}", "is not an object; skipped"))
            continue
        name = _cell_name(index, cell)
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        outputs = cell.get("outputs") or []
        if not isinstance(outputs, list):
            problems.append(Problem(name, "its outputs are not a list; skipped"))
            continue
        for number, output in enumerate(outputs):
            data = output.get("data") if isinstance(output, dict) else None
            bundle = data.get(MIMETYPE) if isinstance(data, dict) else None
            if bundle is None:
                continue
            generations = bundle.get("generations") if isinstance(bundle, dict) else None
            if not isinstance(generations, list):
                problems.append(
                    Problem(f"{name}, output {number + 1}", "its records are not a list; skipped")
                )
                continue
            for position, item in enumerate(generations):
                where = f"{name}, output {number + 1}, record {position + 1}"
                if isinstance(item, dict):
                    out.append((item, where, cell_id))
                else:
                    problems.append(Problem(where, "record skipped: it is not an object"))
    return out


def _metadata_records(nb: dict[str, Any], problems: list[Problem]) -> list[tuple[dict[str, Any], str]]:
    metadata = nb.get("metadata")
    if metadata is None:
        return []
    if not isinstance(metadata, dict):
        problems.append(Problem("the notebook's metadata", "is not an object; skipped"))
        return []
    section = metadata.get(METADATA_KEY)
    if section is None:
        return []
    generations = section.get("generations") if isinstance(section, dict) else None
    if generations is None and isinstance(section, dict):
        return []
    if not isinstance(generations, dict):
        problems.append(Problem(f"metadata.{METADATA_KEY}", "is not an object of generations; skipped"))
        return []
    out = []
    for key, data in generations.items():
        where = f"metadata.{METADATA_KEY}.generations[{json.dumps(key)}]"
        if isinstance(data, dict):
            out.append((data, where))
        else:
            problems.append(Problem(where, "record skipped: it is not an object"))
    return out


def embed(path: str | os.PathLike[str]) -> int:
    """Write every known record into the notebook's metadata (and each record's id into
    the metadata of the cell that produced it). Idempotent; returns the record count.

    For notebooks executed headless, where no frontend extension wrote the metadata.
    Records that do not match the schema are left out (with a `SkippedRecord` warning).
    """
    result = embed_records(path)
    for problem in result.problems:
        warnings.warn(terminal_safe(problem), SkippedRecord, stacklevel=2)
    return len(result.records)


def embed_records(path: str | os.PathLike[str]) -> NotebookRecords:
    """`embed`, returning what was embedded and the problems met on the way.

    The notebook is rewritten through a temporary file of our own in its folder, renamed
    over it, with its mode kept; a notebook that is a symlink is refused (never written
    through), and so is one whose metadata is not an object."""
    nb = load_notebook(path)
    metadata = nb.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: its metadata is not an object; the notebook is not rewritten")
    result = _scan(path, nb, include_ledger=True)
    cells_by_id = {
        cell["id"]: cell for cell in nb["cells"] if isinstance(cell, dict) and isinstance(cell.get("id"), str)
    }
    known = {r.id for r in result.records}
    ids_by_cell: dict[str, list[str]] = {}
    for data, _where, cell_id in _output_records(nb, []):
        if cell_id and isinstance(data.get("id"), str) and data["id"] in known:
            ids_by_cell.setdefault(cell_id, []).append(data["id"])
    for record in result.records:
        origin = (record.notebook or {}).get("cell_id")
        if origin is not None and origin in cells_by_id:
            ids_by_cell.setdefault(origin, []).append(record.id)
    section = metadata.get(METADATA_KEY)
    if not isinstance(section, dict):
        section = metadata[METADATA_KEY] = {}
    section["schema_version"] = SCHEMA_VERSION
    generations = section.get("generations")
    if not isinstance(generations, dict):
        generations = section["generations"] = {}
    # a record we could not read stays as it was (it may be a newer schema's): only
    # records we read are written
    for record in result.records:
        generations[record.id] = record.to_dict()
    for cell_id, ids in ids_by_cell.items():
        cell = cells_by_id[cell_id]
        cell_meta = cell.setdefault("metadata", {})
        if not isinstance(cell_meta, dict):
            result.problems.append(
                Problem(f"cell (id {cell_id})", "its metadata is not an object; left as is")
            )
            continue
        ours = cell_meta.get(METADATA_KEY)
        if not isinstance(ours, dict):
            ours = cell_meta[METADATA_KEY] = {}
        before = ours.get("generation_ids")
        before = [i for i in before if isinstance(i, str)] if isinstance(before, list) else []
        ours["generation_ids"] = list(dict.fromkeys([*before, *ids]))
    _write_notebook(path, nb)
    return result


def verify(path: str | os.PathLike[str]) -> list[str]:
    """Problems with the clips a notebook records: missing files, changed bytes, paths
    outside the notebook's folder and the output dir. Empty when every completed
    generation's file exists and matches its sha256."""
    return verify_records(read_records(path), notebook_folder(path), roots=clip_roots(path))


def clip_roots(notebook_path: str | os.PathLike[str]) -> list[Path]:
    """Where a notebook's clips may be: its folder, and the output dir (see
    `_usable_output_dir`)."""
    output_dir = _usable_output_dir(notebook_path)
    return [notebook_folder(notebook_path), *([output_dir] if output_dir is not None else [])]


def verify_records(
    records: Sequence[Generation], base: Path, *, roots: Sequence[Path] | None = None
) -> list[str]:
    """`verify` for records already read; relative clip paths are taken from `base` (the
    notebook's folder, where its kernel ran). Files are read only as `open_record_file`
    allows: by their text first (never `..`, a UNC path or a drive), then regular files
    inside `roots` (default: `base`), opened without following a symlink. A completed
    record without a sha256 is a problem: there is nothing to verify its file against."""
    problems = []
    base = base.resolve()
    allowed = [root.resolve() for root in roots] if roots is not None else [base]
    for record in records:
        if record.status != "COMPLETED":
            continue
        if not record.video_path:
            problems.append(f"{record.id}: completed but no saved file is recorded")
            continue
        if not record.sha256:
            problems.append(f"{record.id}: completed but no sha256 is recorded; its file cannot be verified")
            continue
        problem = _clip_problem(record, base, allowed)
        if problem is not None:
            problems.append(f"{record.id}: {record.video_path} {problem}")
    return problems


def _clip_problem(record: Generation, base: Path, roots: list[Path]) -> str | None:
    assert record.video_path is not None and record.sha256 is not None
    try:
        with open_record_file(record.video_path, base=base, roots=roots, max_bytes=MAX_CLIP_BYTES) as clip:
            if record.bytes is not None and clip.size != record.bytes:
                return f"has changed ({clip.size} bytes, recorded {record.bytes})"
            digest = clip.sha256()
    except RecordFileMissing:
        return "is missing"
    except FileRefused as refused:
        return refused.reason
    except OSError as error:
        return f"cannot be read ({error.strerror or type(error).__name__})"
    if digest != record.sha256:
        return f"has changed (sha256 {digest[:12]}…, recorded {record.sha256[:12]}…)"
    return None


def _write_notebook(path: str | os.PathLike[str], nb: dict[str, Any]) -> None:
    """Atomically, in nbformat's own layout (1-space indent, sorted keys, final newline),
    never through a symlink, keeping the notebook's mode."""
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate somewhere we do not own (an output we could not read): kept as
        # the \\uXXXX escape JSON has for it, the only way to write it back unchanged
        data = (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")
    write_replacing(path, data)


# -- mirroring records into notebook metadata (through the frontend extension) ----------------

COMM_TARGET = "sora_widget.records"


#: how long the mirror gathers record changes before it sends them
MIRROR_EVERY_S = 0.2
#: records the mirror sends in one message (and one step of the loop); more wait a step
MIRROR_PER_MESSAGE = 50


class MetadataMirror:
    """Sends every record change to the notebook extension, which writes it into the
    notebook's and the cell's metadata. One short-lived comm per message, so a reloaded
    page or a restarted frontend still receives the next one; without the extension
    the frontend just closes each comm and nothing else happens.

    Changes are gathered for a moment (`MIRROR_EVERY_S`) and sent together, each record
    once as it stands last (`{"updates": [...]}`): hundreds of jobs on one kernel would
    otherwise open and close a comm per event of each job, every one of them work on
    the kernel's loop. What is gathered is also sent when a cell ends (`flush`), before
    its reply: a cell that waited for a clip has its record on its way to the notebook
    by the time the cell is done."""

    def __init__(self) -> None:
        self._gathered: dict[str, dict[str, Any]] = {}
        self._sending: asyncio.Handle | None = None
        self._notebook_frontend = False

    def __call__(self, event: str, record: Generation) -> None:
        if is_headless():
            return  # no frontend to write metadata: `sora-widget embed` does it afterwards
        if not self._notebook_frontend:
            # Only a notebook frontend names the cells it runs, and only there does the
            # extension listen. Elsewhere (Voilà runs the notebook headless, then sends
            # widget messages; a console) every message would be refused, and each
            # refusal logged on the page ("Comm not found for comm id …").
            if not (record.notebook or {}).get("cell_id") and not (cell_context() or {}).get("cell_id"):
                return
            self._notebook_frontend = True
        self._gathered.pop(record.id, None)
        self._gathered[record.id] = {
            "event": event,
            "record": record.to_dict(),
            "cell_id": (record.notebook or {}).get("cell_id"),
            "notebook_path": (record.notebook or {}).get("path"),
        }
        if self._sending is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._sending = loop.call_later(MIRROR_EVERY_S, self._send_some, loop)

    def flush(self, *_: object) -> None:
        """Send everything gathered now."""
        if self._sending is not None:
            self._sending.cancel()
            self._sending = None
        while self._gathered:
            self._send()

    def _send_some(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sending = None
        self._send()
        if self._gathered:
            self._sending = loop.call_soon(self._send_some, loop)

    def _send(self) -> None:
        updates = []
        for _ in range(min(MIRROR_PER_MESSAGE, len(self._gathered))):
            updates.append(self._gathered.pop(next(iter(self._gathered))))
        try:
            import comm
        except ImportError:
            return
        try:
            channel = comm.create_comm(
                target_name=COMM_TARGET, data={"schema_version": SCHEMA_VERSION, "updates": updates}
            )
            channel.close()
        except Exception:  # the mirror must never break a job
            log.exception("sora-widget: records could not be sent to the notebook")


_mirror: MetadataMirror | None = None


def kernel_observers() -> list[Observer]:
    """What a client made for this kernel tells of every job event: inside a kernel, the
    metadata mirror (one per kernel); elsewhere nothing."""
    global _mirror
    if not in_kernel():
        return []
    if _mirror is None:
        _mirror = MetadataMirror()
        shell = _shell()
        if shell is not None:
            shell.events.register("post_execute", _mirror.flush)
    return [_mirror]


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None
