"""The contract between the kernel and the widget's view, defined once.

Traits carry small state both ways; custom messages carry requests from the view and
the kernel's replies, each tagged with the request's `id`. Video bytes travel only as
binary buffers of custom messages, never in traits, so widget state stays small.

Every message and trait value the kernel sends is built here, from these TypedDicts;
`js/src/protocol.generated.ts` is generated from them (`make protocol`), and a test
fails when the two disagree — a key renamed on one side cannot silently become 0 or
null on the other.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal, TypedDict

from .cost import Spend
from .errors import SoraError
from .records import Generation, RecordStatus, reproduce_code

Mode = Literal["full", "job", "batch", "storyboard"]
MODES: tuple[Mode, ...] = ("full", "job", "batch", "storyboard")

#: a record's statuses, and PENDING: a batch item not sent yet, waiting for its turn
Status = Literal["PENDING", RecordStatus]


class SizeOption(TypedDict):
    """One size some model makes: value "720x1280", label "Portrait", and its pixels."""

    value: str
    label: str
    width: int
    height: int


class ChoiceOption(TypedDict):
    """One allowed value of a field, and how the control labels it."""

    value: str | int
    label: str


class FieldOption(TypedDict):
    """One field of a model (params.Field): the control the view builds for it. `kind`
    "choice" (radio segments or a menu), "bool" (a switch), "int" (a number), "image" (a
    picker: URL, data URI or an uploaded file), "text"."""

    name: str
    label: str
    kind: Literal["choice", "bool", "int", "image", "text"]
    choices: list[ChoiceOption]
    default: str | int | bool | None
    required: bool
    minimum: int | None
    maximum: int | None
    help: str


class PriceRule(TypedDict):
    """What a clip costs (params.Price) at the prices in use: `usd` per second of video or
    per clip, by the value of the field `by` ("sound"/"silent" for sound; "*" for all)."""

    per: Literal["second", "clip"]
    by: str | None
    usd: dict[str, float]


class PixelsOption(TypedDict):
    """The clip size an aspect ratio and a resolution make."""

    aspect_ratio: str
    resolution: str
    size: str


class ModelOption(TypedDict):
    """One model of the catalogue: the controls follow its `fields`, the estimate its `price`."""

    name: str
    label: str
    summary: str
    sizes: list[str]
    durations: list[int]
    typical_latency_s: float
    sound: Literal["always", "optional", "never"]
    fields: list[FieldOption]
    price: PriceRule
    pixels: list[PixelsOption]


class Options(TypedDict):
    """`options` trait (read-only in the view): what the controls may offer (params.view_options)."""

    model: str
    models: list[ModelOption]
    prices_as_of: str
    durations: list[int]
    sizes: list[SizeOption]
    default_duration: int
    default_size: str
    image_types: list[str]
    max_reference_bytes: int


class Backend(TypedDict):
    """`backend` trait: where generations go. Never holds the key itself. `unavailable`:
    the models this API refused this session (retired or unknown); the Model menu marks them."""

    api_key_set: bool
    emulator: bool
    host: str
    unavailable: list[str]


class SpendView(TypedDict):
    """`spend` trait: this kernel's spend and budget (US dollars; None: no budget), and the
    account's credits left as the API last said (`x-remaining-credits`; None: never said)."""

    usd: float
    jobs: int
    budget_usd: float | None
    remaining_usd: float | None
    remaining_credits: float | None


class CostView(TypedDict):
    """What a job cost: the charge Segmind's request history names ("segmind"), the API
    answer's figure ("api"), or the estimate until either says."""

    usd: float
    source: Literal["api", "estimate", "segmind"]


class JobError(TypedDict):
    """A SoraError as the kernel reports it (`SoraError.to_dict()`)."""

    type: str
    message: str
    http_status: int | None
    request_id: str | None
    detail: str | None
    hint: str
    retryable: bool


class _JobParamsKeys(TypedDict):
    prompt: str
    duration: int
    size: str | None
    input_reference: str | None


class JobParams(_JobParamsKeys, total=False):
    """A request's values as a record keeps them (params.Request.to_dict): what the model
    takes beyond prompt, duration, size and first frame, when it says them."""

    last_frame: str | None
    aspect_ratio: str | None
    resolution: str | None
    sound: bool | None
    seed: int | None
    options: dict[str, str | int | bool]


class VideoFacts(TypedDict):
    """What the saved clip is (read from the file)."""

    width: int
    height: int
    duration_s: float
    codec: str
    fps: float | None
    frames: int
    faststart: bool


class Lineage(TypedDict):
    """Where a clip came from: made `how` from the clip `id`, whose prompt is given when
    the kernel knows it (the card says "continues: a red kite rising…")."""

    id: str
    how: Literal["extend", "remix"]
    prompt: str | None


class JobView(TypedDict):
    """One generation as the `jobs` trait lists them (oldest first); a "film" is clips
    stitched together (shots.stitch)."""

    id: str
    kind: Literal["clip", "film"]
    request_id: str | None
    status: Status
    waiting: bool
    detached: bool
    model: str
    cost: CostView | None
    params: JobParams
    reference_source: str | None
    submitted_at: str | None
    completed_at: str | None
    elapsed_s: float
    expected_s: float
    video_path: str | None
    filename: str | None
    sha256: str | None
    bytes: int | None
    video: VideoFacts | None
    error: JobError | None
    synthetic: bool
    reproduce: str
    derived_from: Lineage | None


class BatchProgress(TypedDict):
    """`batch` trait of a batch view: where the batch stands, counted by the kernel."""

    id: str
    total: int
    done: int
    completed: int
    failed: int
    unknown: int
    running: int


class BoardProgress(TypedDict):
    """`board` trait of a Storyboard: where its run stands. `shots` holds the job id of
    each shot of the run (None until it is started), `film` the film's job id once the
    shots are stitched, `error` why the run stopped."""

    running: bool
    current: int | None
    shots: list[str | None]
    film: str | None
    error: JobError | None


class RecordOutput(TypedDict, total=False):
    """`record_output` trait: the record output the view draws under itself where the
    host never updates an output (Voilà, marimo; see views.ClipView) — the records (schema
    v1, as a notebook's record output holds them under our mimetype) and a poster (a JPEG
    data URI) of each saved clip, by record id. {} where the record output is an output
    of its own."""

    schema_version: int
    generations: list[dict[str, Any]]
    posters: dict[str, str]


class Traits(TypedDict):
    """Every synced trait a view reads. A SoraWidget has all but `batch`, `shots` and
    `board`; a batch view has `options`, `jobs`, `jobs_clock_ms`, `mode` and `batch`; a
    Storyboard `options`, `jobs`, `jobs_clock_ms`, `mode`, `shots`, `duration`, `size`,
    `model` and `board`; each has `record_output`. `values`: the model's fields beyond
    duration, size and the first frame (aspect ratio, resolution, last frame, sound, seed,
    its own options), by name."""

    prompt: str
    duration: int
    size: str
    model: str
    input_reference: str
    reference_name: str
    values: dict[str, str | int | bool | None]
    options: Options
    backend: Backend
    spend: SpendView
    jobs: list[JobView]
    jobs_clock_ms: float
    mode: Mode
    batch: BatchProgress
    shots: list[str]
    board: BoardProgress
    record_output: RecordOutput


# -- view → kernel ------------------------------------------------------------------------------


class GenerateRequest(TypedDict):
    """`params`: the controls' values as a record keeps them (the model's own options
    under `options`); `remix_of`: the job whose parameters the controls were filled with
    (Remix)."""

    kind: Literal["generate"]
    id: str
    params: JobParams
    model: str
    remix_of: str | None


class ContinueRequest(TypedDict):
    """The next shot of `job`: `prompt`, starting from the job's last frame. Answered
    once the frame is uploaded and the new job exists (`reply` {job})."""

    kind: Literal["continue"]
    id: str
    job: str
    prompt: str


class RunStoryboardRequest(TypedDict):
    """A Storyboard's run: `shots` (the prompts, in order) become its shots."""

    kind: Literal["run_storyboard"]
    id: str
    shots: list[str]


class VideoRequest(TypedDict):
    """Answered by `video_chunk` messages."""

    kind: Literal["video"]
    id: str
    job: str


class StopRequest(TypedDict):
    """Stop waiting (the server job goes on)."""

    kind: Literal["stop"]
    id: str
    job: str


class ResumeRequest(TypedDict):
    """Wait again for a detached or timed-out job."""

    kind: Literal["resume"]
    id: str
    job: str


#: the image fields a view uploads a picked file for
ImageField = Literal["first_frame", "last_frame"]


class UploadRequest(TypedDict):
    """buffers[0] holds the image's bytes. The kernel uploads them and writes the URL into
    the control of `field`: the first frame's `input_reference` (and `reference_name`), or
    `values["last_frame"]`; answered with `url`."""

    kind: Literal["upload"]
    id: str
    name: str
    mime: str
    field: ImageField


class EndFrameRequest(TypedDict):
    """The next clip ends on `job`'s last frame ("End on this frame", where the widget's
    model has a last frame): the kernel reads the frame, uploads it and writes the URL into
    `values["last_frame"]`; answered with `url`."""

    kind: Literal["end_frame"]
    id: str
    job: str


class UseEmulatorRequest(TypedDict):
    kind: Literal["use_emulator"]
    id: str


REQUESTS = (
    GenerateRequest,
    VideoRequest,
    StopRequest,
    ResumeRequest,
    UploadRequest,
    UseEmulatorRequest,
    ContinueRequest,
    EndFrameRequest,
    RunStoryboardRequest,
)


# -- kernel → view ------------------------------------------------------------------------------


class _ReplyOkKeys(TypedDict):
    kind: Literal["reply"]
    id: str
    ok: Literal[True]


class ReplyOk(_ReplyOkKeys, total=False):
    """A request done; `job` for generate and continue (the new job's id), `url` for upload
    and end_frame (the image's URL)."""

    job: str
    url: str


class ReplyError(TypedDict):
    kind: Literal["reply"]
    id: str
    ok: Literal[False]
    error: JobError


class VideoChunk(TypedDict):
    """One piece of a clip's bytes (buffers[0]); `index` from 0 to `total` - 1."""

    kind: Literal["video_chunk"]
    id: str
    index: int
    total: int
    mime: str
    size: int


#: every TypedDict of the protocol, in the order the TypeScript file declares them
DECLARED = (
    SizeOption,
    ChoiceOption,
    FieldOption,
    PriceRule,
    PixelsOption,
    ModelOption,
    Options,
    SpendView,
    CostView,
    Backend,
    JobError,
    JobParams,
    VideoFacts,
    Lineage,
    JobView,
    BatchProgress,
    BoardProgress,
    RecordOutput,
    Traits,
    *REQUESTS,
    ReplyOk,
    ReplyError,
    VideoChunk,
)


# -- building what the kernel sends ---------------------------------------------------------------


def job_view(
    record: Generation,
    *,
    now: float,
    expected_s: float,
    waiting: bool = False,
    detached: bool = False,
    queued_in_batch: bool = False,
    parent_prompt: str | None = None,
) -> JobView:
    """A record as the view shows it. Pure: the caller says what it knows of the job's
    task (`waiting`: polled now; `detached`: the user stopped waiting) and the typical
    latency. `queued_in_batch`: a batch item not sent yet shows as PENDING;
    `parent_prompt`: the prompt of the clip it derives from, when known."""
    status: Status = record.status  # type: ignore[assignment]
    if queued_in_batch and record.status == "SUBMITTING" and record.submitted_at is None:
        status = "PENDING"
    return {
        "id": record.id,
        "kind": "film" if record.kind == "film" else "clip",
        "request_id": record.request_id,
        "status": status,
        "waiting": waiting,
        "detached": detached,
        "model": record.model,
        "cost": record.cost,  # type: ignore[typeddict-item]
        "params": record.params.to_dict(),  # type: ignore[typeddict-item]
        "reference_source": record.reference_source,
        "submitted_at": record.submitted_at,
        "completed_at": record.completed_at,
        "elapsed_s": record.elapsed_s(now),
        "expected_s": expected_s,
        "video_path": record.video_path,
        "filename": Path(record.video_path).name if record.video_path else None,
        "sha256": record.sha256,
        "bytes": record.bytes,
        "video": record.video,  # type: ignore[typeddict-item]
        "error": record.error,  # type: ignore[typeddict-item]
        "synthetic": record.synthetic,
        "reproduce": reproduce_code(record),
        "derived_from": lineage(record, parent_prompt),
    }


def lineage(record: Generation, parent_prompt: str | None = None) -> Lineage | None:
    """`derived_from` as the card shows it, with the parent's prompt when known."""
    derived = record.derived_from or {}
    parent, how = derived.get("id"), derived.get("how")
    if not isinstance(parent, str):
        return None
    if how == "extend":
        return {"id": parent, "how": "extend", "prompt": parent_prompt}
    if how == "remix":
        return {"id": parent, "how": "remix", "prompt": parent_prompt}
    return None


def board_progress(
    *,
    running: bool = False,
    current: int | None = None,
    shots: list[str | None] | None = None,
    film: str | None = None,
    error: SoraError | None = None,
) -> BoardProgress:
    return {
        "running": running,
        "current": current,
        "shots": list(shots or []),
        "film": film,
        "error": error.to_dict() if error is not None else None,  # type: ignore[typeddict-item]
    }


def spend_view(spend: Spend) -> SpendView:
    return {
        "usd": spend.usd,
        "jobs": spend.jobs,
        "budget_usd": spend.budget_usd,
        "remaining_usd": spend.remaining_usd,
        "remaining_credits": spend.remaining_credits,
    }


def reply_ok(request: str, **payload: Any) -> ReplyOk:
    reply: ReplyOk = {"kind": "reply", "id": request, "ok": True}
    reply.update(payload)  # type: ignore[typeddict-item]
    return reply


def reply_error(request: str, error: SoraError) -> ReplyError:
    return {"kind": "reply", "id": request, "ok": False, "error": error.to_dict()}  # type: ignore[typeddict-item]


def video_chunk(request: str, *, index: int, total: int, size: int, mime: str = "video/mp4") -> VideoChunk:
    return {"kind": "video_chunk", "id": request, "index": index, "total": total, "mime": mime, "size": size}


def clock_ms() -> float:
    """The kernel's wall clock for `jobs_clock_ms` (the view corrects its own skew by it)."""
    return time.time() * 1000
