"""The arguments of a job that are not its parameters — how long to wait, whom to tell,
where to save — checked before anything is sent, so a mistake costs nothing.

`params` checks what the API receives (prompt, duration, size, reference); this module
checks what only we use. Every entry point (`sw.generate`, `AsyncSoraClient.submit`,
`generate` and `wait`, `generate_many`, the widget's `start`, the CLI, the magics) calls
`check_job` before its first request: a wait that could never end (`timeout=nan`), a
callback that is not one, or a clip that could not be saved would otherwise be noticed
only after the job was paid for.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

from ._files import folder_problem
from .errors import ConfigurationError, InvalidParams

_UNSET: object = object()


def check_timeout(timeout: object) -> float:
    """Seconds to wait: a finite number above 0 (not a bool, not a string)."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise InvalidParams("timeout", timeout, "a finite number of seconds above 0")
    if timeout <= 0:
        raise InvalidParams("timeout", timeout, "a finite number of seconds above 0")
    return float(timeout)


def check_limit(value: object, *, source: str, allowed: str, zero_allowed: bool) -> float | None:
    """A limit the user sets (a budget, a request rate): None for none, else a finite
    number ≥ 0 (> 0 unless `zero_allowed`); text that reads as one (from the environment)
    too, a bool never."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidParams(source, value, allowed) from None
    too_small = number < 0 if zero_allowed else number <= 0
    if isinstance(value, bool) or not math.isfinite(number) or too_small:
        raise InvalidParams(source, value, allowed)
    return number


def check_on_update(on_update: object) -> None:
    """None, or something to call with the record at each change."""
    if on_update is not None and not callable(on_update):
        raise InvalidParams("on_update", on_update, "None or a function called with the record")


def check_save_to(save_to: object) -> None:
    """None (the output dir), a path ending in .mp4, or a folder — one we can write in."""
    if save_to is None:
        return
    allowed = "a path ending in .mp4, or a folder to save the clip in"
    if not isinstance(save_to, str | os.PathLike) or not os.fspath(save_to):
        raise InvalidParams("save_to", save_to, allowed)
    target = Path(os.fspath(save_to)).expanduser()
    if target.suffix.lower() == ".mp4":
        if target.is_dir():
            raise InvalidParams("save_to", save_to, f"{allowed} ({target} is a folder)")
        folder = target.parent
    else:
        if target.exists() and not target.is_dir():
            raise InvalidParams("save_to", save_to, f"{allowed} ({target} is a file, not a .mp4 path)")
        folder = target
    problem = folder_problem(folder)
    if problem is not None:
        raise InvalidParams("save_to", save_to, f"{allowed} that can be written ({problem})")


def check_output_dir(output_dir: str | os.PathLike[str]) -> None:
    """The output dir (videos and the ledger) exists or can be made, and can be written.
    It is made now if it does not exist (the ledger would make it before the submit), so
    the check writes nowhere else."""
    with contextlib.suppress(OSError):  # named below, with the reason
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    problem = folder_problem(output_dir)
    if problem is not None:
        raise ConfigurationError(
            f"the output folder {output_dir} cannot be used: {problem}",
            hint="Set SORA_WIDGET_OUTPUT_DIR (or output_dir=) to a folder you can write on a local disk.",
        )


def check_job(*, timeout: object = _UNSET, on_update: object = None, save_to: object = None) -> None:
    """Every argument of a job that is not sent to the API; `InvalidParams` names the
    first wrong one. Pure but for `save_to`, whose folder is looked at."""
    if timeout is not _UNSET:
        check_timeout(timeout)
    check_on_update(on_update)
    check_save_to(save_to)


def checked_replay_reference(reference: str | None, *, field: str = "input_reference") -> str | None:
    """A replay sends an image a record names only when it is a URL or a data URI: a local
    path in a record names a file on the machine that made it — here, one of ours
    (`../private/photo.png`) — and is never uploaded on a record's say-so."""
    from .params import reference_kind

    if reference is not None and reference_kind(reference) == "path":
        raise InvalidParams(
            field,
            reference,
            "a URL or a data URI when it comes from a record: replay never uploads a local file a "
            f"record names. Pass {field}=... (the image you mean) to replay it with one",
        )
    return reference
