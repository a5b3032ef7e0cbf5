"""Where this code is running — the one place that answers it.

- `in_kernel()`: inside an IPython kernel (ipykernel), whose event loop outlives every
  call, so clients and tasks may be shared between cells;
- `frontend_has_widgets()`: the IPython shell is a kernel's, or the cell is a marimo
  notebook's, so a frontend can show widgets (a terminal IPython or a script cannot);
- `in_marimo()`, `in_voila()`: the two hosts whose pages never update an output once
  shown (`record_output_in_view()`: there the widget's own view carries the record);
- `is_headless()`: the cell being executed was sent by a runner (nbclient, papermill,
  nbval), so nobody watches it live;
- `cell_context()`: the notebook path and the id of the cell being executed, when the
  frontend says (`marimo_notebook()`: a marimo notebook's file).

Everything here reads the kernel's state without importing ipykernel (or marimo) unless
it is already loaded: outside a kernel the answers are cheap and all "no".
"""

from __future__ import annotations

import os
import sys
from typing import Any


def in_kernel() -> bool:
    """Running inside an initialised IPython kernel."""
    kernelbase = sys.modules.get("ipykernel.kernelbase")
    return bool(kernelbase and kernelbase.Kernel.initialized())


def frontend_has_widgets() -> bool:
    """An IPython kernel's shell (not a terminal shell, not a script), or a marimo
    notebook's cell (`marimo edit` or `marimo run`): widgets can show."""
    if in_marimo():
        return True
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell: Any = ipython.get_ipython()
    return shell is not None and any(cls.__module__.startswith("ipykernel") for cls in type(shell).__mro__)


def in_marimo() -> bool:
    """Running a cell of a marimo notebook that a page shows (`marimo edit`, `marimo run`;
    not `python notebook.py`, which has no page). marimo is imported by then: a process
    that has not imported it is not marimo's, and is not made to import it."""
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return False
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # another marimo, or half imported: not a page we know how to show on
        return False


#: set by Voilà in the environment of every kernel it starts (preheated or not)
VOILA_VARIABLE = "VOILA_BASE_URL"


def in_voila() -> bool:
    """A kernel Voilà started for a dashboard. Voilà executes the notebook itself and
    sends the page each output once, rendered: the page keeps no display ids, so an
    `update_display` from the kernel never reaches it (only widgets stay live)."""
    return VOILA_VARIABLE in os.environ and in_kernel()


def record_output_in_view() -> bool:
    """Whether a widget's record output must live in the widget's own view: in Voilà an
    output is never updated once shown, and in marimo a cell shows what it returns or
    appends (`mo.ui.anywidget(w)` shows the widget alone). Elsewhere (JupyterLab, Notebook
    7, VS Code, headless runners) the record output is an output of its own, updated by
    its display id and saved with the notebook."""
    return in_voila() or in_marimo()


def is_headless() -> bool:
    """Executed by a runner (nbclient, papermill, nbval) rather than a person's frontend."""
    return is_runner_request(parent_message())


def is_runner_request(parent: dict[str, Any]) -> bool:
    """Whether the message the kernel is handling came from a runner: an execute request
    that names no cell and does not allow input. Only execute requests can say so: a comm
    message (a widget's button) comes from a frontend, and an asyncio task that outlived
    its cell sees whatever message came last."""
    if not parent or (parent.get("header") or {}).get("msg_type") != "execute_request":
        return False
    metadata = parent.get("metadata") or {}
    content = parent.get("content") or {}
    cell_id = metadata.get("cellId") if isinstance(metadata, dict) else None
    return not cell_id and not content.get("allow_stdin", False)


def marimo_notebook() -> str | None:
    """The file of the marimo notebook whose cell is running (a `.py` file), or None.
    marimo keeps no outputs in it: this path in a record is what finds the notebook's
    records in the ledger (`sw.read_records`, `sora-widget export`)."""
    if not in_marimo():
        return None
    try:  # marimo's runtime context: not public API, so anything but a name is no answer
        from marimo._runtime.context import get_context

        filename = get_context().filename
    except Exception:
        return None
    return filename if isinstance(filename, str) and filename else None


def cell_context() -> dict[str, str] | None:
    """The notebook path and the id of the cell being executed, when the frontend says.

    JupyterLab and Notebook 7 send the cell id in the execute request's metadata, and
    jupyter-server names the notebook in the kernel's JPY_SESSION_NAME; marimo names its
    notebook file; headless runners send neither.
    """
    from .client._config import display_path

    context: dict[str, str] = {}
    session = os.environ.get("JPY_SESSION_NAME") or marimo_notebook()
    if session:
        # jupyter-server gives an absolute path: relative, the record travels with the
        # notebook without telling readers where it once lived (and the user's name)
        context["path"] = display_path(session)
    metadata = parent_message().get("metadata") or {}
    cell_id = metadata.get("cellId") if isinstance(metadata, dict) else None
    if isinstance(cell_id, str) and cell_id:
        context["cell_id"] = cell_id
    return context or None


def parent_message() -> dict[str, Any]:
    """The shell message the kernel is handling now; {} outside a kernel."""
    if not in_kernel():
        return {}
    from ipykernel.kernelbase import Kernel

    kernel = Kernel.instance()
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # older ipykernel: get_parent() takes no channel
        parent = kernel.get_parent()
    return parent if isinstance(parent, dict) else {}
