"""A corpus of crafted notebooks and folders, as a colleague's zip or a git clone could
bring them: planted symlinks, records that climb out of the project or name a device or
a FIFO, references to our own private files, malformed records, terminal escapes.

Each case builds its project folder (beside an `outside` folder holding what an attacker
would aim at: a `.bashrc`, a private photo) and says, per command, which exit statuses
are right and what the output must say. `test_corpus.py` runs every case through every
command of the CLI and checks what every case must hold: a clear message, no traceback,
no hang, no request sent, not a byte written outside the project, nothing raw on the
terminal.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sora_widget.records import MIMETYPE

NOTEBOOK = "analysis.ipynb"
#: the id every crafted record has (replay is asked for it)
RECORD_ID = "g1"

Build = Callable[[Path, Path], Path]
Check = Callable[[Path, Path], None]


@dataclass(frozen=True)
class Expect:
    """What one command must do with a case: one of these exit statuses, and these texts
    somewhere in what it printed."""

    status: frozenset[int]
    says: tuple[str, ...] = ()


def expect(*status: int, says: str | tuple[str, ...] = ()) -> Expect:
    return Expect(frozenset(status), (says,) if isinstance(says, str) else says)


@dataclass(frozen=True)
class Case:
    name: str
    #: the issue's point this case reproduces ("1", "2", … "8")
    point: str
    build: Build
    #: command ("records", "verify", "embed", "replay") → what it must do
    expect: dict[str, Expect]
    #: checks of the case's own, after every command
    after: Check | None = None
    notes: str = field(default="")


# -- building blocks ---------------------------------------------------------------------------


def good_record(**changes: Any) -> dict[str, Any]:
    """A valid COMPLETED record (as a notebook stores it), with `changes` applied."""
    record: dict[str, Any] = {
        "schema_version": 1,
        "id": RECORD_ID,
        "request_id": "req-1",
        "model": "sora-2",
        "status": "COMPLETED",
        "params": {"prompt": "a lighthouse at dusk", "duration": 4, "size": "1280x720"},
        "submitted_at": "2026-01-01T00:00:00.000Z",
        "completed_at": "2026-01-01T00:02:00.000Z",
        "updated_at": "2026-01-01T00:02:00.000Z",
        "status_history": [
            {"status": "QUEUED", "at": "2026-01-01T00:00:01.000Z"},
            {"status": "COMPLETED", "at": "2026-01-01T00:02:00.000Z"},
        ],
        "video_path": "clip.mp4",
        "sha256": "0" * 64,
        "bytes": None,
    }
    record.update(copy.deepcopy(changes))
    return record


def notebook_with(*records: Any, cells: list[Any] | None = None, metadata: Any = None) -> dict[str, Any]:
    """A notebook whose one code cell shows these records as a record output."""
    cell = {
        "id": "cell-1",
        "cell_type": "code",
        "metadata": {},
        "source": "clip = sw.generate(...)",
        "execution_count": 1,
        "outputs": [
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {MIMETYPE: {"schema_version": 1, "generations": list(records)}, "text/plain": "…"},
            }
        ],
    }
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {} if metadata is None else metadata,
        "cells": [cell] if cells is None else cells,
    }


def write(project: Path, nb: Any, name: str = NOTEBOOK) -> Path:
    path = project / name
    path.write_text(json.dumps(nb))
    return path


def with_records(*records: Any, **notebook: Any) -> Build:
    def build(project: Path, outside: Path) -> Path:
        return write(project, notebook_with(*records, **notebook))

    return build


# -- 1. writes follow planted symlinks ---------------------------------------------------------


def _planted_temp(project: Path, outside: Path) -> Path:
    path = write(project, notebook_with(good_record(status="QUEUED", video_path=None, sha256=None)))
    path.chmod(0o600)
    (project / f".{NOTEBOOK}.sora-widget.tmp").symlink_to(outside / ".bashrc")
    return path


def _temp_not_followed(project: Path, outside: Path) -> None:
    path = project / NOTEBOOK
    assert not path.is_symlink() and path.is_file()
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)  # embed keeps the notebook's mode
    assert (project / f".{NOTEBOOK}.sora-widget.tmp").is_symlink()  # left alone, not used
    json.loads(path.read_text())  # still a notebook


def _symlinked_notebook(project: Path, outside: Path) -> Path:
    real = outside / "real.ipynb"
    real.write_text(json.dumps(notebook_with(good_record(status="QUEUED", video_path=None, sha256=None))))
    (project / NOTEBOOK).symlink_to(real)
    return project / NOTEBOOK


def _planted_ledger(project: Path, outside: Path) -> Path:
    (project / "sora-outputs").mkdir()
    (project / "sora-outputs" / "ledger.sqlite").symlink_to(outside / ".bashrc")
    return write(project, notebook_with(good_record(status="QUEUED", video_path=None, sha256=None)))


def _planted_output_dir(project: Path, outside: Path) -> Path:
    (project / "sora-outputs").symlink_to(outside, target_is_directory=True)
    (outside / "ledger.sqlite").write_bytes(b"someone else's ledger")
    return write(project, notebook_with(good_record(video_path="sora-outputs/.bashrc")))


# -- 2. verify reads anything ------------------------------------------------------------------


def _fifo_clip(project: Path, outside: Path) -> Path:
    os.mkfifo(project / "clip.mp4")
    return write(project, notebook_with(good_record()))


def _symlinked_clip(project: Path, outside: Path) -> Path:
    (project / "clip.mp4").symlink_to("/dev/zero")
    return write(project, notebook_with(good_record()))


def _fifo_notebook(project: Path, outside: Path) -> Path:
    os.mkfifo(project / NOTEBOOK)
    return project / NOTEBOOK


def _nested_notebook(project: Path, outside: Path) -> Path:
    path = project / NOTEBOOK
    path.write_text("[" * 200_000 + "]" * 200_000)
    return path


# -- 3. replay uploads your files --------------------------------------------------------------


def _reference(relative: bool) -> Build:
    def build(project: Path, outside: Path) -> Path:
        photo = outside / "private" / "photo.png"
        reference = os.path.relpath(photo, project) if relative else str(photo)
        return write(
            project,
            notebook_with(good_record(params={**good_record()["params"], "input_reference": reference})),
        )

    return build


# -- 7. terminal escapes -----------------------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\r\u202e"


def _escapes(project: Path, outside: Path) -> Path:
    record = good_record(
        params={"prompt": f"a cat {ESCAPES}", "duration": 4, "size": "1280x720"},
        request_id=f"req{ESCAPES}",
        video_path=f"clip{ESCAPES}.mp4",
    )
    return write(project, notebook_with(record))


# -- the corpus --------------------------------------------------------------------------------

CLEAN = expect(0)
#: what a malformed record (skipped, named) does to each command
SKIPPED = {
    "records": expect(2, says="skipped: cell 1"),
    "verify": expect(2, says="skipped: cell 1"),
    "embed": expect(2, says="skipped: cell 1"),
    "replay": expect(2, says="no generation 'g1'"),
}


def skipped(field_name: str) -> dict[str, Expect]:
    """SKIPPED, naming the field that is wrong."""
    named = {command: e for command, e in SKIPPED.items()}
    for command in ("records", "verify", "embed"):
        named[command] = expect(2, says=("skipped: cell 1 (id cell-1), output 1, record 1", field_name))
    return named


UNREADABLE = {command: expect(2, says="error: ") for command in ("records", "verify", "embed", "replay")}

CASES: list[Case] = [
    # 1
    Case(
        "planted-temp-file-symlink",
        "1",
        _planted_temp,
        {"embed": expect(0, says="1 generation record(s)"), "records": CLEAN, "verify": CLEAN},
        after=_temp_not_followed,
    ),
    Case(
        "notebook-is-a-symlink",
        "1",
        _symlinked_notebook,
        {"embed": expect(2, says="is a symlink; it is not written through"), "records": CLEAN},
    ),
    Case(
        "planted-ledger-symlink",
        "1",
        _planted_ledger,
        {
            "records": expect(2, says="ledger"),
            "embed": expect(2, says="ledger"),
            "verify": expect(2, says="ledger"),
        },
    ),
    Case(
        "output-dir-symlinked-out-of-the-project",
        "1",
        _planted_output_dir,
        {
            "records": expect(2, says="lies outside the notebook's folder; not read"),
            "embed": expect(2, says="outside"),
            "verify": expect(1, says="sora-outputs/.bashrc passes through a symlink (sora-outputs)"),
        },
    ),
    # 2
    Case(
        "clip-path-climbs-to-etc-passwd",
        "2",
        with_records(good_record(video_path="../../../../../../../../etc/passwd")),
        {"verify": expect(1, says="climbs out of its folder (..); not read")},
    ),
    Case(
        "clip-path-is-dev-zero",
        "2",
        with_records(good_record(video_path="/dev/zero")),
        {"verify": expect(1, says="is outside the notebook's folder")},
    ),
    Case("clip-is-a-fifo", "2", _fifo_clip, {"verify": expect(1, says="is not a regular file")}),
    Case(
        "clip-is-a-symlink-to-dev-zero",
        "2",
        _symlinked_clip,
        {"verify": expect(1, says="is a symlink; not followed")},
    ),
    Case(
        "notebook-is-a-fifo",
        "2",
        _fifo_notebook,
        {
            command: expect(2, says="is not a regular file")
            for command in ("records", "verify", "embed", "replay")
        },
    ),
    Case("notebook-nested-too-deeply", "2", _nested_notebook, UNREADABLE),
    # 3
    Case(
        "reference-climbs-to-a-private-photo",
        "3",
        _reference(relative=True),
        {"replay": expect(2, says="replay never uploads a local file named by a record")},
    ),
    Case(
        "reference-is-an-absolute-private-path",
        "3",
        _reference(relative=False),
        {"replay": expect(2, says="replay never uploads a local file named by a record")},
    ),
    # 4: the crafted records of the review
    Case("params-not-an-object", "4", with_records(good_record(params=["a cat"])), skipped("params")),
    Case(
        "status-history-item-not-an-object",
        "4",
        with_records(good_record(status_history=["COMPLETED"])),
        skipped("status_history[0]"),
    ),
    Case("id-is-a-list", "4", with_records(good_record(id=["g1"])), skipped("id")),
    Case(
        "timestamps-are-ints",
        "4",
        with_records(good_record(submitted_at=1, completed_at=2, updated_at=3)),
        skipped("_at"),
    ),
    Case(
        "status-is-an-object", "4", with_records(good_record(status={"COMPLETED": True})), skipped("status")
    ),
    Case(
        "error-is-a-string",
        "4",
        with_records(good_record(status="FAILED", error="boom", video_path=None, sha256=None)),
        skipped("error"),
    ),
    Case(
        "duration-not-allowed",
        "4",
        with_records(good_record(params={"prompt": "x", "duration": 5, "size": "1280x720"})),
        skipped("params.duration"),
    ),
    Case(
        "prompt-holds-a-lone-surrogate",
        "4",
        with_records(good_record(params={"prompt": "a \ud800 cat", "duration": 4, "size": "1280x720"})),
        skipped("params.prompt"),
    ),
    Case("record-is-a-string", "4", with_records("g1"), skipped("not an object")),
    Case(
        "cell-is-a-string",
        "4",
        with_records(cells=["print('hi')"]),
        {
            "records": expect(2, says="skipped: cell 1: is not an object"),
            "verify": expect(2, says="skipped: cell 1"),
            "embed": expect(2, says="skipped: cell 1"),
            "replay": expect(2, says="no generation 'g1'"),
        },
    ),
    Case(
        "metadata-is-a-list",
        "4",
        with_records(good_record(status="QUEUED", video_path=None, sha256=None), metadata=["x"]),
        {
            "records": expect(2, says="the notebook's metadata: is not an object"),
            "verify": expect(2, says="metadata"),
            "embed": expect(2, says="its metadata is not an object; the notebook is not rewritten"),
        },
    ),
    Case(
        "metadata-generations-is-a-list",
        "4",
        with_records(metadata={"sora_widget": {"generations": [good_record()]}}),
        {
            "records": expect(2, says="metadata.sora_widget: is not an object of generations"),
            "embed": expect(2, says="metadata.sora_widget"),
        },
    ),
    Case(
        "outputs-not-a-list",
        "4",
        with_records(cells=[{"id": "c", "cell_type": "code", "metadata": {}, "source": "", "outputs": "x"}]),
        {"records": expect(2, says="its outputs are not a list"), "verify": expect(2, says="outputs")},
    ),
    Case(
        "record-list-not-a-list",
        "4",
        lambda project, outside: write(
            project,
            {
                **notebook_with(),
                "cells": [
                    {
                        "id": "c",
                        "cell_type": "code",
                        "metadata": {},
                        "source": "",
                        "outputs": [
                            {"output_type": "display_data", "data": {MIMETYPE: {"generations": "g1"}}}
                        ],
                    }
                ],
            },
        ),
        {"records": expect(2, says="its records are not a list")},
    ),
    Case(
        "not-a-notebook",
        "4",
        lambda project, outside: write(project, [good_record()]),
        {
            command: expect(2, says="is not a Jupyter notebook")
            for command in ("records", "verify", "embed", "replay")
        },
    ),
    # 7
    Case(
        "terminal-escapes-in-prompt-request-id-and-path",
        "7",
        _escapes,
        {
            "records": expect(0, says=("\\x1b]0;owned\\x07", "\\u202e")),
            "verify": expect(1, says="\\x1b[2J"),
        },
    ),
]

COMMANDS = ("records", "verify", "embed", "replay")


def expectation(case: Case, command: str) -> Expect:
    """What `command` must do with `case`: as the case says, else what a notebook that is
    fine for that command gets (records and verify of a clean notebook: 0; embed: 0;
    replay of a record without a local reference: not reached — the corpus never pays)."""
    if command in case.expect:
        return case.expect[command]
    return expect(0, 1, 2)
