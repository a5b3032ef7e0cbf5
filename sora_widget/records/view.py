"""A record as a notebook shows it: the record output's mime bundle — the records
themselves under our mimetype, plus `text/plain` and `text/html` fallbacks that any
frontend, nbconvert or a static renderer can show without our extension."""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import MAX_CLIP_BYTES, FileRefused, check_record_file, path_text_problem
from .._text import format_duration
from ..params import DEFAULT_MODEL
from .schema import MIMETYPE, SCHEMA_VERSION

if TYPE_CHECKING:
    from ._model import Generation

#: what a poster is, and the only kind of URI a poster may be
POSTER_PREFIX = "data:image/jpeg;base64,"
#: posters in one record output at most (each ≤ 30 KB and a few tens of ms to make): an
#: output of a thousand records stays quick to show and small in the notebook
MAX_POSTERS = 100


def record_bundle(records: Sequence[Generation]) -> dict[str, Any]:
    """The mime bundle of a record output: the records (with a poster frame of each saved
    clip, kept beside them — never in the record, so not in notebook metadata or the
    ledger), a text summary and an HTML table that shows the posters anywhere."""
    data = record_data(records)
    return {
        MIMETYPE: data,
        "text/plain": record_text(records),
        "text/html": record_html(records, data["posters"]),
    }


def record_data(records: Sequence[Generation]) -> dict[str, Any]:
    """The record output's own part (under our mimetype): the records and a poster of
    each saved clip. A view that shows the record output itself (where the host does not
    update outputs, widget.ts) is sent this."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generations": [r.to_dict() for r in records],
        "posters": posters_of(records),
    }


def posters_of(records: Sequence[Generation]) -> dict[str, str]:
    """A poster (JPEG data URI) for each record whose clip is here to take it from, for
    the first MAX_POSTERS of them. Runs on the kernel's thread: each poster decodes a
    bounded number of frames of a bounded picture (`video.poster_jpeg`) and is cached."""
    found: dict[str, str] = {}
    for record in records:
        if len(found) >= MAX_POSTERS:
            break
        if record.status == "COMPLETED" and record.video_path:
            clip = _clip_here(record.video_path)
            if clip is None:
                continue
            from ..video import poster_data_uri  # PyAV loads only when a clip is shown

            uri = poster_data_uri(clip)
            if uri is not None:
                found[record.id] = uri
    return found


def _clip_here(video_path: str) -> Path | None:
    """The clip a record names, if the rule for such files lets it be read from here: a
    relative path below the working directory (the notebook's folder, in a kernel), a
    regular file reached without a symlink."""
    here = Path.cwd().resolve()
    try:
        return check_record_file(video_path, base=here, roots=[here], max_bytes=MAX_CLIP_BYTES)
    except (FileRefused, OSError):
        return None


def record_text(records: Sequence[Generation]) -> str:
    if not records:
        return "sora-widget: no generations yet"
    lines = []
    for r in records:
        lines.append(f"sora-widget {r.id}: {r.summary()}")
        if r.note:
            lines.append(f"  {r.note}")
    return "\n".join(lines)


def record_html(records: Sequence[Generation], posters: dict[str, str] | None = None) -> str:
    """A table a person can read without any extension — with a poster of each clip, so
    nbconvert's HTML, GitHub or a frontend without the extension show a picture; every
    value escaped."""
    posters = posters or {}
    if not records:
        return '<div class="sora-widget-record"><em>sora-widget: no generations yet</em></div>'
    rows = []
    for r in records:
        p = r.params
        cells = [
            r.status + (" · synthetic" if r.synthetic else ""),
            p.prompt,
            f"{p.duration}s {p.shape}",
            sound_summary(r.video),
            r.request_id or "—",
            format_duration(r.latency_s) if r.latency_s is not None else "—",
            (r.sha256 or "")[:12] or "—",
        ]
        row = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        video = _video_tag(r, posters.get(r.id))
        rows.append(f"<tr>{row}<td>{video}</td></tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("status", "prompt", "params", "sound", "request id", "latency", "sha256", "video")
    )
    return (
        '<table class="sora-widget-record"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def sound_summary(video: dict[str, Any] | None) -> str:
    """What a clip's facts say of its sound: "AAC · stereo · 48 kHz", "silent", or "—"
    when they do not say (no file was read, or the record predates sound facts)."""
    if not isinstance(video, dict) or "audio" not in video:
        return "—"
    audio = video["audio"]
    if not isinstance(audio, dict):
        return "silent"
    parts = [str(audio.get("codec") or "")[:16].upper()]
    channels = audio.get("channels")
    if isinstance(channels, int):
        parts.append({1: "mono", 2: "stereo"}.get(channels, f"{channels} channels"))
    rate = audio.get("sample_rate")
    if isinstance(rate, int) and rate > 0:
        parts.append(f"{rate / 1000:g} kHz")
    return " · ".join(part for part in parts if part) or "sound"


def _video_tag(record: Generation, poster: str | None = None) -> str:
    """The clip as a `<video>` whose poster (a JPEG data URI) shows wherever the file is
    not: nbconvert's HTML, another machine, a frontend without the extension."""
    path = record.video_path
    if not path:
        error = (record.error or {}).get("detail") or (record.error or {}).get("message")
        return html.escape(str(error)) if error else "—"
    if path_text_problem(path) is not None:
        return html.escape(path)
    src = html.escape(relative_link(path), quote=True)
    shown = ""
    if poster is not None and poster.startswith(POSTER_PREFIX):
        shown = f' poster="{html.escape(poster, quote=True)}"'
    return f'<video src="{src}"{shown} controls loop playsinline preload="metadata" width="240"></video>'


def relative_link(path: str) -> str:
    """A link to a relative path that no browser can read as anything else: `./`, then
    the path (backslashes as slashes) percent-encoded — so `http:evil.example/x.mp4`, a
    real folder's name, can never become a scheme, nor a leading `//` a host. The caller
    has made sure the path is relative (`_files.path_text_problem`, or a path it made)."""
    return "./" + urllib.parse.quote(path.replace("\\", "/"), safe="/")


def reproduce_code(record: Generation) -> str:
    """The exact Python call that generates this clip again: every value written by
    `repr()` on a line of its own, so no value a record carries (it may come from a file
    someone sent) can become code of its own."""
    lineage = _lineage_code(record)
    if lineage:
        return lineage
    lines = ["import sora_widget as sw", ""]
    if record.reference_source:
        lines.append(f"# first frame uploaded from {record.reference_source!r}")
    lines += _call("clip = sw.generate(", [repr(record.params.prompt), *_request_args(record)])
    return "\n".join(lines)


def _request_args(record: Generation) -> list[str]:
    """`name=repr(value)` for the model (unless the default) and each value of the request."""
    p = record.params
    args = [] if record.model == DEFAULT_MODEL else [f"model={record.model!r}"]
    first = p.entry.field("first_frame")
    for name, value in p.values().items():
        if name == "first_frame" and first is not None and first.wire == "input_reference":
            name = "input_reference"  # Sora's own name for it, as its records have it
        args.append(f"{name}={value!r}")
    return args


def _call(opening: str, args: list[str]) -> list[str]:
    return [opening, *(f"    {arg}," for arg in args), ")"]


def _lineage_code(record: Generation) -> str:
    """A film is stitched again from its parts; an extended shot continues its parent
    (whose last frame is extracted again): neither is a plain `sw.generate`."""
    if record.kind == "film":
        ids = [repr(part.get("id")) for part in record.parts or []]
        return "\n".join(
            [
                "import sora_widget as sw",
                "",
                *_call("film = sw.stitch(", [f"[{', '.join(ids)}]", repr(record.video_path or "film.mp4")]),
            ]
        )
    derived = record.derived_from or {}
    if derived.get("how") != "extend":
        return ""
    args = [repr(derived.get("id")), repr(record.params.prompt)]
    args += [a for a in _request_args(record) if not a.startswith(("input_reference=", "first_frame="))]
    if not any(a.startswith("model=") for a in args):
        args.append(f"model={record.model!r}")
    return "\n".join(
        [
            "import sora_widget as sw",
            "",
            "# continues the clip of that id (sw.read_records lists them) from its last frame",
            *_call("clip = sw.extend(", args),
        ]
    )
