"""nbval settings for the example notebooks.

A record output carries its data twice: as our JSON mimetype (ids and timestamps by
design, so it cannot be compared verbatim — nbval sanitizes strings only) and as a
text/plain summary holding everything that must not drift (status, parameters, video
size, duration, codec), which nbval compares after notebooks/sanitize.cfg. The
text/html twin repeats the JSON's volatile fields, so it is left out as well.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import nbval.kernel
import nbval.plugin
import pytest

from sora_widget.emulator.config import FPS_VARIABLE
from sora_widget.records import MIMETYPE
from tests.kernels import kernel_manager

# reproducibility.ipynb writes and runs a notebook of its own under scratch/: it is a
# product of that example, not an example to check
collect_ignore_glob = ["scratch/*", "sora-outputs/*"]

_original_init = nbval.plugin.IPyNbFile.__init__


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.skip_compare = (*self.skip_compare, MIMETYPE, "text/html")


nbval.plugin.IPyNbFile.__init__ = _init


# each example's kernel listens on Unix sockets, as the tests' kernels do (see kernel_manager)
nbval.kernel.KernelManager = kernel_manager

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each example starts on an empty output folder, as on a fresh clone and as `make
    notebooks` stored it: a clip another example (or an earlier run) left in the ledger
    would answer an identical request — "Reused clip …" — and the outputs would differ."""
    if isinstance(item, nbval.plugin.IPyNbCell) and item.cell_num == 0:
        for made in ("sora-outputs", "scratch"):
            shutil.rmtree(HERE / made, ignore_errors=True)
        # the kernel about to start renders at the emulator's default rate, as a user's does
        # (the tests' lighter rate, tests/conftest.py, would show in the clips' facts)
        os.environ.pop(FPS_VARIABLE, None)
