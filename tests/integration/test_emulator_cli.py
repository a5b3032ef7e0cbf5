"""`sora-widget emulator` as a separate process: announces its real port, serves,
and stops cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)$")


@pytest.fixture
def launch() -> Iterator:
    procs: list[subprocess.Popen] = []

    def run(*args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sora_widget.cli", "emulator", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        procs.append(proc)
        return proc

    yield run
    for proc in procs:  # only the processes this test started, by their pid
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def announced(proc: subprocess.Popen) -> str:
    line = proc.stdout.readline().rstrip("\n")
    match = LISTENING.match(line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    assert int(match.group(1)) > 0
    return line.split()[-1]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serves_then_stops_cleanly(launch, signum):
    proc = launch("--port", "0", "--api-key", "cli-key", "--latency", "0.1", "--block-word", "nope")
    base = announced(proc)
    submitted = httpx.post(
        base + "/v2/sora-2",
        json={"prompt": "a long render, interrupted", "duration": 12},
        headers={"x-api-key": "cli-key"},
    )
    refused = httpx.post(base + "/v2/sora-2", json={"prompt": "x"}, headers={"x-api-key": "other-key"})
    assert submitted.status_code == 200 and refused.status_code == 401
    stats = httpx.get(base + "/_emulator/stats").json()
    assert stats["config"]["latency"] == 0.1 and stats["config"]["block_words"] == ["nope"]
    # stop in the middle of that render: it must be abandoned, not awaited
    started = time.monotonic()
    proc.send_signal(signum)
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    out, err = proc.communicate()
    assert "cli-key" not in out + err and "other-key" not in out + err
    assert "Traceback" not in err


def test_output_port_serves_outputs_elsewhere(launch):
    proc = launch("--port", "0", "--output-port", "0", "--chaos-endpoints", "status,result", "--seed", "3")
    base = announced(proc)
    outputs = proc.stdout.readline().strip()
    assert outputs.startswith("outputs on http://127.0.0.1:") and not outputs.endswith(base.rsplit(":", 1)[1])
    config = httpx.get(base + "/_emulator/stats").json()["config"]
    assert config["separate_output_host"] is True and config["chaos_endpoints"] == ["status", "result"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0


def test_bad_options_exit_2_with_a_message(launch):
    proc = launch("--port", "0", "--chaos-error-rate", "2")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "chaos_error_rate must be between 0 and 1" in err


def test_the_package_and_its_cli_stay_light_until_the_emulator_runs():
    script = (
        "import sys, sora_widget, sora_widget.cli, sora_widget.emulator\n"
        "sora_widget.cli.build_parser()\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'av', 'numpy', 'PIL') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
