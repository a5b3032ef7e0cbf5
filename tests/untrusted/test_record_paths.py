"""The paths a received record names: judged by their text before anything resolves or
opens them (on Windows, resolving `\\\\host\\share\\c.mp4` opens an SMB connection that
sends your password hash), files read only through the one rule of `_files`, a record
without a sha256 never "verified", and links on the export page and the HTML fallback
only ever relative — `./` and a percent-encoded path."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sora_widget.notebook import _ran_in, verify, verify_records
from sora_widget.records import Generation, record_html

from .corpus import good_record, notebook_with, write

#: paths that name another machine or a drive; the tests run on Linux, where they would be
#: plain names: what matters is that their text is refused before any filesystem call
REMOTE = ["\\\\host\\share\\c.mp4", "//host/share/c.mp4", "C:\\host\\c.mp4", "C:host.mp4"]


@pytest.fixture
def filesystem_calls(monkeypatch):
    """Every path given to os.stat, os.lstat or os.open (Path.resolve and Path.stat go
    through them) while the test runs."""
    seen: list[str] = []
    for name in ("stat", "lstat", "open"):
        real = getattr(os, name)

        def spy(path, *args, _real=real, **kwargs):
            seen.append(os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else str(path))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, spy)
    return seen


@pytest.mark.parametrize("path", REMOTE)
def test_verify_judges_a_remote_or_drive_clip_path_by_its_text_first(tmp_path, filesystem_calls, path):
    record = Generation.from_dict(good_record(video_path=path))
    (problem,) = verify_records([record], tmp_path.resolve())
    assert any(said in problem for said in ("UNC", "drive", "outside")), problem
    assert not [p for p in filesystem_calls if "host" in p], filesystem_calls


@pytest.mark.parametrize("path", [*REMOTE, "\\\\host\\share\\analysis.ipynb"])
def test_a_ledger_record_is_matched_to_the_notebook_by_its_text_first(tmp_path, filesystem_calls, path):
    record = Generation.from_dict(good_record(notebook={"path": path}))
    notebook = tmp_path.resolve() / "analysis.ipynb"
    assert _ran_in(record, notebook, own_ledger=True) is False
    assert not [p for p in filesystem_calls if "host" in p], filesystem_calls


def test_a_ledger_record_of_this_notebook_is_still_found_by_its_path(tmp_path):
    notebook = tmp_path.resolve() / "analysis.ipynb"
    for path, own in (("analysis.ipynb", True), ("./analysis.ipynb", True), (str(notebook), False)):
        assert _ran_in(Generation.from_dict(good_record(notebook={"path": path})), notebook, own), path
    assert not _ran_in(
        Generation.from_dict(good_record(notebook={"path": "analysis.ipynb"})), notebook, False
    )


def test_a_completed_record_without_a_sha256_is_never_verified(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"clip")
    path = write(tmp_path, notebook_with(good_record(sha256=None)))
    (problem,) = verify(path)
    assert "no sha256" in problem
