"""The smaller points of the review, one test (or a few) each: ledger entries matched by
notebook name only, the HTML fallback's idea of a relative path, downloads never checked
to be video, the emulator's config endpoint, body sizes and memory, an "offline" run
uploading elsewhere, an unwritable output dir — and replay, read_records and pending
from Python and the terminal."""

from __future__ import annotations

import asyncio
import json
import warnings

import httpx
import pytest

import sora_widget as sw
from sora_widget import api, cli
from sora_widget.client import AsyncSoraClient
from sora_widget.errors import InvalidParams
from sora_widget.ledger import Ledger
from sora_widget.notebook import embed, read_records
from sora_widget.params import GenerationParams
from sora_widget.records import Generation, record_html

from .conftest import FAKE_KEY
from .corpus import ESCAPES, good_record, notebook_with, write

# -- ledger entries are matched to a notebook by more than its name ---------------------------


def ran_in(notebook_path: str, id_: str) -> Generation:
    g = Generation(id=id_, params=GenerationParams("a fox", 4), request_id=f"req-{id_}")
    g.notebook = {"path": notebook_path}
    g.set_status("QUEUED")
    return g


def test_a_shared_ledger_does_not_lend_another_projects_untitled_records(tmp_path, monkeypatch):
    shared = tmp_path / "shared-outputs"
    monkeypatch.setenv("SORA_WIDGET_OUTPUT_DIR", str(shared))  # one output dir for every project
    Ledger.in_dir(shared).append("submitted", ran_in("Untitled.ipynb", "other"))  # project B's
    mine = tmp_path / "project-a"
    mine.mkdir()
    path = write(mine, notebook_with(), name="Untitled.ipynb")

    assert read_records(path) == []
    assert embed(path) == 0
    assert json.loads(path.read_text())["metadata"]["sora_widget"]["generations"] == {}


def test_the_projects_own_ledger_still_finds_the_jobs_that_ran_in_the_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv("SORA_WIDGET_OUTPUT_DIR", raising=False)
    path = write(tmp_path, notebook_with(), name="Untitled.ipynb")
    book = Ledger.in_dir(tmp_path / "sora-outputs")
    book.append("submitted", ran_in("Untitled.ipynb", "here"))
    book.append("submitted", ran_in("sub/Untitled.ipynb", "below"))  # a namesake in a subfolder
    assert [r.id for r in read_records(path)] == ["here"]


# -- the HTML fallback -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "\\\\host\\share\\x.mp4",
        "//host/x.mp4",
        "/\\host/x.mp4",
        " //host/x.mp4",
        "../x.mp4",
        "C:\\x.mp4",
        "a\t/../../x",
    ],
)
def test_the_html_fallback_plays_only_paths_below_the_notebook(path):
    record = Generation.from_dict(good_record(video_path=path))
    shown = record_html([record])
    assert "<video" not in shown


def test_the_html_fallback_still_plays_a_relative_clip():
    record = Generation.from_dict(good_record(video_path="sora-outputs/clip.mp4"))
    assert '<video src="./sora-outputs/clip.mp4"' in record_html([record])


# -- downloads are checked to be video ---------------------------------------------------------


async def test_junk_served_as_the_video_is_not_saved_nor_recorded_completed(tmp_path):
    junk = bytes(range(112))

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/requests/req-1":
            return httpx.Response(
                200, json={"status": "COMPLETED", "output": "https://api.test/outputs/req-1.mp4"}
            )
        return httpx.Response(200, content=junk, headers={"content-type": "video/mp4"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    record = Generation(id="g1", params=GenerationParams("a cat", 4), request_id="req-1")
    record.set_status("PROCESSING")
    async with AsyncSoraClient(
        api_key=FAKE_KEY, base_url="https://api.test", output_dir=tmp_path / "out", http=http
    ) as client:
        with pytest.raises(sw.DownloadError, match="did not serve an MP4 video"):
            await client.download(record)
    await http.aclose()
    assert record.video_path is None and record.sha256 is None and record.status != "COMPLETED"
    assert not list((tmp_path / "out").glob("*.mp4*")) and not list((tmp_path / "out").glob(".*.part"))


# -- the emulator ------------------------------------------------------------------------------


async def test_the_emulators_config_takes_only_json_so_no_web_page_can_change_it(emulator):
    emu = emulator()
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        # what a cross-site form or fetch without a preflight can send
        for headers in (
            {"content-type": "text/plain"},
            {"content-type": "application/x-www-form-urlencoded"},
            {},
        ):
            refused = await client.post("/_emulator/config", content=b'{"credits": 0}', headers=headers)
            assert refused.status_code == 415, headers
        assert emu.stats()["config"]["credits"] is None
        accepted = await client.post("/_emulator/config", json={"credits": 5})
        assert accepted.status_code == 200 and emu.stats()["config"]["credits"] == 5


async def test_the_emulator_caps_request_bodies(emulator):
    from sora_widget.emulator.app import MAX_API_BODY, MAX_CONFIG_BODY

    emu = emulator()
    headers = {"x-api-key": "k", "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=emu.base_url) as client:
        big = await client.post("/v2/sora-2", content=b" " * (MAX_API_BODY + 1), headers=headers)
        config = await client.post("/_emulator/config", content=b" " * (MAX_CONFIG_BODY + 1), headers=headers)

        async def endless():  # no content-length: chunked, and longer than any cap
            for _ in range(MAX_API_BODY // 65536 + 2):
                yield b" " * 65536

        streamed = await client.post("/upload-asset", content=endless(), headers=headers)
    assert big.status_code == config.status_code == streamed.status_code == 413
    assert emu.stats()["submits"] == 0


def test_expired_jobs_are_forgotten_with_their_stats_after_another_retention(monkeypatch):
    from sora_widget.emulator.config import EmulatorConfig
    from sora_widget.emulator.jobs import JobStore
    from sora_widget.emulator.render import VideoFile

    now = [1000.0]
    store = JobStore(EmulatorConfig(latency=1.0, retention=60.0), lambda: now[0])
    job = store.submit(GenerationParams("a cat", 4))
    store.mark_ready(job.request_id, VideoFile.__new__(VideoFile), at=now[0])
    now[0] += 1.0
    store.advance()
    now[0] = 1061.0
    assert store.advance().expired == [job] and store.history() == [job]  # gone for clients
    now[0] = 1121.0
    assert store.advance().forgotten == [job]
    assert store.history() == [] and store.get(job.request_id) is None


async def test_the_runtime_forgets_the_traffic_of_forgotten_jobs(emulator, finish_job):
    emu = emulator(latency=0.05, retention=0.2)
    async with httpx.AsyncClient(base_url=emu.base_url, headers={"x-api-key": "k"}) as client:
        job = (await client.post("/v2/sora-2", json={"prompt": "a cat", "duration": 4})).json()
        await finish_job(client, job["status_url"])
        rid = job["request_id"]
        assert rid in emu.stats()["by_request"]
        for _ in range(100):  # two retention periods: 0.4 s, watched for at most 10 s
            if rid not in emu.stats()["jobs"]:
                break
            await asyncio.sleep(0.1)
    stats = emu.stats()
    assert rid not in stats["jobs"] and rid not in stats["by_request"] and rid not in stats["detected_at"]


def test_emulator_mode_uploads_to_the_emulator_whatever_segmind_upload_url_says(
    emulator, project, monkeypatch
):
    elsewhere = emulator()  # another origin, standing for a remote upload host
    monkeypatch.setenv("SEGMIND_UPLOAD_URL", f"{elsewhere.base_url}/upload-asset")
    monkeypatch.setattr(api, "_emulator", None)
    image = project / "ref.png"
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(image)
    handle = api.use_emulator(latency=0.05)
    try:
        clip = sw.generate("a cat", duration=4, input_reference=str(image), timeout=60)
        assert clip.status == "COMPLETED"
        assert handle.stats()["requests"].get("upload") == 1
    finally:
        handle.stop()
        monkeypatch.setattr(api, "_emulator", None)
    assert sum(elsewhere.stats()["requests"].values()) == 0


# -- an unwritable output dir, in the commands that only read or export ------------------------


def test_pending_and_ledger_export_say_what_is_wrong_with_an_unusable_folder(project, capsys):
    # pending only reads: a folder with no ledger has nothing pending (and is not created)
    assert cli.main(["pending", "--output-dir", "/proc/1/no-such-folder"]) == 0
    assert cli.main(["ledger", "export", "-o", "/proc/1/no-such-folder/out.jsonl"]) == 2
    out, err = capsys.readouterr()
    assert "no pending jobs" in out
    assert "error: cannot write /proc/1/no-such-folder/out.jsonl" in err
    assert "Traceback" not in err


# -- replay, read_records and pending from Python and the terminal -----------------------------


def test_sw_replay_never_uploads_a_local_file_a_record_names(emulator, project):
    emu = emulator()
    private = project.parent / "private.png"
    private.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    record = good_record(
        params={"prompt": "a cat", "duration": 4, "size": "1280x720", "input_reference": str(private)}
    )
    with pytest.raises(InvalidParams, match="never uploads a local file a record names"):
        sw.replay(record, base_url=emu.base_url, timeout=60)
    assert sum(emu.stats()["requests"].values()) == 0


def test_sw_replay_writes_into_the_users_output_dir_not_the_notebooks_folder(emulator, project):
    emu = emulator(latency=0.05)
    received = project / "received"
    received.mkdir()
    path = write(
        received, notebook_with(good_record(params={"prompt": "a cat", "duration": 4, "size": "1280x720"}))
    )
    again = sw.replay("g1", notebook=path, base_url=emu.base_url, timeout=60)
    assert again.status == "COMPLETED" and again.replay_of == "g1"
    assert (project / again.video_path).is_file() and again.video_path.startswith("sora-outputs/")
    assert sorted(p.name for p in received.iterdir()) == ["analysis.ipynb"]


def test_read_records_warns_of_a_malformed_record_and_keeps_the_good_ones(tmp_path):
    path = write(tmp_path, notebook_with(good_record(params=["x"]), good_record(id="g2", status="QUEUED")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = read_records(path)
    assert [r.id for r in found] == ["g2"]
    (warning,) = caught
    assert "cell 1 (id cell-1), output 1, record 1" in str(warning.message) and "params" in str(
        warning.message
    )


def test_pending_prints_no_terminal_escape_from_the_ledger(project, capsys):
    g = Generation(id="g1", params=GenerationParams(f"a cat {ESCAPES}", 4), request_id=f"req{ESCAPES}")
    g.submitted_at = g.updated_at
    g.set_status("QUEUED")
    Ledger.in_dir(project / "sora-outputs").append("submitted", g)
    assert cli.main(["pending"]) == 0
    out = capsys.readouterr().out
    assert "req\\x1b]0;owned" in out and "a cat \\x1b]0;owned" in out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out


@pytest.mark.parametrize("answer", ["y", "n"])
def test_replay_at_a_terminal_asks_before_uploading_a_file_inside_the_notebooks_folder(
    emulator, project, monkeypatch, capsys, answer
):
    from PIL import Image

    emu = emulator(latency=0.05)
    monkeypatch.setenv("SEGMIND_BASE_URL", emu.base_url)
    received = project / "received"
    received.mkdir()
    Image.new("RGB", (32, 32), "blue").save(received / "photo.png")
    params = {"prompt": "a cat", "duration": 4, "size": "1280x720", "input_reference": "photo.png"}
    path = write(received, notebook_with(good_record(params=params)))
    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or answer)

    status = cli.main(["replay", str(path), "g1", "--timeout", "60"])

    assert len(asked) == 1 and "photo.png" in asked[0]
    uploads = emu.stats()["requests"].get("upload", 0)
    if answer == "y":
        assert status == 0 and uploads == 1
    else:
        assert status == 2 and uploads == 0 and sum(emu.stats()["requests"].values()) == 0
        assert "never uploads a local file named by a record" in capsys.readouterr().err
