"""Crashes, restarts and the command line: jobs survive the process that sent them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import sora_widget as sw
from sora_widget.emulator import start as start_emulator
from sora_widget.ledger import Ledger
from sora_widget.params import GenerationParams
from sora_widget.records import Generation

FAKE_KEY = "sk-test-FAKE-cli-00c0ffee"


@pytest.fixture
def emulator():
    handle = start_emulator(latency=1.0)
    yield handle
    handle.stop()


def env_for(emulator, tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SEGMIND_API_KEY=FAKE_KEY,
        SEGMIND_BASE_URL=emulator.base_url,
        SORA_WIDGET_OUTPUT_DIR=str(tmp_path / "out"),
        PYTHONUNBUFFERED="1",
    )
    return env


def test_a_process_killed_after_submit_is_finished_by_the_next_one(emulator, tmp_path):
    script = textwrap.dedent(
        """
        import asyncio, os, signal
        import sora_widget as sw

        async def main():
            async with sw.AsyncSoraClient() as client:
                record = await client.submit("survives a crash", duration=4)
                print(record.request_id, flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    env = env_for(emulator, tmp_path)
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == -signal.SIGKILL
    request_id = run.stdout.strip()
    pending = sw.pending(tmp_path / "out")
    assert [r.request_id for r in pending] == [request_id]

    finished = sw.resume(api_key=FAKE_KEY, base_url=emulator.base_url, output_dir=tmp_path / "out")
    assert [r.request_id for r in finished] == [request_id]
    assert finished[0].status == "COMPLETED"
    assert Path(finished[0].video_path).exists()
    assert emulator.stats()["submits"] == 1
    assert sw.pending(tmp_path / "out") == []


def run_cli(args, env, timeout=120):
    command = [sys.executable, "-m", "sora_widget.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def test_cli_generate_prints_the_file_and_request_id(emulator, tmp_path):
    env = env_for(emulator, tmp_path)
    result = run_cli(["generate", "-d", "4", "-s", "landscape", "a", "lighthouse", "at", "dusk"], env)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())
    assert Path(tmp_path / "out").exists()
    assert "a-lighthouse-at-dusk" in lines["saved"]
    assert lines["request"].startswith("id ")
    assert "synthetic" in result.stdout
    assert lines["cost"].startswith("$0.40 (charged, from Segmind's request history)")
    assert lines["spend"].startswith("$0.40 spent on 1 job(s)")
    assert "estimate   ≈ $0.40 · sora-2 · 4 s" in result.stderr  # before anything was sent
    assert "COMPLETED" in result.stderr  # the progress lines (not a terminal: one per change)
    assert FAKE_KEY not in result.stdout + result.stderr


def test_cli_usage_errors_exit_2_and_api_errors_exit_1(emulator, tmp_path):
    env = env_for(emulator, tmp_path)
    bad = run_cli(["generate", "-d", "5", "x"], env)  # 5 s is another model's, not sora-2's
    assert bad.returncode == 2 and "duration=5 is not allowed; allowed: 4, 8, 12" in bad.stderr
    wrong_size = run_cli(["generate", "-s", "square", "x"], env)
    assert wrong_size.returncode == 2 and "'720x1280' (portrait)" in wrong_size.stderr
    env["SEGMIND_API_KEY"] = ""
    no_key = run_cli(["generate", "-d", "4", "x"], env)
    assert no_key.returncode == 1 and "SEGMIND_API_KEY" in no_key.stderr


def test_cli_ctrl_c_detaches_honestly_then_resume_finishes(tmp_path):
    slow = start_emulator(latency=4.0)
    try:
        env = env_for(slow, tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "sora_widget.cli", "generate", "-d", "4", "interrupted"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not slow.stats()["submits"] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130
        assert "still running and billed" in err
        request_id = err.split("sora-widget resume ")[1].split()[0]

        pending = run_cli(["pending"], env)
        assert request_id in pending.stdout

        resumed = run_cli(["resume", request_id], env)
        assert resumed.returncode == 0, resumed.stderr
        assert "COMPLETED" in resumed.stdout
        assert slow.stats()["submits"] == 1
    finally:
        slow.stop()


def test_cli_ctrl_c_during_the_submit_waits_for_its_answer_and_names_the_job(tmp_path):
    slow = start_emulator(latency=30.0, chaos_delay=3.0, chaos_endpoints=("submit",))
    try:
        env = env_for(slow, tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "sora_widget.cli", "generate", "-d", "4", "cut", "mid", "submit"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        estimate = proc.stderr.readline()  # said before anything is sent
        assert estimate.startswith("estimate   ≈ $0.40 · sora-2 · 4 s"), estimate
        progress = proc.stderr.readline()  # the progress line: one per status change off a terminal
        assert progress.startswith("SUBMITTING"), progress
        proc.send_signal(signal.SIGINT)  # while the POST is held by the emulator
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        # the submit was let finish: its request id is known and named
        assert "still running and billed" in err
        request_id = err.split("sora-widget resume ")[1].split()[0]
        assert request_id in run_cli(["pending"], env).stdout
        assert slow.stats()["submits"] == 1
    finally:
        slow.stop()


def test_records_never_hold_the_key(tmp_path):
    g = Generation(id="k", params=GenerationParams("x"))
    Ledger.in_dir(tmp_path).append("submitting", g)
    for path in tmp_path.glob("ledger.sqlite*"):
        assert FAKE_KEY.encode() not in path.read_bytes()
