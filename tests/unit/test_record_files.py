"""The one rule for every file a record names (`_files.open_record_file`): its text first
(relative, or absolute inside a root; never `..`, UNC or a drive), then opened from its
root down without following a symlink, a regular file looked at before it is opened,
bounded in size. Real files in a temporary folder; no network."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from sora_widget import _files
from sora_widget._files import (
    FileRefused,
    RecordFileMissing,
    aopen_record_file,
    check_record_file,
    open_record_file,
    path_text_problem,
    record_path,
)


@pytest.fixture
def project(tmp_path):
    """A notebook's folder (resolved, as callers give roots) with a clip in its output dir,
    beside a private folder a record might aim at."""
    root = tmp_path.resolve() / "project"
    (root / "sora-outputs").mkdir(parents=True)
    (root / "sora-outputs" / "clip.mp4").write_bytes(b"clip bytes")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.mp4").write_bytes(b"secret")
    return root


def opened(text: str, root: Path, *, max_bytes: int = 1 << 20, roots: list[Path] | None = None):
    return open_record_file(text, base=root, roots=roots or [root], max_bytes=max_bytes)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("\\\\host\\share\\c.mp4", "UNC"),
        ("//host/share/c.mp4", "UNC"),
        ("\\\\?\\C:\\c.mp4", "UNC"),
        ("C:\\Users\\me\\c.mp4", "drive"),
        ("C:c.mp4", "drive"),
        ("c:/c.mp4", "drive"),
        ("/etc/hostname", "absolute"),
        ("\\c.mp4", "absolute"),
        ("../private/secret.mp4", ".."),
        ("sora-outputs\\..\\..\\secret.mp4", ".."),
        ("clip\x00.mp4", "control character"),
        ("clip\n.mp4", "control character"),
        ("", "empty"),
    ],
)
def test_a_path_that_is_not_relative_below_its_folder_is_refused_by_its_text(text, said):
    problem = path_text_problem(text)
    assert problem is not None and said in problem


@pytest.mark.parametrize(
    "text", ["clip.mp4", "sora-outputs/clip.mp4", "http:evil.example/x.mp4", "a b/c#d.mp4"]
)
def test_a_relative_path_below_its_folder_passes_the_text_check(text):
    assert path_text_problem(text) is None


def test_the_text_is_judged_before_anything_touches_the_filesystem(project, monkeypatch):
    def touched(*args, **kwargs):
        raise AssertionError("the filesystem was touched")

    for name in ("open", "stat", "lstat", "scandir"):
        monkeypatch.setattr(_files.os, name, touched)
    monkeypatch.setattr(Path, "resolve", touched)
    for text in ("\\\\host\\share\\c.mp4", "C:\\c.mp4", "/etc/hostname", "../private/secret.mp4"):
        with pytest.raises(FileRefused):
            record_path(text, base=project, roots=[project])
    assert record_path("sora-outputs/clip.mp4", base=project, roots=[project]) == (
        project,
        project / "sora-outputs" / "clip.mp4",
    )


def test_a_clip_inside_the_folder_is_opened_checked_and_hashed(project):
    with opened("sora-outputs/clip.mp4", project) as clip:
        assert clip.path == project / "sora-outputs" / "clip.mp4" and clip.size == 10
        assert clip.sha256() == hashlib.sha256(b"clip bytes").hexdigest()
    assert clip.file.closed
    # the output dir as a root of its own, and a clip named by its absolute path inside it
    outputs = project / "sora-outputs"
    absolute = str(outputs / "clip.mp4")
    assert check_record_file(absolute, base=project, roots=[project, outputs], max_bytes=100) == Path(
        absolute
    )


def test_an_absolute_path_outside_the_roots_is_refused(project):
    secret = str(project.parent / "private" / "secret.mp4")
    for text in (secret, "/dev/zero", "/etc/hostname", str(project)):
        with pytest.raises(FileRefused, match="is outside the notebook's folder and the output dir"):
            opened(text, project)


def test_a_symlink_at_any_component_is_never_followed(project):
    private = project.parent / "private"
    (project / "linked-clip.mp4").symlink_to(project / "sora-outputs" / "clip.mp4")  # even inside
    (project / "to-secret.mp4").symlink_to(private / "secret.mp4")
    (project / "linked-folder").symlink_to(private, target_is_directory=True)
    (project / "sora-outputs" / "deeper").mkdir()
    (project / "sora-outputs" / "deeper" / "up").symlink_to(project / "sora-outputs")
    for text, said in [
        ("linked-clip.mp4", "is a symlink"),
        ("to-secret.mp4", "is a symlink"),
        ("linked-folder/secret.mp4", "passes through a symlink (linked-folder)"),
        ("sora-outputs/deeper/up/clip.mp4", "passes through a symlink (up)"),
    ]:
        with pytest.raises(FileRefused, match=said.replace("(", r"\(").replace(")", r"\)")):
            opened(text, project)


def test_a_fifo_a_device_and_a_folder_are_refused_without_being_opened(project):
    os.mkfifo(project / "fifo.mp4")  # no writer: a blocking open would never return
    os.mknod(project / "zero.mp4", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    for text in ("fifo.mp4", "zero.mp4", "sora-outputs"):
        with pytest.raises(FileRefused, match="is not a regular file"):
            opened(text, project)


def test_a_file_larger_than_the_bound_is_refused(project):
    with pytest.raises(FileRefused, match="larger than 9 bytes"):
        opened("sora-outputs/clip.mp4", project, max_bytes=9)
    with opened("sora-outputs/clip.mp4", project, max_bytes=10) as clip:
        assert clip.file.read() == b"clip bytes"


def test_a_missing_file_or_folder_is_told_apart(project):
    (project / "a-file").write_text("x")
    for text in ("sora-outputs/gone.mp4", "gone/clip.mp4", "a-file/clip.mp4"):
        with pytest.raises(RecordFileMissing, match="is missing"):
            opened(text, project)


async def test_the_async_helper_opens_off_the_event_loop(project, monkeypatch):
    import threading

    threads = []
    real = _files.open_record_file

    def spy(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(_files, "open_record_file", spy)
    with await aopen_record_file(
        "sora-outputs/clip.mp4", base=project, roots=[project], max_bytes=100
    ) as clip:
        assert clip.size == 10
    assert threads and threads[0] != threading.get_ident()
