"""The emulator's third-party packages come with the `emulator` extra; say so plainly."""

from __future__ import annotations

import importlib

MODULES = ("starlette", "uvicorn", "av", "numpy", "PIL")


def require() -> None:
    missing = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"The sora-widget emulator needs {', '.join(missing)}, which are not installed. "
            'Install them with: pip install "sora-widget[emulator]"'
        )
