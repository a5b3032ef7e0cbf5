"""sora-widget: Segmind's Sora 2 text-to-video API, native to the notebook.

import sora_widget as sw
clip = sw.generate("a paper boat on a rainy street", duration=4, size="landscape")
clip.video_path, clip.request_id, clip.sha256
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import params
from ._version import __version__
from .api import (
    agenerate,
    areplay,
    aresume,
    configure,
    connect,
    generate,
    pending,
    replay,
    resume,
    settings,
    use_emulator,
)
from .batch import agenerate_many, generate_many
from .client import AsyncSoraClient, PollPolicy, RetryPolicy
from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequest,
    ConfigurationError,
    DownloadError,
    GenerationFailed,
    GenerationTimeout,
    InsufficientCredits,
    InvalidParams,
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
from .notebook import embed, read_records, verify
from .params import GenerationParams
from .records import Generation

if TYPE_CHECKING:
    from . import emulator

__all__ = [
    "APIStatusError",
    "AsyncSoraClient",
    "AuthenticationError",
    "BadRequest",
    "ConfigurationError",
    "DownloadError",
    "Generation",
    "GenerationFailed",
    "GenerationParams",
    "GenerationTimeout",
    "InsufficientCredits",
    "InvalidParams",
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
    "SubmitOutcomeUnknown",
    "UnexpectedResponse",
    "__version__",
    "agenerate",
    "agenerate_many",
    "areplay",
    "aresume",
    "configure",
    "connect",
    "embed",
    "emulator",
    "generate",
    "generate_many",
    "params",
    "pending",
    "read_records",
    "replay",
    "resume",
    "settings",
    "use_emulator",
    "verify",
]


def _install_notebook_mirror() -> None:
    from .notebook import install_mirror

    install_mirror()


_install_notebook_mirror()


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
    # The emulator pulls in a web server and a video encoder: load it only when asked.
    if name in ("emulator", "widget"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "SoraWidget":
        from .widget import SoraWidget

        return SoraWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
