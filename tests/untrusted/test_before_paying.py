"""Everything is checked before anything is paid for: a bad timeout, callback, save_to,
prompt or output dir raises `InvalidParams` / `ConfigurationError` with 0 requests sent —
at every entry point (sw.generate, agenerate, AsyncSoraClient.submit/generate/wait,
generate_many, the widget's start, the CLI, the magics)."""

from __future__ import annotations

import asyncio
import math

import pytest

import sora_widget as sw
from sora_widget import cli
from sora_widget.batch import agenerate_many
from sora_widget.client import AsyncSoraClient
from sora_widget.errors import ConfigurationError, InvalidParams
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

from .conftest import FAKE_KEY

#: paths no process can create, even as root: below /proc (a kernel filesystem) and below a
#: file (/dev/null is not a folder)
UNWRITABLE_DIR = "/proc/1/no-such-folder"
UNWRITABLE_MP4 = "/dev/null/clip.mp4"

BAD_TIMEOUTS = [-1, 0, "10", math.nan, math.inf, True, None]
BAD_PROMPTS = ["", "   \n", "x" * 200_000, "a cat \ud800 on a mat", 42]


def requests_sent(emu) -> int:
    return sum(emu.stats()["requests"].values())


@pytest.fixture
def emu(emulator, project):
    return emulator(latency=0.05)


def client_for(emu, project, **options):
    return AsyncSoraClient(api_key=FAKE_KEY, base_url=emu.base_url, output_dir=project / "out", **options)


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_sw_generate_refuses_a_bad_timeout_before_any_request(emu, project, timeout):
    with pytest.raises(InvalidParams, match="timeout"):
        sw.generate("a cat", duration=4, base_url=emu.base_url, timeout=timeout)
    assert requests_sent(emu) == 0


@pytest.mark.parametrize("prompt", BAD_PROMPTS, ids=lambda p: repr(p)[:20])
def test_sw_generate_refuses_a_bad_prompt_before_any_request(emu, project, prompt):
    with pytest.raises(InvalidParams, match="prompt"):
        sw.generate(prompt, duration=4, base_url=emu.base_url, timeout=30)
    assert requests_sent(emu) == 0


def test_the_prompt_cap_is_32000_characters_and_a_prompt_of_that_length_is_fine():
    from sora_widget.params import MAX_PROMPT_CHARS

    assert MAX_PROMPT_CHARS == 32_000
    assert GenerationParams.from_dict({"prompt": "x" * 32_000}).prompt == "x" * 32_000
    with pytest.raises(InvalidParams, match="at most 32,000 characters"):
        GenerationParams.from_dict({"prompt": "x" * 32_001})


@pytest.mark.parametrize("save_to", [UNWRITABLE_DIR, UNWRITABLE_MP4, 7], ids=repr)
def test_sw_generate_refuses_a_save_to_it_cannot_write_before_any_request(emu, project, save_to):
    with pytest.raises(InvalidParams, match="save_to"):
        sw.generate("a cat", duration=4, base_url=emu.base_url, timeout=30, save_to=save_to)
    assert requests_sent(emu) == 0


def test_save_to_a_folder_path_ending_in_mp4_or_a_file_not_ending_in_it_is_refused(emu, project):
    (project / "folder.mp4").mkdir()
    (project / "notes.txt").write_text("mine")
    for save_to in (project / "folder.mp4", project / "notes.txt"):
        with pytest.raises(InvalidParams, match="save_to"):
            sw.generate("a cat", duration=4, base_url=emu.base_url, timeout=30, save_to=save_to)
    assert requests_sent(emu) == 0
    assert (project / "notes.txt").read_text() == "mine"


def test_an_unwritable_output_dir_is_a_configuration_error_before_any_request_even_an_upload(emu, project):
    image = project / "ref.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    for reference in (None, str(image)):
        with pytest.raises(ConfigurationError, match="output folder"):
            sw.generate(
                "a cat",
                duration=4,
                base_url=emu.base_url,
                output_dir=UNWRITABLE_DIR,
                input_reference=reference,
            )
    assert requests_sent(emu) == 0


async def test_the_async_client_checks_at_every_entry_point(emu, project):
    async with client_for(emu, project) as client:
        with pytest.raises(InvalidParams, match="timeout"):
            await client.generate("a cat", duration=4, timeout=math.nan)
        with pytest.raises(InvalidParams, match="save_to"):
            await client.generate("a cat", duration=4, save_to=UNWRITABLE_MP4)
        with pytest.raises(InvalidParams, match="on_update"):
            await client.submit("a cat", duration=4, on_update="print")
        with pytest.raises(InvalidParams, match="prompt"):
            await client.submit("x" * 200_000, duration=4)
        known = Generation(id="g1", params=GenerationParams("a cat", 4), request_id="req-1", status="QUEUED")
        with pytest.raises(InvalidParams, match="timeout"):
            await client.wait(known, timeout=-1)
        with pytest.raises(InvalidParams, match="timeout"):
            await client.resume("req-1", timeout="10")
    with pytest.raises(InvalidParams, match="timeout"):
        await sw.agenerate("a cat", duration=4, base_url=emu.base_url, timeout=-1)
    assert requests_sent(emu) == 0


async def test_generate_many_checks_its_timeout_first(emu, project):
    async with client_for(emu, project) as client:
        with pytest.raises(InvalidParams, match="timeout"):
            await agenerate_many(["a cat", "a dog"], duration=4, timeout=-1, client=client, show=False)
    assert requests_sent(emu) == 0


async def test_the_widgets_start_checks_save_to_before_any_request(emu, project):
    from sora_widget.widget import SoraWidget

    async with client_for(emu, project) as client:
        view = SoraWidget(client=client)
        with pytest.raises(InvalidParams, match="save_to"):
            view.start("a cat", duration=4, save_to=UNWRITABLE_MP4)
        with pytest.raises(InvalidParams, match="prompt"):
            view.start("a lone \udfff surrogate", duration=4)
        await asyncio.sleep(0)  # a job the start spawned would have sent its submit by now
    assert requests_sent(emu) == 0


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "soon"])
def test_the_cli_refuses_a_bad_timeout_as_a_usage_error(emu, project, timeout, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["generate", "--base-url", emu.base_url, "--timeout", timeout, "-d", "4", "a", "cat"])
    assert stopped.value.code == 2
    assert "--timeout" in capsys.readouterr().err
    assert requests_sent(emu) == 0


def test_the_cli_refuses_an_unwritable_out_before_any_request(emu, project, capsys):
    status = cli.main(["generate", "--base-url", emu.base_url, "-o", UNWRITABLE_MP4, "-d", "4", "a", "cat"])
    err = capsys.readouterr().err
    assert status == 1 and "save_to" in err and "Traceback" not in err
    assert requests_sent(emu) == 0


def test_the_magics_refuse_an_unwritable_out_before_any_request(emu, project, monkeypatch):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "sora_widget")
    try:
        with pytest.raises(UsageError, match="save_to"):
            shell.run_line_magic("sora", f"-d 4 -o {UNWRITABLE_MP4} a cat")
        with pytest.raises(UsageError, match="prompt"):
            # the cell magic: IPython's own $-expansion of a 40,000-character line takes seconds
            shell.run_cell_magic("sora", "-d 4", "x" * 40_000)
    finally:
        shell.run_line_magic("unload_ext", "sora_widget")
        InteractiveShell.clear_instance()
    assert requests_sent(emu) == 0
