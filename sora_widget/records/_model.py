"""The generation record (schema v1): what produced a clip, and what became of it.

A record is what the notebook, the ledger and the widget all keep about one
generation. It never holds the API key or video bytes — only parameters, request
ids, times, the saved file's relative path and checksum, and versions.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._text import shorten
from ..params import MODEL, Request
from . import view
from ._check import check_record
from .schema import SCHEMA_VERSION, STATUSES, TERMINAL_STATUSES


def new_id() -> str:
    """A local id, known before the submit (the ledger's key for a job)."""
    return uuid.uuid4().hex[:12]


def utcnow() -> str:
    return format_time(datetime.now(timezone.utc))


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Generation:
    """One generation: its parameters, its request and its outcome."""

    id: str
    params: Request
    status: str = "SUBMITTING"
    request_id: str | None = None
    model: str = MODEL
    submitted_at: str | None = None
    completed_at: str | None = None
    updated_at: str = field(default_factory=utcnow)
    status_history: list[dict[str, str]] = field(default_factory=list)
    video_path: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    video: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    api_host: str | None = None
    synthetic: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notebook: dict[str, str] | None = None
    replay_of: str | None = None
    reference_source: str | None = None
    batch: dict[str, Any] | None = None
    #: what it cost: {"usd": float, "source": "api" | "estimate"}; a FAILED job costs 0
    cost: dict[str, Any] | None = None
    #: the server's own figures (`metrics` of its answers), unknown keys included
    metrics: dict[str, Any] = field(default_factory=dict)
    #: which take of its request identity this is (1 unless a new take was asked for)
    take: int = 1
    #: hash of (API host, model, prompt, duration, size, reference sha256, take): the
    #: same request asked again is answered from the clip this identity already made
    identity: str | None = None
    #: the clip this one was made from: {"id": …, "how": "extend" | "remix"}
    derived_from: dict[str, str] | None = None
    #: "clip" (one generation) or "film" (clips stitched together, `parts` in order)
    kind: str = "clip"
    #: a film's clips, in order: [{"id": …, "sha256": …}]
    parts: list[dict[str, str]] | None = None
    #: where read_records() found this record ("output", "metadata", "ledger"); not saved
    sources: list[str] = field(default_factory=list, compare=False)
    #: what the call that returned this record did, for the person who made it (reused,
    #: attached, generated again); not saved
    note: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # one truth for the model: the record's (its parameters are that model's)
        if self.params.model != self.model:
            self.params = self.params.with_model(self.model)

    # -- state ---------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def latency_s(self) -> float | None:
        if not (self.submitted_at and self.completed_at):
            return None
        return round((parse_time(self.completed_at) - parse_time(self.submitted_at)).total_seconds(), 3)

    def elapsed_s(self, now: float) -> float:
        """Seconds from submit to completion, or to `now` (a Unix time) while running."""
        if self.submitted_at is None:
            return 0.0
        end = parse_time(self.completed_at).timestamp() if self.completed_at else now
        return round(max(0.0, end - parse_time(self.submitted_at).timestamp()), 3)

    def set_status(self, status: str, at: str | None = None) -> bool:
        """Move to `status`; returns whether anything changed. History keeps each change once."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        at = at or utcnow()
        if self.status == status and self.status_history:
            return False
        self.status = status
        self.updated_at = at
        self.status_history.append({"status": status, "at": at})
        if status in TERMINAL_STATUSES and self.completed_at is None:
            self.completed_at = at
        return True

    # -- (de)serialisation ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            if f.name in _NOT_SAVED:
                continue
            value = getattr(self, f.name)
            data[f.name] = value.to_dict() if isinstance(value, Request) else _copy(value)
        data["latency_s"] = self.latency_s
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, checked: bool = True) -> Generation:
        """A record read from a file (a notebook, a ledger) or given as a dict: checked
        against the schema first (`InvalidRecord`, a ValueError, names the wrong field).

        `checked=False` is for a record of our own as it is being written (the ledger
        folding a write into its row): a write must never fail over a field's shape."""
        version = data.get("schema_version", SCHEMA_VERSION) if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise ValueError(f"record schema_version {version} is not supported (expected {SCHEMA_VERSION})")
        if checked:
            check_record({"schema_version": SCHEMA_VERSION, **data})
        return cls._build(data)

    @classmethod
    def _build(cls, data: dict[str, Any]) -> Generation:
        names = {f.name for f in dataclasses.fields(cls)} - _NOT_SAVED
        kwargs = {k: _copy(v) for k, v in data.items() if k in names}
        # Stored parameters were validated when they were sent; rebuild without re-checking
        # (a reference file may no longer exist on this machine).
        kwargs["params"] = Request.stored(data.get("params") or {}, model=str(data.get("model") or MODEL))
        return cls(**kwargs)

    def copy(self) -> Generation:
        # our own record, as it stands: not read from a file, so not checked again
        return Generation._build(self.to_dict())

    # -- display -------------------------------------------------------------------------

    def summary(self) -> str:
        """One line a person can read: status, parameters, prompt, outcome."""
        p = self.params
        prompt = shorten(p.prompt, 60)
        model = "" if self.model == MODEL else f" · {self.model}"
        text = f"{self.status}{model} · {p.duration}s {p.shape} · {prompt!r}"
        if self.request_id:
            text += f" · request {self.request_id}"
        if self.video:
            v = self.video
            text += f" · video {v.get('width')}x{v.get('height')} {v.get('duration_s')}s {v.get('codec')}"
        if self.video_path:
            text += f" · {self.video_path}"
        if self.error:
            text += f" · {self.error.get('type')}: {self.error.get('detail') or self.error.get('message')}"
        if self.synthetic:
            text += " · synthetic (emulator)"
        return text

    def __repr__(self) -> str:
        return f"<Generation {self.id} {self.summary()}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """In a notebook a record shows as a record output, so the cell keeps its provenance."""
        return view.record_bundle([self])


#: fields about this process's view of a record, never saved with it
_NOT_SAVED = frozenset({"sources", "note"})


def merge(a: Generation, b: Generation) -> Generation:
    """Combine two views of the same generation: a terminal status wins, then the newest
    (on a tie, `a`).

    Fields the winner lacks are filled from the other; histories are united.
    """
    if a.id != b.id:
        raise ValueError(f"cannot merge records of different generations ({a.id} and {b.id})")
    first, second = sorted((a, b), key=_precedence, reverse=True)
    merged = first.copy()
    for f in dataclasses.fields(Generation):
        if f.name in (*_NOT_SAVED, "status_history"):
            continue
        if getattr(merged, f.name) in (None, {}, []) and getattr(second, f.name) not in (None, {}, []):
            setattr(merged, f.name, _copy(getattr(second, f.name)))
    seen = {(h["status"], h["at"]) for h in merged.status_history}
    extra = [h for h in second.status_history if (h["status"], h["at"]) not in seen]
    merged.status_history = sorted(merged.status_history + extra, key=lambda h: h["at"])
    merged.sources = sorted(set(a.sources) | set(b.sources))
    return merged


def _precedence(record: Generation) -> tuple[bool, str]:
    return (record.done, record.updated_at)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
