"""Every knob of the emulator, in one frozen dataclass.

The same object configures `start()`, `create_app()` and the command line; run-time
changes (`Emulator.configure`, `POST /_emulator/config`) go through `patched()`, which
returns a new, validated config rather than mutating the running one.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the emulator's frame rate unless told otherwise (`fps`, `--fps`, SORA_WIDGET_EMULATOR_FPS)
DEFAULT_FPS = 24
MAX_FPS = 60
#: the frame rate of every emulator started without `fps`: a lighter emulator costs a third of
#: the encoding at 8 fps (a slow laptop, a test suite), and clips keep their size and length
FPS_VARIABLE = "SORA_WIDGET_EMULATOR_FPS"

#: how clip files are laid out: "web" (moov first, no B-frames: plays while it downloads)
#: or "camera" (moov at the end, B-frames: as cameras, phones and most encoders write them)
LAYOUTS = ("web", "camera")

#: the endpoints requests are counted under; chaos and rate limits are set per name
#: ("poll" is `GET /v1/requests/{id}`, the submit answer's `poll_url`)
#: "history" is the request history (`/inference-request/request-history`, and `/{id}`)
API_ENDPOINTS = ("submit", "status", "poll", "result", "upload", "sync", "history")
#: the HTTP statuses a FAILED job may be served with: Segmind answers 422, and a
#: FAILED status may also arrive as 200 with an `error` key
FAILED_STATUSES = (422, 200)
ENDPOINTS = (*API_ENDPOINTS, "output", "asset")
DEFAULT_CHAOS_ENDPOINTS = (*API_ENDPOINTS, "output")

#: what may change while the server runs; the rest shapes sockets and files
RUNTIME_FIELDS = frozenset(
    {
        "latency",
        "latency_jitter",
        "latency_distribution",
        "workers",
        "block_words",
        "retention",
        "output_retention",
        "credits",
        "retired_models",
        "failed_status",
        "rate_limit",
        "chaos_error_rate",
        "chaos_endpoints",
        "chaos_delay",
        "chaos_delay_rate",
        "chaos_drop_rate",
        "chaos_drop_after_accept",
        "seed",
    }
)


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    #: 0 picks a free port
    port: int = 0
    #: serve /outputs from a second server (a different origin, like a CDN)
    separate_output_host: bool = False
    #: its port when `separate_output_host` (0 picks a free one)
    output_port: int = 0
    #: accepted keys; empty accepts any non-empty key
    api_keys: tuple[str, ...] = ()
    #: seconds a sora-2 job spends PROCESSING (the real API takes ~180 s); other models
    #: take this times their typical latency over sora-2's (see `model_latency`)
    latency: float = 5.0
    #: spread of the latency, drawn from the seeded generator: ± this fraction of
    #: `latency` (uniform), or the log-space sigma around it (lognormal)
    latency_jitter: float = 0.0
    latency_distribution: str = "uniform"
    #: jobs processed at once; the rest wait QUEUED
    workers: int = 4
    #: prompts containing one of these (case-insensitive) end FAILED, like a content block
    block_words: tuple[str, ...] = ()
    #: seconds a finished job (and its output URL) stays retrievable
    retention: float = 3600.0
    #: seconds a finished job's video answers at its output URL (the `generation_url` the
    #: request history names); None: as long as `retention`. Longer keeps results past
    #: the hour the v2 result is served, as Segmind's storage does
    output_retention: float | None = None
    #: None is unlimited; otherwise each second of video costs one credit
    credits: float | None = None
    #: models answered with 410 Gone (retired), whether the model table has them or not
    retired_models: tuple[str, ...] = ()
    #: the HTTP status of a FAILED job's status, poll and result answers (422 or 200)
    failed_status: int = 422
    #: requests per second per key (token bucket); None is no limit
    rate_limit: float | None = None
    chaos_error_rate: float = 0.0
    chaos_endpoints: tuple[str, ...] = DEFAULT_CHAOS_ENDPOINTS
    chaos_delay: float = 0.0
    chaos_delay_rate: float = 1.0
    chaos_drop_rate: float = 0.0
    #: a dropped submit still created (and billed) its job: the dangerous real case
    chaos_drop_after_accept: bool = True
    seed: int = 0
    #: render cache and uploaded assets; None is a temporary directory removed on stop
    data_dir: Path | None = None
    #: libx264 preset and threads; fixed threads keep the bytes reproducible
    encoder_preset: str = "ultrafast"
    encoder_threads: int = 2
    #: frames per second of the clips (their size and length do not depend on it)
    fps: int = DEFAULT_FPS
    #: clips carry a sound track (stereo AAC-LC, 48 kHz), as Sora 2's do; False: silent
    audio: bool = True
    #: "web" or "camera" (see LAYOUTS); `layout="camera", fps=30` writes files like Sora 2's
    layout: str = "web"
    #: renders at once (each one a thread)
    render_threads: int = 2

    def __post_init__(self) -> None:
        for name in ("api_keys", "block_words", "chaos_endpoints", "retired_models"):
            object.__setattr__(self, name, _as_tuple(name, getattr(self, name)))
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        _check(self)

    def patched(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """A copy with run-time `changes` applied; ValueError/TypeError names a bad one."""
        _refuse_unknown(changes)
        fixed = set(changes) - RUNTIME_FIELDS
        if fixed:
            raise ValueError(
                f"cannot change {', '.join(sorted(fixed))} while running; "
                f"changeable: {', '.join(sorted(RUNTIME_FIELDS))}"
            )
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """The config as JSON, with the keys themselves left out."""
        data = dataclasses.asdict(self)
        data["api_keys"] = len(self.api_keys)
        data["data_dir"] = None if self.data_dir is None else str(self.data_dir)
        for name in ("block_words", "chaos_endpoints", "retired_models"):
            data[name] = list(data[name])
        return data


def from_options(options: Mapping[str, Any]) -> EmulatorConfig:
    """Build a config from keyword options, refusing unknown names with a TypeError.
    Without `fps`, the frame rate is SORA_WIDGET_EMULATOR_FPS's when that is set."""
    _refuse_unknown(options)
    if "fps" not in options and (fps := fps_from_environment()) is not None:
        options = {**options, "fps": fps}
    return EmulatorConfig(**options)


def fps_from_environment() -> int | None:
    """SORA_WIDGET_EMULATOR_FPS as a frame rate; None when it is unset or blank."""
    text = os.environ.get(FPS_VARIABLE, "").strip()
    if not text:
        return None
    try:
        fps = int(text)
    except ValueError:
        fps = 0
    if not 1 <= fps <= MAX_FPS:
        raise ValueError(
            f"{FPS_VARIABLE} must be a whole number of frames per second from 1 to {MAX_FPS} "
            f"(got {text[:20]!r}); unset it for the default {DEFAULT_FPS}"
        )
    return fps


def _refuse_unknown(options: Mapping[str, Any]) -> None:
    unknown = set(options) - {f.name for f in dataclasses.fields(EmulatorConfig)}
    if unknown:
        raise TypeError(f"unknown emulator options: {', '.join(sorted(unknown))}")


def _as_tuple(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        # a single string is one item (a CLI "a,b" list is split before it gets here)
        return (value,)
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of strings")
    return tuple(value)


def _check(config: EmulatorConfig) -> None:
    def require(ok: bool, message: str) -> None:
        if not ok:
            raise ValueError(message)

    for name in ("chaos_error_rate", "chaos_delay_rate", "chaos_drop_rate"):
        rate = getattr(config, name)
        require(isinstance(rate, int | float) and 0.0 <= rate <= 1.0, f"{name} must be between 0 and 1")
    require(
        config.output_retention is None
        or (math.isfinite(config.output_retention) and config.output_retention >= 0),
        "output_retention must be ≥ 0 or None",
    )
    for name in ("latency", "retention", "chaos_delay"):
        value = getattr(config, name)
        require(isinstance(value, int | float) and math.isfinite(value) and value >= 0, f"{name} must be ≥ 0")
    require(0.0 <= config.latency_jitter <= 1.0, "latency_jitter must be between 0 and 1")
    require(
        config.latency_distribution in ("uniform", "lognormal"),
        "latency_distribution must be 'uniform' or 'lognormal'",
    )
    require(isinstance(config.workers, int) and config.workers >= 1, "workers must be an integer ≥ 1")
    require(config.credits is None or config.credits >= 0, "credits must be ≥ 0 or None")
    require(config.rate_limit is None or config.rate_limit > 0, "rate_limit must be > 0 or None")
    require(config.render_threads >= 1 and config.encoder_threads >= 1, "threads must be ≥ 1")
    require(
        isinstance(config.fps, int) and not isinstance(config.fps, bool) and 1 <= config.fps <= MAX_FPS,
        f"fps must be a whole number from 1 to {MAX_FPS}",
    )
    require(isinstance(config.audio, bool), "audio must be True or False")
    require(config.layout in LAYOUTS, f"layout must be one of {', '.join(LAYOUTS)}")
    unknown = set(config.chaos_endpoints) - set(ENDPOINTS)
    require(not unknown, f"unknown chaos endpoints {sorted(unknown)}; known: {', '.join(ENDPOINTS)}")
    require(all(key for key in config.api_keys), "api_keys must not hold an empty key")
    require(all(word.strip() for word in config.block_words), "block_words must not hold an empty word")
    require(all(name.strip() for name in config.retired_models), "retired_models must not hold an empty name")
    require(
        config.failed_status in FAILED_STATUSES,
        f"failed_status must be one of {', '.join(map(str, FAILED_STATUSES))}",
    )
    for name in ("port", "output_port"):
        require(0 <= getattr(config, name) <= 65535, f"{name} must be a port number (0 picks a free one)")
