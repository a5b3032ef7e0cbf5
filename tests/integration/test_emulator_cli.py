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

from sora_widget.params import MODELS

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


def test_retired_models_and_the_failed_status_from_the_command_line(launch):
    proc = launch("--port", "0", "--retired-model", "sora-2-pro", "--retired-model", "sora-1")
    base = announced(proc)
    clip = {"prompt": "x", "duration": 4}
    gone = httpx.post(base + "/v2/sora-2-pro", json=clip, headers={"x-api-key": "k"})
    about = httpx.get(base + "/").json()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    available = [m for m in MODELS if m != "sora-2-pro"]
    assert gone.status_code == 410 and gone.json()["available_models"] == available
    assert about["models"] == available and about["retired_models"] == ["sora-2-pro", "sora-1"]


def test_help_says_how_latency_follows_the_model_and_what_can_be_retired():
    from sora_widget.cli import build_parser
    from sora_widget.emulator.cli import options_from

    commands = next(a for a in build_parser()._actions if a.dest == "command")
    emulator = commands.choices["emulator"]  # type: ignore[attr-defined]
    text = " ".join(emulator.format_help().split())
    assert "sora-2-pro ×2.22222" in text and "sora-2 ×1" in text
    assert "--retired-model NAME" in text and "410" in text
    assert "--failed-status {422,200}" in text
    options = options_from(emulator.parse_args(["--retired-model", "sora-2", "--failed-status", "200"]))
    assert options["retired_models"] == ["sora-2"] and options["failed_status"] == 200
