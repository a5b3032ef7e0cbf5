"""One self-contained HTML page of a notebook's generations, to send to someone.

    sw.export("analysis.ipynb", "report.html")        # sora-widget export analysis.ipynb -o report.html

Each generation: its prompt, model, parameters, status, request id, timings, cost,
checksum, its sound, a poster frame, and the clip (which plays with its sound once the
reader presses play: never by itself) — embedded (base64) while the page stays under
`max_mb`, else linked by its path relative to the page. No script: readable in any
browser, offline, light or dark as the reader's system prefers. Every value is escaped.

Files are read only as `_files.open_record_file` allows — relative paths (or yours,
inside the output dir), regular files inside the notebook's folder or the output dir,
opened without following a symlink — and every link is `./` and a percent-encoded path:
a notebook someone sent may name any path, and a path such as `http:evil.example/x.mp4`
(a real folder) must never send the reader's browser elsewhere.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ._files import MAX_CLIP_BYTES, FileRefused, RecordFile, open_record_file
from ._text import format_duration
from .records import Generation, relative_link
from .records.view import sound_summary

DEFAULT_MAX_MB = 50.0

_STYLE = """
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #5f6368; --bg: #ffffff; --card: #f6f7f9;
  --line: #d9dce1; --ok: #1b7f3b; --bad: #b3261e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8eaed; --muted: #9aa0a6; --bg: #16181b; --card: #202328; --line: #3a3f46;
    --ok: #7ed996; --bad: #f2b8b5; }
}
body { margin: 2rem auto; max-width: 60rem; padding: 0 1rem; font: 15px/1.5 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 1.4rem; margin-bottom: 0.25rem; }
.sub { color: var(--muted); margin-top: 0; }
article { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem;
  margin: 1rem 0; display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 0 1.5rem; }
article h2 { grid-column: 1 / -1; font-size: 1.05rem; margin: 0 0 0.5rem; }
dl { margin: 0; display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.15rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.status-COMPLETED { color: var(--ok); font-weight: 600; }
.status-FAILED, .status-EXPIRED, .status-UNKNOWN { color: var(--bad); font-weight: 600; }
video, img { max-width: 320px; max-height: 320px; border-radius: 6px; display: block; }
.note { color: var(--muted); font-size: 0.9em; }
code { font-family: ui-monospace, monospace; font-size: 0.92em; }
"""


def export(
    notebook: str | os.PathLike[str], path: str | os.PathLike[str], *, max_mb: float = DEFAULT_MAX_MB
) -> Path:
    """Write the page of `notebook`'s generations to `path` (atomically); returns it."""
    from .notebook import clip_roots, notebook_folder, read_records

    if not max_mb > 0:
        from .errors import InvalidParams

        raise InvalidParams("max_mb", max_mb, "a size in megabytes, > 0")
    source = Path(notebook)
    records = read_records(source)
    target = Path(path)
    page = render(
        records,
        title=source.name,
        base=notebook_folder(source),
        page_dir=target.resolve().parent,
        max_bytes=int(max_mb * 1024 * 1024),
        roots=clip_roots(source),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def render(
    records: Sequence[Generation],
    *,
    title: str,
    base: Path,
    page_dir: Path,
    max_bytes: int,
    roots: Sequence[Path] | None = None,
) -> str:
    """The page. Clips are embedded in order while the page stays under `max_bytes`;
    they are read from `roots` only (default: `base`, the notebook's folder)."""
    budget = max_bytes - 64 * 1024  # the page around the clips
    articles = []
    for record in records:
        embedded: str | None = None
        clip: Path | None = None
        found = _clip_file(record, base, roots if roots is not None else [base])
        if found is not None:
            with found:
                clip = found.path
                encoded = (found.size + 2) // 3 * 4
                if encoded <= budget:
                    data = found.file.read(found.size)
                    embedded = "data:video/mp4;base64," + base64.b64encode(data).decode("ascii")
                    budget -= encoded
        articles.append(_article(record, clip, embedded, page_dir))
    shown = html.escape(title)
    count = len(records)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Generations of {shown}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Generations of {shown}</h1>"
        f'<p class="sub">{count} generation{"s" if count != 1 else ""}, as recorded in the notebook '
        "(outputs, metadata and ledger), exported by sora-widget.</p>"
        + "".join(articles)
        + "</body></html>\n"
    )


def _article(record: Generation, clip: Path | None, embedded: str | None, page_dir: Path) -> str:
    from .video import poster_data_uri

    p = record.params
    rows: list[tuple[str, str]] = [
        (
            "status",
            f'<span class="status-{html.escape(record.status)}">{html.escape(record.status)}</span>'
            + (" · synthetic (local emulator)" if record.synthetic else ""),
        ),
        ("model", html.escape(record.model)),
        (
            "parameters",
            html.escape(f"{p.duration} s · {p.shape}")
            + (f" · take {record.take}" if record.take > 1 else ""),
        ),
    ]
    if p.input_reference:
        shown = p.input_reference if len(p.input_reference) <= 120 else p.input_reference[:119] + "…"
        rows.append(("reference image", f"<code>{html.escape(shown)}</code>"))
    if record.derived_from:
        rows.append(
            (
                "derived from",
                html.escape(f"{record.derived_from.get('how')} of {record.derived_from.get('id')}"),
            )
        )
    if record.kind == "film" and record.parts:
        rows.append(("parts", html.escape(", ".join(str(part.get("id")) for part in record.parts))))
    rows.append(("request id", f"<code>{html.escape(record.request_id or '—')}</code>"))
    rows.append(("submitted", html.escape(record.submitted_at or "—")))
    if record.latency_s is not None:
        rows.append(("took", html.escape(format_duration(record.latency_s))))
    if record.cost is not None:
        said = {
            "segmind": "charged (Segmind's request history)",
            "api": "charged (the API's figure)",
        }.get(str(record.cost.get("source")), "estimated")
        rows.append(("cost", html.escape(f"${float(record.cost.get('usd', 0.0)):.2f} {said}")))
    if record.video and "audio" in record.video:
        rows.append(("sound", html.escape(sound_summary(record.video))))
    if record.sha256:
        rows.append(("sha256", f"<code>{html.escape(record.sha256)}</code>"))
    if record.error:
        said = record.error.get("detail") or record.error.get("message") or ""
        rows.append(("error", html.escape(f"{record.error.get('type')}: {said}")))
    facts = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)

    poster = poster_data_uri(clip) if clip is not None else None
    poster_attr = f' poster="{html.escape(poster, quote=True)}"' if poster else ""
    playing = f'{poster_attr} controls loop playsinline preload="metadata"></video>'
    if embedded is not None:
        media = f'<video src="{html.escape(embedded, quote=True)}"{playing}'
    elif clip is not None and (link := _link(clip, page_dir)) is not None:
        shown = html.escape(link, quote=True)
        note = f'<p class="note">Too large to embed: linked as <code>{shown}</code>.</p>'
        media = f'<video src="{shown}"{playing}{note}'
    elif record.video_path:
        media = f'<p class="note">The clip <code>{html.escape(record.video_path)}</code> is not here.</p>'
    else:
        media = ""
    return f"<article><h2>{html.escape(p.prompt)}</h2><dl>{facts}</dl><div>{media}</div></article>"


def _clip_file(record: Generation, base: Path, roots: Sequence[Path]) -> RecordFile | None:
    """The record's saved clip, open, if the one rule for files a record names allows it."""
    if record.status != "COMPLETED" or not record.video_path:
        return None
    try:
        return open_record_file(record.video_path, base=base, roots=roots, max_bytes=MAX_CLIP_BYTES)
    except (FileRefused, OSError):
        return None


def _link(clip: Path, page_dir: Path) -> str | None:
    """The clip's link from the page: `./`, then its path relative to the page, encoded."""
    try:
        relative = os.path.relpath(clip, page_dir)
    except ValueError:  # on another drive than the page (Windows): no relative link
        return None
    return relative_link(Path(relative).as_posix())
