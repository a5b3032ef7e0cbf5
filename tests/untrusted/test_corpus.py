"""Every case of the crafted corpus through every command of the CLI (`records`, `verify`,
`embed`, `replay`), in process, each bounded in time. Whatever the case, a command must:

- end with an exit status that means something (0 fine, 1 a clip missing or changed,
  2 unusable input) and say what is wrong — never a traceback, never a hang;
- send no request (the corpus never pays: the emulator counts every request);
- write not a byte outside the project folder (an `outside` folder with a `.bashrc` and
  a private photo is what a planted path aims at, and HOME and the working directory are
  watched too);
- print nothing raw to the terminal (no escape character from a file).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sora_widget import cli
from sora_widget.emulator import start as start_emulator

from .conftest import FAKE_KEY
from .corpus import CASES, COMMANDS, RECORD_ID, Case, expectation

RUNS = [
    pytest.param(case, command, id=f"{case.point}-{case.name}-{command}")
    for case in CASES
    for command in COMMANDS
    if command != "replay" or command in case.expect  # a valid record's replay would pay
]


@pytest.fixture(scope="module")
def api_server():
    with start_emulator(latency=0.05) as handle:
        yield handle


def snapshot(root: Path, skip: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry below `root` but `skip`: its kind, mode and content digest (or target)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if path == skip:
                continue
            info = path.lstat()
            if path.is_symlink():
                found[str(path)] = ("link", info.st_mode, os.readlink(path))
            elif path.is_file():
                found[str(path)] = ("file", info.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                found[str(path)] = ("other", info.st_mode, "")
    return found


@pytest.fixture
def world(tmp_path, monkeypatch, api_server):
    """The folders of one run: the project (the case's), the outside world, HOME and the
    working directory — and an environment that points at the counting emulator."""
    project, outside, home, cwd = (tmp_path / name for name in ("project", "outside", "home", "cwd"))
    for folder in (project, outside, home, cwd, outside / "private"):
        folder.mkdir()
    (outside / ".bashrc").write_text("export PATH=$PATH:~/bin\n")
    (outside / "private" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"private" * 32)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SEGMIND_API_KEY", FAKE_KEY)
    monkeypatch.setenv("SEGMIND_BASE_URL", api_server.base_url)
    for name in ("SORA_WIDGET_OUTPUT_DIR", "SEGMIND_UPLOAD_URL"):
        monkeypatch.delenv(name, raising=False)
    from sora_widget import api

    monkeypatch.setattr(api, "_defaults", {})
    return tmp_path, project, outside


def requests_sent(server) -> int:
    return sum(server.stats()["requests"].values())


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("case", "command"), RUNS)
def test_a_crafted_notebook_gets_a_clear_answer_and_nothing_else(
    case: Case, command, world, api_server, capsys
):
    root, project, outside = world
    notebook = case.build(project, outside)
    before = snapshot(root, skip=project)
    sent_before = requests_sent(api_server)

    args = [command, str(notebook)] + ([RECORD_ID] if command == "replay" else [])
    status = cli.main(args)

    out, err = capsys.readouterr()
    printed = out + err
    wanted = expectation(case, command)
    assert status in wanted.status, f"exit {status}, wanted {sorted(wanted.status)}:\n{printed}"
    for text in wanted.says:
        assert text in printed, f"{text!r} not said:\n{printed}"
    if status == 2:
        assert err.strip(), "a refusal says why"
    assert "Traceback" not in printed
    assert "\x1b" not in printed and "\u202e" not in printed and "\r" not in printed
    assert FAKE_KEY not in printed
    assert requests_sent(api_server) == sent_before, "nothing may be sent"
    assert snapshot(root, skip=project) == before, "nothing may change outside the project"
    if case.after is not None:
        case.after(project, outside)


def test_the_corpus_covers_every_point_of_the_issue_and_every_crafted_record():
    assert {case.point for case in CASES} >= {"1", "2", "3", "4", "7"}
    assert len([case for case in CASES if case.point == "4"]) >= 11
    assert len({case.name for case in CASES}) == len(CASES)
