"""Where this code is running — the one place that answers it.

- `in_kernel()`: inside an IPython kernel (ipykernel), whose event loop outlives every
  call, so clients and tasks may be shared between cells;
- `frontend_has_widgets()`: the IPython shell is a kernel's, so a frontend can show
  widgets (a terminal IPython or a script cannot);
- `is_headless()`: the cell being executed was sent by a runner (nbclient, papermill,
  nbval), so nobody watches it live;
- `cell_context()`: the notebook path and the id of the cell being executed, when the
  frontend says.

Everything here reads the kernel's state without importing ipykernel unless it is
already loaded: outside a kernel the answers are cheap and all "no".
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
    """An IPython kernel's shell (not a terminal shell, not a script): widgets can show."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell: Any = ipython.get_ipython()
    return shell is not None and any(cls.__module__.startswith("ipykernel") for cls in type(shell).__mro__)


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


def cell_context() -> dict[str, str] | None:
    """The notebook path and the id of the cell being executed, when the frontend says.

    JupyterLab and Notebook 7 send the cell id in the execute request's metadata, and
    jupyter-server names the notebook in the kernel's JPY_SESSION_NAME; headless runners
    send neither.
    """
    from .client._config import display_path

    context: dict[str, str] = {}
    session = os.environ.get("JPY_SESSION_NAME")
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
