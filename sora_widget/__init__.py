"""sora-widget: Segmind's video models (Sora 2, Veo 3.1, Kling, Hailuo, Seedance), native
to the notebook.

import sora_widget as sw
clip = sw.generate("a paper boat on a rainy street", duration=4, size="landscape")
clip = sw.generate("a kite", model="veo-3.1-fast", aspect_ratio="9:16", sound=False)
clip.video_path, clip.request_id, clip.sha256
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors, params
from ._version import __version__

# the exceptions, by errors.__all__: the one place their names are written
from .errors import *  # noqa: F403
from .params import GenerationParams, Request
from .records import Generation

#: the public names loaded on first use, by module — the one place they are written (the
#: block under TYPE_CHECKING below is written from it by `tools/public_names.py`): the HTTP
#: client (httpx), IPython, the widget (anywidget) and the emulator (a web server and an
#: encoder) cost more to import than most calls take, and a user may need none of them
_LAZY_BY_MODULE: dict[str, tuple[str, ...]] = {
    "api": (
        "agenerate",
        "aresume",
        "configure",
        "connect",
        "estimate",
        "generate",
        "history",
        "import_request",
        "models",
        "pending",
        "resume",
        "settings",
        "spend",
        "use_emulator",
    ),
    "batch": ("agenerate_many", "generate_many"),
    "client": ("AsyncSoraClient", "PollPolicy", "RetryPolicy"),
    "notebook": ("embed", "read_records", "verify"),
    "report": ("export",),
    # lineage-aware: replay of an extended shot extracts its parent's last frame again
    "shots": (
        "FilmPath",
        "LineageWarning",
        "aextend",
        "aremix",
        "areplay",
        "astitch",
        "extend",
        "remix",
        "replay",
        "stitch",
    ),
    "storyboard": ("Storyboard",),
    "widget": ("SoraWidget",),
    "_sync": ("WaitInterrupted",),
}
#: modules a user reaches as attributes (`sw.emulator.start(...)`), loaded on first use
_LAZY_MODULES = ("api", "emulator", "widget")

# -- written by tools/public_names.py from _LAZY_BY_MODULE: do not edit ----------------------
if TYPE_CHECKING:
    from . import emulator
    from ._sync import WaitInterrupted
    from .api import (
        agenerate,
        aresume,
        configure,
        connect,
        estimate,
        generate,
        history,
        import_request,
        models,
        pending,
        resume,
        settings,
        spend,
        use_emulator,
    )
    from .batch import agenerate_many, generate_many
    from .client import AsyncSoraClient, PollPolicy, RetryPolicy
    from .notebook import embed, read_records, verify
    from .report import export
    from .shots import (
        FilmPath,
        LineageWarning,
        aextend,
        aremix,
        areplay,
        astitch,
        extend,
        remix,
        replay,
        stitch,
    )
    from .storyboard import Storyboard
    from .widget import SoraWidget
# -- end of the written block ------------------------------------------------------------------

_LAZY = {name: module for module, names in _LAZY_BY_MODULE.items() for name in names}

#: loaded with the package: the exceptions, the request value, the record
_EAGER = (
    "__version__",
    "params",
    "GenerationParams",
    "Request",
    "Generation",
    *errors.__all__,
)

__all__ = sorted({*_EAGER, *_LAZY, "emulator"})


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the prebuilt notebook extension (for `jupyter labextension develop`)."""
    return [{"src": "labextension", "dest": "sora-widget"}]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext sora_widget`: the %sora, %%sora and management magics."""
    from . import magics

    magics.load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from . import magics

    magics.unload(ipython)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
