"""The versions a record names: what software made it."""

from __future__ import annotations

import functools
import platform
import sys

import httpx

from .._version import __version__


@functools.lru_cache(maxsize=1)
def _platform() -> str:
    # platform.platform() reads the interpreter binary to find the libc version (~10 ms)
    return platform.platform(terse=True)


def versions() -> dict[str, str]:
    found = {
        "sora_widget": __version__,
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "platform": _platform(),
    }
    kernel = sys.modules.get("ipykernel")
    if kernel is not None:
        found["ipykernel"] = str(getattr(kernel, "__version__", "unknown"))
    return found
