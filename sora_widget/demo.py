"""`make demo`: JupyterLab on the quickstart notebook — on the real API when
SEGMIND_API_KEY is set, otherwise on the embedded emulator (offline, free, synthetic).

`python -m sora_widget.demo --cli` instead generates one clip from the terminal.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from . import cli

PROMPT = "A paper boat drifting down a rainy city street at dusk, reflections on wet asphalt"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _explain_backend() -> None:
    if os.environ.get("SEGMIND_API_KEY"):
        print("SEGMIND_API_KEY is set: clips are generated on Segmind by the model you choose, and billed.")
    else:
        print("SEGMIND_API_KEY is not set: using the embedded emulator (synthetic clips, offline, no cost).")


def lab() -> int:
    notebook = NOTEBOOKS / "quickstart.ipynb"
    if not notebook.exists():
        print(f"{notebook} is missing: run `make demo` from a clone of the repository.", file=sys.stderr)
        return 1
    port, token = _free_port(), secrets.token_hex(16)
    _explain_backend()
    print(
        f"\nOpen this URL (Ctrl-C here stops JupyterLab):\n\n    http://127.0.0.1:{port}/lab/tree/quickstart.ipynb?token={token}\n",
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")  # containers and CI machines run as root
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def terminal() -> int:
    _explain_backend()
    args = ["generate", "-d", "4", "-s", "landscape", PROMPT]
    if not os.environ.get("SEGMIND_API_KEY"):
        args.insert(1, "--emulator")
    return cli.main(args)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return terminal() if "--cli" in args else lab()


if __name__ == "__main__":
    sys.exit(main())
