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


# -- links on the export page and in the HTML fallback -----------------------------------------

HOSTILE = [
    "http:evil.example/x.mp4",  # a real folder named `http:evil.example`: browsers read http://
    "javascript:alert(1)",
    "https://evil.example/x.mp4",
    "http://evil.example/x.mp4",
    "//evil.example/x.mp4",
    "\\\\evil.example\\x.mp4",
    "C:\\x.mp4",
    "/etc/hostname",
]


def links(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', page)


def test_the_export_page_links_a_clip_only_as_dot_slash_and_a_percent_encoded_path(tmp_path):
    from sora_widget.report import export

    records = []
    for index, path in enumerate(HOSTILE):
        if not path.startswith(("/", "\\", "C:", "https:", "http://")):
            clip = tmp_path / path
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(b"not embedded: the page is too small for it")
        records.append(good_record(id=f"g{index}", video_path=path))
    notebook = write(tmp_path, notebook_with(*records))

    page = export(notebook, tmp_path / "page.html", max_mb=0.01).read_text()

    assert links(page) == ["./http%3Aevil.example/x.mp4", "./javascript%3Aalert%281%29"]


def test_a_page_written_elsewhere_links_back_with_dot_slash(tmp_path):
    from sora_widget.report import export

    (tmp_path / "sora-outputs").mkdir()
    (tmp_path / "sora-outputs" / "my clip#1.mp4").write_bytes(b"x" * 100)
    notebook = write(tmp_path, notebook_with(good_record(video_path="sora-outputs/my clip#1.mp4")))
    page = export(notebook, tmp_path / "pages" / "page.html", max_mb=0.01).read_text()
    assert links(page) == ["./../sora-outputs/my%20clip%231.mp4"]


@pytest.mark.parametrize("path", HOSTILE)
def test_the_html_fallback_links_a_clip_only_as_dot_slash_and_a_percent_encoded_path(path):
    shown = record_html([Generation.from_dict(good_record(video_path=path))])
    # at most a link below the notebook (a folder named `http:` is a folder), never a scheme
    assert all(link.startswith("./") and ":" not in link for link in links(shown)), links(shown)
    if path.startswith(("/", "\\", "C:")):
        assert "<video" not in shown


def test_a_poster_is_taken_only_from_a_clip_the_rule_allows(tmp_path, monkeypatch):
    from sora_widget.records import MIMETYPE, record_bundle
    from tests.unit.test_video import make_clip

    project, private = tmp_path / "project", tmp_path / "private"
    (project / "sora-outputs").mkdir(parents=True)
    private.mkdir()
    make_clip(private / "secret.mp4", frames=4, size=(64, 36))
    (project / "sora-outputs" / "clip.mp4").symlink_to(private / "secret.mp4")
    (project / "linked").symlink_to(private, target_is_directory=True)
    monkeypatch.chdir(project)
    records = [
        Generation.from_dict(good_record(id=f"g{i}", video_path=path))
        for i, path in enumerate(["sora-outputs/clip.mp4", "linked/secret.mp4", "../private/secret.mp4"])
    ]
    assert record_bundle(records)[MIMETYPE]["posters"] == {}  # a frame of a private clip, else
    make_clip(project / "sora-outputs" / "mine.mp4", frames=4, size=(64, 36))
    mine = Generation.from_dict(good_record(video_path="sora-outputs/mine.mp4"))
    assert list(record_bundle([mine])[MIMETYPE]["posters"]) == ["g1"]


# -- the widget streams a clip only as the rule allows, off the event loop ---------------------


class Sent:
    def __init__(self) -> None:
        self.messages: list[tuple[dict, list[bytes]]] = []

    def __call__(self, content, buffers=None) -> None:
        self.messages.append((content, list(buffers or [])))


async def ask_for_video(widget, job: str) -> list[tuple[dict, list[bytes]]]:
    import asyncio

    widget.sent.messages.clear()
    widget._on_message(widget, {"kind": "video", "id": f"v-{job}", "job": job}, [])
    for _ in range(500):  # the answer comes from a task: at most 5 s
        if any(
            m.get("kind") == "reply" or m.get("index") == m.get("total", 0) - 1
            for m, _ in widget.sent.messages
        ):
            break
        await asyncio.sleep(0.01)
    return widget.sent.messages


@pytest.fixture
async def widget(tmp_path, monkeypatch):
    from sora_widget import SoraWidget
    from sora_widget.client import AsyncSoraClient

    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    async with AsyncSoraClient(
        api_key="k", base_url="http://127.0.0.1:9", output_dir=project / "out"
    ) as client:
        w = SoraWidget(prompt="a fox", duration=4, client=client)
        w.sent = Sent()  # type: ignore[attr-defined]
        monkeypatch.setattr(w, "send", w.sent)
        yield w
        w.close()


def shown(widget, id_: str, video_path: str) -> None:
    widget._records[id_] = Generation.from_dict(good_record(id=id_, video_path=video_path))


async def test_the_widget_streams_its_own_clip_in_chunks(widget):
    (widget.client.output_dir).mkdir(parents=True, exist_ok=True)
    (widget.client.output_dir / "clip.mp4").write_bytes(b"clip bytes")
    shown(widget, "rel", "out/clip.mp4")
    shown(widget, "abs", str((widget.client.output_dir / "clip.mp4").resolve()))  # an output dir elsewhere
    for job in ("rel", "abs"):
        ((chunk, buffers),) = await ask_for_video(widget, job)
        assert chunk["total"] == 1 and chunk["size"] == 10 and buffers == [b"clip bytes"]


async def test_the_widget_never_streams_a_file_the_rule_refuses(widget, tmp_path):
    import threading

    project = Path.cwd()
    os.mkfifo(project / "fifo.mp4")
    (project / "host.mp4").symlink_to("/etc/hostname")

    def writer() -> None:  # where the FIFO is opened on the loop, this frees it (and fails the test)
        try:
            fd = os.open(project / "fifo.mp4", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # nobody is reading it: as it should be
        os.write(fd, b"x")
        os.close(fd)

    rescue = threading.Timer(5, writer)
    rescue.start()
    try:
        for id_, path in [("a", "/etc/hostname"), ("b", "fifo.mp4"), ("c", "host.mp4"), ("d", "../x.mp4")]:
            shown(widget, id_, path)
            messages = await ask_for_video(widget, id_)
            assert [m["kind"] for m, _ in messages] == ["reply"], messages
            assert messages[0][0]["ok"] is False and not any(buffers for _, buffers in messages)
    finally:
        rescue.cancel()
