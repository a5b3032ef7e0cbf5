"""The file helpers for untrusted paths, and text made safe for a terminal: pure file work
in a temporary directory (root ignores permission bits, so no case relies on them)."""

import os
import stat

import pytest

from sora_widget._files import (
    FileRefused,
    contained,
    folder_problem,
    read_bounded,
    sha256_bounded,
    write_replacing,
)
from sora_widget._text import redact, terminal_safe


def test_reading_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)  # no writer: a blocking open would never return
    for path in (fifo, "/dev/zero"):
        with pytest.raises(FileRefused, match="is not a regular file"):
            read_bounded(path, 1024)
        with pytest.raises(FileRefused, match="is not a regular file"):
            sha256_bounded(path, 1024)


def test_reads_are_bounded_and_a_symlink_is_not_followed_where_that_is_asked(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(FileRefused, match="larger than 1024 bytes"):
        read_bounded(big, 1024)
    with pytest.raises(FileRefused, match="larger than 1024 bytes"):
        sha256_bounded(big, 1024)
    assert read_bounded(big, 4096) == b"x" * 2048
    link = tmp_path / "link"
    link.symlink_to(big)
    with pytest.raises(FileRefused, match="symlink"):
        sha256_bounded(link, 4096)


def test_containment_resolves_symlinks_and_dot_dots(tmp_path):
    inside = tmp_path / "project"
    inside.mkdir()
    (inside / "out").symlink_to("/etc")
    assert contained(inside / "a" / ".." / "b.mp4", [inside]) == inside / "b.mp4"
    assert contained(inside / ".." / ".." / "etc" / "passwd", [inside]) is None
    assert contained(inside / "out" / "passwd", [inside]) is None
    assert contained("/dev/zero", [inside]) is None


def test_replacing_a_file_keeps_its_mode_and_never_writes_through_a_symlink(tmp_path):
    target = tmp_path / "nb.ipynb"
    target.write_text("old")
    target.chmod(0o600)
    (tmp_path / ".nb.ipynb.sora-widget.tmp").symlink_to(tmp_path / "bashrc")  # the old fixed name
    write_replacing(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not (tmp_path / "bashrc").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".nb.ipynb.sora-widget.tmp", "nb.ipynb"]

    bashrc = tmp_path / "bashrc"
    bashrc.write_text("mine")
    link = tmp_path / "linked.ipynb"
    link.symlink_to(bashrc)
    with pytest.raises(FileRefused, match="is a symlink"):
        write_replacing(link, b"{}")
    assert bashrc.read_text() == "mine" and link.is_symlink()


def test_a_folder_that_cannot_be_written_is_named_even_for_root(tmp_path):
    assert folder_problem(tmp_path / "new" / "deeper") is None  # would be created
    assert folder_problem("/proc/1/x") is not None
    assert folder_problem("/dev/null/x") is not None
    (tmp_path / "file").write_text("x")
    assert "not a folder" in (folder_problem(tmp_path / "file") or "")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("title\x1b]0;owned\x07", "title\\x1b]0;owned\\x07"),
        ("over\rwrite", "over\\x0dwrite"),
        ("line\nbreak", "line\\x0abreak"),
        ("abc\u202edcba", "abc\\u202edcba"),
        ("a \ud800 b", "a \\ud800 b"),
        ("\x9b31m", "\\x9b31m"),
        ("plain text, é and 中文", "plain text, é and 中文"),
    ],
)
def test_terminal_safe_shows_control_characters_instead_of_obeying_them(raw, shown):
    assert terminal_safe(raw) == shown
    terminal_safe(raw).encode("utf-8")  # printable whatever it held


def test_terminal_safe_may_keep_the_lines_of_a_message():
    assert terminal_safe("a\x1b[2J\nb", keep_newlines=True) == "a\\x1b[2J\nb"


def test_redact_replaces_every_occurrence_of_each_secret():
    assert redact("key sk-1 and sk-1 again", ["sk-1", None, ""]) == "key *** and *** again"


def test_the_progress_line_shows_a_servers_request_id_escaped():
    from sora_widget.params import GenerationParams
    from sora_widget.records import Generation
    from sora_widget.terminal import progress_line

    record = Generation(id="g1", params=GenerationParams("a cat", 4), request_id="req\x1b[2J\x1b]0;x\x07")
    line = progress_line(record, elapsed=3, expected=180)
    assert "request req\\x1b[2J\\x1b]0;x\\x07" in line and "\x1b" not in line
