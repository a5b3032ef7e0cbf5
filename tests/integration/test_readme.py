"""The README's code runs as written: every ```python and ```ipython block, in order,
through a real IPython shell, on the embedded emulator (no key in the environment)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from sora_widget import api, cost

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"```(python|ipython)\n(.*?)```", re.DOTALL)


def blocks() -> list[str]:
    return [code for _, code in FENCE.findall(README.read_text())]


def test_the_readme_has_code_to_run():
    assert len(blocks()) >= 5


def test_every_readme_block_runs(tmp_path, monkeypatch, capsys, emulator_cache_dir):
    monkeypatch.chdir(tmp_path)
    for name in ("SEGMIND_API_KEY", "SEGMIND_BASE_URL", "SORA_WIDGET_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(api, "_defaults", {})
    monkeypatch.setattr(cost, "_session", None)  # the README sets a budget: this test's own
    shell = InteractiveShell.instance()
    try:
        # the embedded emulator the README's sw.connect() finds running: quicker than its
        # 3 s default (the README's code waits the same way), renders shared with the run
        assert api.embedded_emulator() is None
        api.use_emulator(latency=0.5, data_dir=emulator_cache_dir)
        api._defaults.clear()  # connect() sets them again, as it does for a user
        for code in blocks():
            result = shell.run_cell(code)
            output = capsys.readouterr()
            assert result.success, f"README block failed:\n{code}\n{output.out}\n{output.err}"
            for expected in re.findall(r"print\(.*\)  # (COMPLETED [^\n]*)", code):
                assert expected in output.out, f"README promises {expected!r}; printed {output.out!r}"
        clip = shell.user_ns["clip"]
        assert clip.status == "COMPLETED" and clip.synthetic
    finally:
        InteractiveShell.clear_instance()
        if api.embedded_emulator() is not None:
            api.embedded_emulator().stop()
            monkeypatch.setattr(api, "_emulator", None)


def documented_commands() -> list[str]:
    return sorted(set(re.findall(r"^sora-widget ([a-z]+)", README.read_text(), re.MULTILINE)))


def test_the_readme_documents_the_commands():
    assert {"generate", "records", "embed", "verify", "replay"} <= set(documented_commands())


@pytest.mark.parametrize("command", documented_commands())
def test_documented_commands_exist(command):
    from sora_widget.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert command in commands.choices  # type: ignore[attr-defined]
