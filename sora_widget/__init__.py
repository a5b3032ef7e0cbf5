"""sora-widget: Segmind's Sora 2 text-to-video API, native to the notebook.

import sora_widget as sw
clip = sw.generate("a paper boat on a rainy street", duration=4, size="landscape")
clip.video_path, clip.request_id, clip.sha256
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import params
from ._version import __version__
from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequest,
    BudgetExceeded,
    ConfigurationError,
    DownloadError,
    GenerationFailed,
    GenerationTimeout,
    InsufficientCredits,
    InvalidParams,
    ModelUnavailable,
    NetworkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestExpired,
    ServerError,
    SoraError,
    SubmitOutcomeUnknown,
    UnexpectedResponse,
)
from .params import GenerationParams
from .records import Generation

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

#: what `import sora_widget` loads only on first use: the HTTP client (httpx), IPython,
#: the widget (anywidget) and the emulator (a web server and an encoder) cost more to
#: import than most calls take, and a user may need none of them
_LAZY = {
    **dict.fromkeys(
        (
            "agenerate",
            "aresume",
            "configure",
            "connect",
            "estimate",
            "generate",
            "models",
            "pending",
            "resume",
            "settings",
            "spend",
            "use_emulator",
        ),
        "api",
    ),
    **dict.fromkeys(("agenerate_many", "generate_many"), "batch"),
    **dict.fromkeys(("AsyncSoraClient", "PollPolicy", "RetryPolicy"), "client"),
    **dict.fromkeys(("embed", "read_records", "verify"), "notebook"),
    "export": "report",
    # lineage-aware: replay of an extended shot extracts its parent's last frame again
    **dict.fromkeys(
        (
            "FilmPath",
            "LineageWarning",
            "aextend",
            "areplay",
            "aremix",
            "astitch",
            "extend",
            "remix",
            "replay",
            "stitch",
        ),
        "shots",
    ),
    "Storyboard": "storyboard",
    "SoraWidget": "widget",
    "WaitInterrupted": "_sync",
}
_LAZY_MODULES = ("api", "emulator", "widget")

__all__ = [
    "APIStatusError",
    "AsyncSoraClient",
    "AuthenticationError",
    "BadRequest",
    "BudgetExceeded",
    "ConfigurationError",
    "DownloadError",
    "FilmPath",
    "Generation",
    "GenerationFailed",
    "GenerationParams",
    "GenerationTimeout",
    "InsufficientCredits",
    "InvalidParams",
    "LineageWarning",
    "ModelUnavailable",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "PollPolicy",
    "RateLimited",
    "RequestExpired",
    "RetryPolicy",
    "ServerError",
    "SoraError",
    "SoraWidget",
    "Storyboard",
    "SubmitOutcomeUnknown",
    "UnexpectedResponse",
    "WaitInterrupted",
    "__version__",
    "aextend",
    "agenerate",
    "agenerate_many",
    "aremix",
    "areplay",
    "aresume",
    "astitch",
    "configure",
    "connect",
    "embed",
    "emulator",
    "estimate",
    "export",
    "extend",
    "generate",
    "generate_many",
    "models",
    "params",
    "pending",
    "read_records",
    "remix",
    "replay",
    "resume",
    "settings",
    "spend",
    "stitch",
    "use_emulator",
    "verify",
]


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
