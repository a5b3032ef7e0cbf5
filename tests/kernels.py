"""A real IPython kernel driven the way a frontend drives it, for tests that need what
nbclient hides: several execute requests queued at once ("Run All"), an interrupt in
the middle of a cell, a kernel of another ipykernel version.

    with KernelSession(env={...}, cwd=tmp_path) as kernel:
        cells = kernel.run_all(["x = 1", "import time; time.sleep(1)", "print(x)"])
        assert [c.status for c in cells] == ["ok", "ok", "ok"]
"""

from __future__ import annotations

import os
import queue
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager
from jupyter_core.paths import jupyter_runtime_dir
from nbclient import NotebookClient
from nbformat import NotebookNode


def kernel_manager(**kwargs: Any) -> KernelManager:
    """A KernelManager whose kernel listens on Unix sockets, not TCP ports. Over TCP,
    jupyter_client picks five free ports and the kernel binds them a moment later; with the
    test workers' kernels, servers and HTTP connections busy on 2 cores, another process took
    one in between often enough to fail a run ("Address already in use", then "Kernel died
    before replying to kernel_info"). A socket's name is the kernel's alone; it is absolute,
    as the kernel starts in another folder than ours."""
    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(parents=True, exist_ok=True)
    return KernelManager(transport="ipc", ip=str(runtime / f"kernel-{secrets.token_hex(6)}"), **kwargs)


def execute_notebook(nb: NotebookNode, *, cwd: Path, timeout: float = 120, **options: Any) -> NotebookClient:
    """Run every cell of `nb` in a new python3 kernel started in `cwd`, as nbclient does (its
    kernel on Unix sockets, see kernel_manager); `nb` holds the outputs afterwards."""
    client = NotebookClient(
        nb,
        km=kernel_manager(kernel_name="python3"),
        timeout=timeout,
        resources={"metadata": {"path": str(cwd)}},
        **options,
    )
    client.execute(cleanup_kc=True)  # nbclient stops only kernels of managers it made itself
    return client


@dataclass
class CellRun:
    """What one execute request produced: its reply status and every output."""

    msg_id: str
    status: str = "pending"
    outputs: list[dict[str, Any]] = field(default_factory=list)
    idle: bool = False

    @property
    def text(self) -> str:
        """Everything the cell printed or displayed as text, errors included. Stream
        chunks join as printed: a kernel may flush one print() in several messages."""
        text = ""
        for output in self.outputs:
            kind = output["msg_type"]
            content = output["content"]
            if kind == "stream":
                text += content["text"]
                continue
            if kind in ("execute_result", "display_data", "update_display_data"):
                part = str(content.get("data", {}).get("text/plain", ""))
            elif kind == "error":
                part = f"{content['ename']}: {content['evalue']}\n" + "\n".join(content["traceback"])
            else:
                continue
            if text and not text.endswith("\n"):
                text += "\n"
            text += part if part.endswith("\n") else part + "\n"
        return text


class KernelSession:
    """A python3 kernel in its own process, with our environment and working directory.

    `python_path`: folders put before site-packages (another ipykernel version)."""

    def __init__(self, *, env: dict[str, str], cwd: Path, python_path: list[Path] | None = None) -> None:
        self.env = {**os.environ, **env}
        if python_path:
            self.env["PYTHONPATH"] = os.pathsep.join(
                [*map(str, python_path), self.env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep)
        self.cwd = cwd
        self.manager = kernel_manager(kernel_name="python3")
        # the kernel runs this interpreter (the test venv's), whatever kernelspecs exist
        self.manager.kernel_spec.argv[0] = sys.executable  # type: ignore[union-attr]
        self.client: Any = None
        #: every cell sent, by message id: a message read while waiting for one cell
        #: may belong to another
        self.runs: dict[str, CellRun] = {}

    def __enter__(self) -> KernelSession:
        self.manager.start_kernel(env=self.env, cwd=str(self.cwd))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def version(self) -> str:
        (cell,) = self.run_all(["import ipykernel; print(ipykernel.__version__)"])
        return cell.text.strip()

    def submit(self, sources: list[str]) -> list[CellRun]:
        """Send every cell at once, as Run All does: none waits for the one before."""
        runs = [CellRun(self.client.execute(source, allow_stdin=False)) for source in sources]
        self.runs.update((run.msg_id, run) for run in runs)
        return runs

    def collect(self, runs: list[CellRun], *, timeout: float = 120.0) -> list[CellRun]:
        """Read replies and outputs until every cell has replied and gone idle."""
        deadline = time.monotonic() + timeout
        while not all(run.idle and run.status != "pending" for run in runs):
            left = deadline - time.monotonic()
            if left <= 0:
                states = [(r.status, r.idle, r.text[-300:]) for r in runs]
                raise TimeoutError(f"cells did not finish in {timeout} s: {states}")
            self._drain(min(left, 0.2))
        return runs

    def run_all(self, sources: list[str], *, timeout: float = 120.0) -> list[CellRun]:
        return self.collect(self.submit(sources), timeout=timeout)

    def interrupt(self) -> None:
        self.manager.interrupt_kernel()

    def wait_for_output(self, run: CellRun, needle: str, *, timeout: float = 60.0) -> None:
        """Read messages until `run` has printed `needle`."""
        deadline = time.monotonic() + timeout
        while needle not in run.text:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not printed in {timeout} s; got:\n{run.text}")
            self._drain(0.2)

    def _drain(self, wait: float) -> None:
        try:
            reply = self.client.shell_channel.get_msg(timeout=0.01)
        except queue.Empty:
            pass
        else:
            run = self.runs.get(reply["parent_header"].get("msg_id"))
            if run is not None:
                run.status = reply["content"]["status"]
        try:
            message = self.client.iopub_channel.get_msg(timeout=wait)
        except queue.Empty:
            return
        run = self.runs.get(message["parent_header"].get("msg_id"))
        if run is None:
            return
        kind = message["msg_type"]
        if kind == "status":
            run.idle = run.idle or message["content"]["execution_state"] == "idle"
        elif kind in ("stream", "execute_result", "display_data", "update_display_data", "error"):
            run.outputs.append({"msg_type": kind, "content": message["content"]})
