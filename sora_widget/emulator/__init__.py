"""A local, offline stand-in for Segmind's video API (every catalogued model) that renders real MP4 files.

    from sora_widget import emulator
    with emulator.start(latency=1.0) as emu:      # http://127.0.0.1:<free port>
        ...  # point a client (or the official segmind SDK) at emu.base_url

Same paths, status codes and bodies as the real API (submit, status, `poll_url`,
result, sync, upload), for every model of the table in `params` (each with its own
sizes and prices), plus chaos knobs for testing clients, and `GET /_emulator/stats` to
see what a client did. Every response carries `x-sora-emulator`, every `metrics` says
`synthetic: true`, and every clip says "synthetic" on screen. `sora-widget emulator`
runs it from the command line.

Latency follows the model: the configured `latency` is sora-2's, and a job of another
model spends `latency × MODELS[model].typical_latency_s / MODELS["sora-2"].typical_latency_s`
in PROCESSING. `retired_models=[...]` (`--retired-model`) answers 410 for those models.

Clips are 24 frames a second unless `fps=` (`--fps`, SORA_WIDGET_EMULATOR_FPS) says
otherwise: a lower rate costs less encoding and changes neither size nor length. They
have sound, as Sora 2's do (soft chimes seeded from the prompt, stereo AAC-LC 48 kHz, as
long as the picture) unless `audio=False` (`--no-audio`). `layout="camera"` (`--layout
camera`) writes them the way cameras and most encoders do (moov at the end, B-frames);
with `fps=30` they are shaped like Sora 2's own files.

Importing this package is cheap; the web server and the encoder load on first use,
and without the `emulator` extra that use fails with an ImportError saying how to
install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import EmulatorConfig

if TYPE_CHECKING:
    from .app import create_app
    from .server import Emulator, start

__all__ = ["Emulator", "EmulatorConfig", "create_app", "start"]

_LAZY = {"start": "server", "Emulator": "server", "create_app": "app"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    from . import _extra

    _extra.require()
    return getattr(importlib.import_module(f".{module}", __name__), name)
