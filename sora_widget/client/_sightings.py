"""Which models this process has seen an API serve, and which it refused: a model can be
withdrawn after a client was written (OpenAI shut Sora 2 down on 2026-09-24), and the
widget, `sw.models()` and every error then say so rather than fail again blindly."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from ..params import MODELS


@dataclass(frozen=True)
class Sighting:
    """What an API last said of a model: it took a job ("answered") or refused it as
    retired or unknown ("refused", naming the models it said were available)."""

    state: Literal["answered", "refused"]
    available: tuple[str, ...] = ()


class Sightings:
    """Per API host, per model: thread-safe, process-wide (one kernel's view)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], Sighting] = {}

    def answered(self, api_host: str, model: str) -> None:
        with self._lock:
            self._seen[(api_host, model)] = Sighting("answered")

    def refused(self, api_host: str, model: str, available: list[str]) -> None:
        with self._lock:
            self._seen[(api_host, model)] = Sighting("refused", tuple(available))

    def of(self, api_host: str) -> dict[str, Sighting]:
        """model → what `api_host` said of it (models it was never asked about left out)."""
        with self._lock:
            return {model: seen for (host, model), seen in self._seen.items() if host == api_host}

    def refused_models(self, api_host: str) -> list[str]:
        return [model for model, seen in self.of(api_host).items() if seen.state == "refused"]

    def alternatives(self, api_host: str, model: str, available: list[str]) -> list[str]:
        """The catalogued models to try instead of `model`: those the API listed as available
        (all the catalogue's when it listed none), less any it refused."""
        refused = set(self.refused_models(api_host)) | {model}
        listed = [m for m in available if m in MODELS] or list(MODELS)
        return [m for m in listed if m not in refused]

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


#: this process's sightings (every client of a kernel shares them)
SIGHTINGS = Sightings()


def served_by(api_host: str) -> str:
    """How a message names the API: "Segmind" for Segmind's own host."""
    if api_host.endswith("segmind.com"):
        return "Segmind"
    return "the local emulator" if api_host == "emulator" else f"the API at {api_host}"
