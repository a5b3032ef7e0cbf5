"""Shots: continue a clip from its last frame, remix it, stitch clips into one film.

A Sora clip lasts 4–12 seconds; what people make is a sequence of shots, each
continuing the last. The steps that used to be done by hand are one call each, and
each leaves its lineage in the record (`derived_from = {"id", "how"}`):

- `extend(clip, prompt)`: the next shot starts from the exact last decoded frame of
  `clip` (PyAV), uploaded as its reference image (`reference_source` says "last frame
  of <id>", never a local path); same model, size and duration unless given.
- `remix(clip, prompt=None, **changes)`: the same request with what was asked changed,
  always a new take.
- `stitch(clips, path)`: one MP4 of the clips in order, with a record of its own
  (kind "film", its parts' ids and checksums) so `verify` and `records` cover it.
- `replay` of an extended shot extracts the frame again from the parent's saved file,
  and says so when that file is not here.

`sw.replay` / `sw.areplay` are this module's: lineage-aware, and otherwise `api`'s.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sys
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from . import api, video
from ._files import MAX_CLIP_BYTES, FileRefused, RecordFileMissing, check_record_file, file_sha256
from ._sync import run_blocking
from ._text import shorten, terminal_safe
from ._version import __version__
from ._waiting import Watch
from .checks import checked_replay_reference
from .client import AsyncSoraClient
from .client._config import display_path, resolve_output_dir
from .client._reuse import Reuse
from .environment import cell_context, in_kernel
from .errors import InvalidParams, SoraError
from .params import Request
from .records import Generation, identity, new_id, record_bundle, utcnow

#: what a clip may be given as: its record, its saved dict, or its id / request id
ClipLike = Generation | dict[str, Any] | str

EXTEND = "extend"
REMIX = "remix"


class ShotError(InvalidParams):
    """A clip that cannot be continued, remixed, stitched or replayed from as asked (not
    completed, its file missing or changed, a film's shots of different sizes). Raised
    before any request is sent."""

    def __init__(self, field: str, value: object, message: str, hint: str) -> None:
        SoraError.__init__(self, message, hint=hint)
        self.field, self.value, self.allowed = field, value, hint


class LineageWarning(UserWarning):
    """A lineage step could not be taken as recorded (the parent's file is not here)."""


# -- finding clips and their files ----------------------------------------------------------


def find_clip(
    clip: ClipLike | Any,
    *,
    notebook: str | Path | None = None,
    output_dir: str | Path | None = None,
) -> Generation:
    """A clip given as its record (or a `%sora` job), its dict, or its id / request id
    (looked up in `notebook`, else in the ledger)."""
    record = getattr(clip, "record", None)  # a %sora job handle
    if isinstance(record, Generation):
        return record
    return api.find_generation(clip, notebook=notebook, output_dir=output_dir)


def clip_file(
    clip: Generation, *, base: str | Path | None = None, output_dir: str | Path | None = None
) -> Path:
    """The saved file of a completed clip or film, through the rule for every file a record
    names (`_files.open_record_file`: the record may come from someone else): relative to
    `base` (the notebook's folder; the working directory by default) or inside the output
    dir, a regular file reached without following a link, bounded. `InvalidParams` when it
    was never saved, is not here, or is refused (`../private/secret.mp4`, `/etc/...`)."""
    if clip.status != "COMPLETED" or not clip.video_path:
        raise ShotError(
            "clip",
            clip.id,
            f"clip {clip.id} is {clip.status}{'' if clip.video_path else ', with no saved file'}",
            "Use a completed clip whose file was saved (sw.resume() saves a finished one).",
        )
    folder = Path(base if base is not None else Path.cwd()).resolve()
    outputs = Path(output_dir) if output_dir is not None else resolve_output_dir(None)
    try:
        return check_record_file(
            clip.video_path, base=folder, roots=[folder, outputs.resolve()], max_bytes=MAX_CLIP_BYTES
        )
    except RecordFileMissing:
        raise ShotError(
            "clip",
            clip.id,
            f"clip {clip.id}: its file {terminal_safe(clip.video_path)} is missing",
            "Run from the folder the clip was made in (its path is relative to it), "
            "or pass notebook='….ipynb'.",
        ) from None
    except FileRefused as refused:
        raise ShotError(
            "clip",
            clip.id,
            f"clip {clip.id}: its file {terminal_safe(clip.video_path)} {refused.reason}",
            "A record names only files beside its notebook or in the output dir; nothing was read.",
        ) from None


def _checked(clip: Generation, path: Path) -> str:
    """The file's sha256, which must be the one the record names: a shot continued from a
    changed file would not be the shot its lineage says — and a record that names no
    sha256 cannot say which file it means, so nothing is read from it."""
    if not clip.sha256:
        raise ShotError(
            "clip",
            clip.id,
            f"clip {clip.id} records no sha256, so its file {terminal_safe(clip.video_path or '')} "
            "cannot be checked",
            "Use a clip whose record names its file's checksum (every clip sora-widget saves does).",
        )
    digest, _size = file_sha256(path)
    if digest != clip.sha256:
        raise ShotError(
            "clip",
            clip.id,
            f"clip {clip.id}: its file {clip.video_path} has changed "
            f"(sha256 {digest[:12]}…, recorded {clip.sha256[:12]}…)",
            "The file is not the clip its record describes; restore it, or generate the clip again.",
        )
    return digest


def last_frame(
    clip: Generation, *, base: str | Path | None = None, output_dir: str | Path | None = None
) -> bytes:
    """The exact last decoded frame of a saved clip, as PNG bytes (its file found by the
    rule of `clip_file` and checked against the record's sha256 first)."""
    path = clip_file(clip, base=base, output_dir=output_dir)
    _checked(clip, path)
    return video.last_frame_png(path)


@dataclass(frozen=True)
class Frame:
    """A clip's last frame as the next shot's first frame: its PNG bytes, their digest (the
    next shot's request identity names these bytes, not the URL an upload is given, so a
    re-run finds the shot it made) and how records say where it came from."""

    png: bytes
    digest: str
    source: str

    @property
    def data_uri(self) -> str:
        """The frame as a data URI: what a request names before the frame is uploaded."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


async def read_frame(
    clip: Generation, *, base: str | Path | None = None, output_dir: str | Path | None = None
) -> Frame:
    """`clip`'s exact last frame (its file checked against its sha256 first), off the loop."""
    png = await asyncio.to_thread(last_frame, clip, base=base, output_dir=output_dir)
    return Frame(png, identity.reference_digest("data", "frame", png), f"last frame of {clip.id}")


#: a 1×1 PNG: the first frame a next shot is checked with before its real one is read
_ANY_FRAME = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def next_shot(clip: Generation, prompt: str, frame: Frame | None, **changes: Any) -> Request:
    """The request of the shot after `clip`: `prompt`, starting from `frame` (through
    whichever first-frame field the model has), with `clip`'s model and values unless
    `changes` say otherwise — never ending on `clip`'s own last frame. Checked in full
    (`InvalidParams`) before anything is uploaded; the frame is named as a data URI until
    the upload gives it a URL. `frame` None: the request checked before the frame is read."""
    changes = {k: v for k, v in changes.items() if v is not None}
    first = frame.data_uri if frame is not None else _ANY_FRAME
    return clip.params.derive(prompt=prompt, first_frame=first, without=("last_frame",), **changes)


async def upload_frame(client: AsyncSoraClient, frame: Frame) -> str:
    """The URL the API gives `frame` once uploaded."""
    return await client.upload_bytes(frame.png, "image/png")


async def frame_reference(
    client: AsyncSoraClient, clip: Generation, *, base: str | Path | None = None
) -> tuple[str, str]:
    """Upload `clip`'s last frame through `client`; (its URL, the reference's source as
    records say it: "last frame of <id>")."""
    frame = await read_frame(clip, base=base, output_dir=client.output_dir)
    return await upload_frame(client, frame), frame.source


async def earlier_shot(
    client: AsyncSoraClient, shot: Request, frame: Frame, *, take: Any = 1
) -> Reuse | None:
    """What already answers this very next shot (`shot`, starting from `frame`, and take):
    its saved clip ("done") or its running job ("attach"), before anything is uploaded.
    Raises `SubmitOutcomeUnknown` when an earlier attempt may be running and billed."""
    probe = client.prepare(shot, reference_digest=frame.digest, check_budget=False, take=take)
    return await client.earlier(probe)


async def made_already(
    client: AsyncSoraClient, shot: Request, frame: Frame, *, take: Any = 1
) -> Generation | None:
    """The saved clip of this very next shot, when the ledger has it intact: a re-run
    then sends nothing, not even the frame."""
    found = await earlier_shot(client, shot, frame, take=take)
    return found.record if found is not None and found.kind == "done" else None


def _base(notebook: str | Path | None) -> Path | None:
    return Path(notebook).resolve().parent if notebook is not None else None


@contextlib.asynccontextmanager
async def _client_for(options: dict[str, Any]) -> AsyncIterator[AsyncSoraClient]:
    """The client a call would use (as `api.agenerate` chooses it): the one given, the
    kernel's shared one, or a new one closed afterwards. Client options are taken out
    of `options`; what remains are job options."""
    own: AsyncSoraClient | None = options.pop("client", None)
    settings = {k: options.pop(k) for k in list(options) if k in api._CLIENT_OPTIONS}
    unknown = set(options) - api._JOB_OPTIONS
    if unknown:
        allowed = sorted(api._CLIENT_OPTIONS | api._JOB_OPTIONS | {"client"})
        raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {allowed}")
    if own is not None:
        yield own
    elif not settings and in_kernel():
        yield await api.kernel_client()
    else:
        async with api.client(**settings) as made:
            yield made


def _one_clip(
    clip: ClipLike, notebook: str | Path | None, options: dict[str, Any], for_a_film: str
) -> tuple[Generation, dict[str, Any]]:
    """The clip a shot is made from (never a film: `for_a_film` says what to do instead),
    and the request's changes taken out of a call's `options` (the rest are job options)."""
    found = find_clip(clip, notebook=notebook, output_dir=options.get("output_dir"))
    if found.kind == "film":
        raise ShotError("clip", found.id, f"{found.id} is a film", for_a_film)
    return found, {k: options.pop(k) for k in list(options) if k in api.REQUEST_FIELDS}


# -- extend -----------------------------------------------------------------------------------


async def aextend(
    clip: ClipLike,
    prompt: str,
    *,
    notebook: str | Path | None = None,
    **options: Any,
) -> Generation:
    """The next shot after `clip`. See `extend`."""
    parent, changes = _one_clip(clip, notebook, options, "Continue the film's last shot instead.")
    reuse = bool(options.pop("reuse", True))
    async with _client_for(options) as client:
        # everything that can be refused is refused before the upload (nothing is sent)
        client.prepare(next_shot(parent, prompt, None, **changes), check_budget=not reuse)
        frame = await read_frame(parent, base=_base(notebook), output_dir=client.output_dir)
        shot = next_shot(parent, prompt, frame, **changes)
        if reuse:
            done = await made_already(client, shot, frame, take=options.get("take", 1))
            if done is not None:
                print(f"sora-widget: {done.note}")
                return done
        return await api.agenerate(
            replace(shot, input_reference=await upload_frame(client, frame)),
            derived_from={"id": parent.id, "how": EXTEND},
            reference_source=frame.source,
            reference_digest=frame.digest,
            reuse=reuse,
            client=client,
            **options,
        )


def extend(clip: ClipLike, prompt: str, **options: Any) -> Generation:
    """The next shot: a clip that starts from the exact last decoded frame of `clip`.

    That frame (PyAV) is uploaded as the reference image; the new record's
    `derived_from` is `{"id": clip.id, "how": "extend"}` and its `reference_source`
    "last frame of <clip id>". The model and its values (size or aspect ratio, duration,
    sound, …) are `clip`'s unless given; the model may be another (`model="veo-3.1-fast"`):
    what it does not take of `clip`'s is left to its defaults.
    `clip`: a record, its dict, or an id / request id (in `notebook=`, else the ledger);
    its saved file must be here and match its sha256. Options as `sw.generate`.
    """
    watch = Watch()
    options["on_update"] = watch.tee(options.get("on_update"))
    return run_blocking(aextend(clip, prompt, **options), explain=watch.explain)


# -- remix --------------------------------------------------------------------------------------


async def aremix(
    clip: ClipLike,
    prompt: str | None = None,
    *,
    notebook: str | Path | None = None,
    **options: Any,
) -> Generation:
    """`clip`'s request with changes. See `remix`."""
    original, changes = _one_clip(clip, notebook, options, "Remix one of the film's shots.")
    if "first_frame" in changes:
        changes["input_reference"] = changes.pop("first_frame")
    p = original.params
    same_reference = changes.get("input_reference", p.input_reference) == p.input_reference
    # images a received record names are sent only as URLs or data URIs, never as local files
    keep: dict[str, Any] = {
        "input_reference": changes.pop("input_reference", None)
        or checked_replay_reference(p.input_reference),
        "last_frame": changes.pop("last_frame", None)
        or checked_replay_reference(p.last_frame, field="last_frame"),
    }
    options["reuse"] = False  # always a new take, even with nothing changed
    return await api.agenerate(
        p.derive(prompt=prompt, **keep, **changes),
        derived_from={"id": original.id, "how": REMIX},
        reference_source=original.reference_source if same_reference else None,
        **options,
    )


def remix(clip: ClipLike, prompt: str | None = None, **changes: Any) -> Generation:
    """`clip`'s request again, with what you change — `prompt`, `model`, any field
    (`duration`, `size`, `first_frame`, `sound`, …) — and nothing else; always a new take
    (never the clip already made). Images the record names are sent again only as URLs or
    data URIs: a local path in a record is never uploaded on its say-so. `derived_from` is
    `{"id": clip.id, "how": "remix"}`. Options as `sw.generate`."""
    watch = Watch()
    changes["on_update"] = watch.tee(changes.get("on_update"))
    return run_blocking(aremix(clip, prompt, **changes), explain=watch.explain)


# -- stitch -------------------------------------------------------------------------------------


class _FilmMixin:
    #: the film's record (kind "film"); None on paths derived from it (`.parent`, …)
    record: Generation | None = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """In a notebook the film shows as its record output, so the cell keeps its lineage."""
        if self.record is None:
            return {"text/plain": repr(self)}
        return record_bundle([self.record])


if sys.platform == "win32":  # pragma: no cover - the concrete Path class of this system

    class FilmPath(_FilmMixin, type(Path())):  # type: ignore[misc]
        """The path of a stitched film; `.record` is its record."""

else:
    from pathlib import PosixPath

    class FilmPath(_FilmMixin, PosixPath):
        """The path of a stitched film (a `pathlib.Path`); `.record` is its record."""


def _odd_size(records: Sequence[Generation], sizes: Sequence[tuple[int, int]]) -> None:
    """Every shot of a film has one size: name the first that differs from the most
    common size (from the first clip's on a tie)."""
    common = Counter(sizes).most_common()
    top = [size for size, count in common if count == common[0][1]]
    usual = sizes[0] if sizes[0] in top else top[0]
    for index, (record, size) in enumerate(zip(records, sizes, strict=True)):
        if size != usual:
            raise ShotError(
                f"clips[{index}]",
                record.id,
                f"clips[{index}] ({record.id}) is {size[0]}x{size[1]}, the others are "
                f"{usual[0]}x{usual[1]}: a film's shots must share one size",
                "Leave it out, or remix it at the others' size: sw.remix(clip, size=…).",
            )


def film_title(parts: Sequence[Generation]) -> str:
    """The film record's prompt: what its shots show, in order."""
    shots = " → ".join(shorten(p.params.prompt, 60) for p in parts)
    return f"Film of {len(parts)} shot{'s' if len(parts) != 1 else ''}: {shots}"


def _film_destination(path: str | Path | None, parts: Sequence[Generation], output_dir: Path) -> Path:
    if path is not None:
        target = Path(path).expanduser()
        return target if target.suffix.lower() == ".mp4" else target / _film_name(parts)
    return output_dir / _film_name(parts)


def _film_name(parts: Sequence[Generation]) -> str:
    from .client._naming import slugify

    return f"{datetime.now():%Y%m%d-%H%M%S}-film-{slugify(parts[0].params.prompt, 30)}-{new_id()[:8]}.mp4"


async def astitch(
    clips: Sequence[ClipLike],
    path: str | Path | None = None,
    *,
    crossfade: float = 0.0,
    notebook: str | Path | None = None,
    **options: Any,
) -> FilmPath:
    """Join clips into one film. See `stitch`."""
    if isinstance(clips, str | Generation) or not clips:
        raise InvalidParams("clips", clips, "a non-empty list of clips (records, ids or request ids)")
    parts = [find_clip(c, notebook=notebook, output_dir=options.get("output_dir")) for c in clips]
    async with _client_for(options) as client:
        return await make_film(
            client, parts, path, crossfade=crossfade, base=_base(notebook), context=cell_context()
        )


async def make_film(
    client: AsyncSoraClient,
    parts: Sequence[Generation],
    path: str | Path | None = None,
    *,
    crossfade: float = 0.0,
    base: str | Path | None = None,
    context: dict[str, str] | None = None,
) -> FilmPath:
    """Stitch `parts` (completed clips, their files checked against their sha256) into a
    film at `path` (or in `client`'s output dir) and write its record through `client`'s
    journal. `context`: the notebook cell it is recorded in."""
    if not parts:
        raise InvalidParams("clips", [], "a non-empty list of clips")
    if crossfade < 0:
        raise InvalidParams("crossfade", crossfade, "seconds ≥ 0")
    for part in parts:
        if part.kind == "film":
            raise ShotError("clips", part.id, f"{part.id} is a film", "Stitch its shots instead.")
    files = await asyncio.to_thread(
        lambda: [clip_file(p, base=base, output_dir=client.output_dir) for p in parts]
    )
    digests = [await asyncio.to_thread(_checked, part, file) for part, file in zip(parts, files, strict=True)]
    described = await asyncio.to_thread(lambda: [video.facts(f) for f in files])
    for part, facts in zip(parts, described, strict=True):
        if facts is None:
            raise ShotError(
                "clips", part.id, f"clip {part.id}: {part.video_path} is not a video", "Leave it out."
            )
    _odd_size(parts, [(d["width"], d["height"]) for d in described if d is not None])
    started = utcnow()
    target = _film_destination(path, parts, client.output_dir)
    await asyncio.to_thread(video.stitch, files, target, crossfade=crossfade)
    digest, size = await asyncio.to_thread(file_sha256, target)
    facts = await asyncio.to_thread(video.facts, target)
    assert facts is not None  # stitch read it back already
    record = Generation(
        id=new_id(),
        params=Request(
            prompt=film_title(parts),
            duration=max(1, round(facts["duration_s"])),
            size=f"{facts['width']}x{facts['height']}",
            model=parts[0].model,
        ),
        model=parts[0].model,
        kind="film",
        parts=[{"id": p.id, "sha256": d} for p, d in zip(parts, digests, strict=True)],
        video_path=display_path(target),
        sha256=digest,
        bytes=size,
        video=facts,
        synthetic=any(p.synthetic for p in parts),
        versions={"sora_widget": __version__, "python": sys.version.split()[0]},
        notebook=context,
        submitted_at=started,
    )
    record.set_status("COMPLETED")
    # through the journal: the ledger keeps it, and in a kernel the notebook's metadata
    await client.ledger.log("film", record)
    film = FilmPath(target)
    film.record = record
    return film


def stitch(
    clips: Sequence[ClipLike],
    path: str | Path | None = None,
    *,
    crossfade: float = 0.0,
    **options: Any,
) -> FilmPath:
    """One MP4 of `clips` in order, written to `path` (a .mp4 file, or a folder; the
    output dir by default); returns its path (a `pathlib.Path` whose `.record` is the
    film's record).

    Streams are copied when codec, size and time base match (and no `crossfade`, in
    seconds), otherwise re-encoded. Clips of different sizes raise `InvalidParams`
    naming the odd one. The film gets a record of its own — kind "film", `parts` its
    clips' ids and sha256, its own file's sha256 — written to the ledger and, in a
    notebook, shown in the cell, so `sw.verify` and `sora-widget records` cover it.
    """
    return run_blocking(astitch(clips, path, crossfade=crossfade, **options))


# -- replay ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayReference:
    """The reference image a replay sends, and what to tell the user about it."""

    url: str | None
    source: str | None
    note: str
    #: True when extracted again from the parent's file; False: the reference as sent
    fresh: bool


async def replay_reference(
    client: AsyncSoraClient,
    original: Generation,
    *,
    notebook: str | Path | None = None,
    output_dir: str | Path | None = None,
) -> ReplayReference:
    """The reference for a replay of `original`: for an extended shot, the parent's last
    frame extracted again from its saved file and uploaded; when that file is not here
    (or has changed), the reference as it was sent, and a note saying so."""
    sent = original.params.input_reference
    lineage = original.derived_from or {}
    if lineage.get("how") != EXTEND:
        return ReplayReference(sent, original.reference_source, "", fresh=False)
    parent_id = lineage.get("id", "")
    why: str
    try:
        parent = find_clip(parent_id, notebook=notebook, output_dir=output_dir)
        url, source = await frame_reference(client, parent, base=_base(notebook))
    except LookupError:
        why = f"its parent {parent_id} is not recorded here"
    except InvalidParams as error:
        why = f"the parent's file cannot be used ({error.message})"
    else:
        said = f"reference  last frame of {parent_id}, extracted again from {parent.video_path}"
        return ReplayReference(url, source, said, fresh=True)
    note = (
        f"{original.id} continues {parent_id}, but {why}: replaying with the reference as it was "
        f"sent ({shorten(sent or 'none', 80)}), which the API may no longer keep."
    )
    return ReplayReference(sent, original.reference_source, note, fresh=False)


async def areplay(
    record_or_id: Generation | dict[str, Any] | str,
    *,
    notebook: str | Path | None = None,
    **options: Any,
) -> Generation:
    """Generate a recorded clip again. See `replay`."""
    original = api.find_generation(record_or_id, notebook=notebook, output_dir=options.get("output_dir"))
    if original.kind == "film":
        raise ShotError(
            "record", original.id, f"{original.id} is a film", "Stitch its parts again with sw.stitch()."
        )
    if (original.derived_from or {}).get("how") != EXTEND:
        return await api.areplay(original, notebook=notebook, **options)
    async with _client_for(options) as client:
        found = await replay_reference(client, original, notebook=notebook, output_dir=client.output_dir)
        if not found.fresh:
            warnings.warn(found.note, LineageWarning, stacklevel=3)
        again = original.copy()
        again.params = replace(again.params, input_reference=found.url)
        return await api.areplay(
            again,
            client=client,
            derived_from=original.derived_from,
            reference_source=found.source,
            **options,
        )


def replay(
    record_or_id: Generation | dict[str, Any] | str,
    *,
    notebook: str | Path | None = None,
    **options: Any,
) -> Generation:
    """Generate a recorded clip again: the same prompt, duration, size, model and
    reference, on the API in use now; the new record's `replay_of` is the original's id.

    An extended shot's reference is its parent's last frame: it is extracted again from
    the parent's saved file and uploaded; when that file is not here (or has changed), the
    reference URL as it was sent is used and a `LineageWarning` says so.

    `record_or_id`: a record, its dict, or an id / request id found in `notebook`
    (outputs, metadata, ledger) or else in the output dir's ledger. Options as `generate`.
    A new job is billed like any other; the original's file is left as it is.
    """
    watch = Watch()
    options["on_update"] = watch.tee(options.get("on_update"))
    return run_blocking(areplay(record_or_id, notebook=notebook, **options), explain=watch.explain)


__all__ = [
    "FilmPath",
    "LineageWarning",
    "ReplayReference",
    "ShotError",
    "aextend",
    "aremix",
    "areplay",
    "astitch",
    "clip_file",
    "extend",
    "find_clip",
    "frame_reference",
    "last_frame",
    "make_film",
    "remix",
    "replay",
    "replay_reference",
    "stitch",
]
