"""The functions most people call: generate, agenerate, pending, resume, areplay,
use_emulator, history.

Settings come from arguments, then from `configure()` / `use_emulator()`, then from
the environment (SEGMIND_API_KEY, SEGMIND_BASE_URL, SEGMIND_HISTORY_URL,
SORA_WIDGET_OUTPUT_DIR, SORA_WIDGET_RPM).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import html
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from . import params
from ._sync import run_blocking
from ._text import shorten, terminal_safe
from ._waiting import Watch
from .checks import checked_replay_reference
from .client import AsyncSoraClient, prepare_tls
from .client._config import api_host, resolve_api_key, resolve_base_url, resolve_output_dir
from .client._history import MAX_WINDOW_DAYS, HistoryRow
from .client._ratelimit import check_rpm, session_allowance
from .client._sightings import SIGHTINGS
from .cost import Estimate, Prices, Spend, check_budget, effective_prices, parse_prices, session_budget
from .cost import estimate as cost_estimate
from .environment import cell_context, in_kernel
from .errors import InvalidParams, SoraError
from .ledger import Ledger
from .notebook import kernel_observers
from .params import COMMON_FIELDS, DEFAULT_MODEL, MODELS, READ_ON, Model, Request
from .records import Generation

if TYPE_CHECKING:
    from .emulator import Emulator

#: process-wide defaults set by configure() / use_emulator(); arguments override them
_defaults: dict[str, Any] = {}
_emulator: Emulator | None = None
_emulator_lock = threading.Lock()

#: the non-secret key the embedded emulator is called with, so a real key never goes there
EMULATOR_KEY = "sora-widget-emulator"
#: what records and request identities call the embedded emulator, whatever port it took
EMULATOR_NAME = "emulator"

_CLIENT_OPTIONS = {
    "api_key",
    "base_url",
    "output_dir",
    "poll",
    "retry",
    "upload_url",
    "request_timeout",
    "http",
    "clock",
    "history_url",
    "history",
}
_JOB_OPTIONS = {
    "timeout",
    "on_update",
    "save_to",
    "notebook",
    "replay_of",
    "batch",
    "take",
    "derived_from",
    "reference_source",
    "reference_digest",
    "reuse",
}

#: the names a call's request fields may have: the common ones, Sora's name for the first
#: frame, the model, and every catalogued model's own options
REQUEST_FIELDS = frozenset(
    {"model", "input_reference", *COMMON_FIELDS, *(f.name for m in MODELS.values() for f in m.custom_options)}
)

#: "not given" for configure's options that may be set to None
_UNSET: Any = object()


def configure(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    budget_usd: float | None = _UNSET,
    prices: dict[str, Any] | None = _UNSET,
    requests_per_minute: float | None = _UNSET,
) -> None:
    """Set process-wide defaults (arguments to each call still win).

    `requests_per_minute`: this kernel sends at most this many API requests a minute —
    submits, status checks, results and the request history together, from every widget,
    magic, batch and call — as your Segmind plan allows (5 on the free plan, 50 on Pro),
    and spends them where they matter: a submit or a result first, then the status check
    likeliest to find its job finished. None: no cap (429s are met and learned from).
    SORA_WIDGET_RPM sets it from the environment.

    `budget_usd`: this kernel will not submit a clip whose estimate would take its spend
    past this many US dollars (`BudgetExceeded`, before any request); None: no budget.
    `prices`: your own prices per second of video, `{model: usd}` or
    `{model: {size: usd}}`, over the table's (`sw.models()`); None: the table's again.
    """
    if budget_usd is not _UNSET:
        session_budget().set(check_budget(budget_usd))
    if requests_per_minute is not _UNSET:
        session_allowance().set(check_rpm(requests_per_minute))
    if prices is not _UNSET:
        if prices is None:
            _defaults.pop("prices", None)
        else:
            _defaults["prices"] = parse_prices(prices, source="prices")
    for name, value in (("api_key", api_key), ("base_url", base_url), ("output_dir", output_dir)):
        if value is not None:
            _defaults[name] = value
    if base_url is not None:
        # the emulator's (use_emulator): not another API's
        _defaults.pop("upload_url", None)
        _defaults.pop("history_url", None)


def settings() -> dict[str, Any]:
    """What a call would use now — the key only as set / not set."""
    base_url = resolve_base_url(_defaults.get("base_url"))
    return {
        "base_url": base_url,
        "api_key_set": resolve_api_key(_defaults.get("api_key")) is not None,
        "output_dir": str(resolve_output_dir(_defaults.get("output_dir"))),
        "emulator": _emulator is not None and _emulator.base_url == base_url,
        "budget_usd": session_budget().budget_usd,
        "requests_per_minute": session_allowance().per_minute,
    }


def prices() -> Prices:
    """The prices in use: the table's, SORA_WIDGET_PRICES over them, configure(prices=) over both."""
    return effective_prices(_defaults.get("prices"))


def estimate(*, model: str = DEFAULT_MODEL, **fields: Any) -> Estimate:
    """What one clip will cost, before anything is sent: `.usd`, and `.basis` (where the
    price comes from, and its date). `fields`: the request's values the price may depend on
    (duration, size, sound, resolution, …), the model's defaults where not given;
    `InvalidParams` for a value the model does not offer."""
    return cost_estimate(model=model, prices=prices(), **fields)


def spend() -> Spend:
    """This kernel's spend: `.usd`, `.jobs`, `.budget_usd`, `.remaining_usd`."""
    return session_budget().spend()


class Catalogue(list[Model]):
    """`sw.models()`: the catalogued models, the default first, shown as a table — what
    each takes, costs and takes in time, whether it has sound — with what the API in use
    said of each in this kernel (answered: it took a job; refused: retired or unknown)."""

    def __init__(self, models: list[Model], seen: dict[str, str]) -> None:
        super().__init__(models)
        #: model → "answered" / "refused" by the API in use, this session
        self.seen = seen

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "model": m.name,
                "takes": ", ".join(f.name for f in m.fields),
                "durations": "/".join(map(str, m.durations)) + " s",
                "price": _price_text(m),
                "typical": f"~{m.typical_latency_s:.0f} s",
                "sound": m.sound,
                "here": self.seen.get(m.name, "not asked yet"),
            }
            for m in self
        ]

    def __repr__(self) -> str:
        rows = self.rows()
        widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in rows[0]}
        line = "  ".join(k.ljust(w) for k, w in widths.items())
        body = ["  ".join(r[k].ljust(w) for k, w in widths.items()) for r in rows]
        return "\n".join([line, *body, f"(prices and parameters read from Segmind's pages on {READ_ON})"])

    def _repr_html_(self) -> str:
        rows = self.rows()
        head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>" for r in rows
        )
        note = html.escape(f"Prices and parameters read from Segmind's pages on {READ_ON}.")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table><p>{note}</p>"


def _price_text(model: Model) -> str:
    rule = model.price
    per = "/s" if rule.per == "second" else " a clip"
    prices = [f"${usd:g}{per}" if key == "*" else f"{key} ${usd:g}{per}" for key, usd in rule.usd.items()]
    return "; ".join(prices)


def models() -> Catalogue:
    """The catalogue: every model this project speaks, the default first — what each takes
    (`fields`, `durations`, `sizes`), costs (`price`), takes in time (`typical_latency_s`)
    and whether it has sound; read from Segmind's pages on `params.READ_ON`. Shown as a
    table, with what the API in use said of each model in this kernel."""
    seen: dict[str, str] = {model: s.state for model, s in SIGHTINGS.of(current_api_name()).items()}
    return Catalogue(list(MODELS.values()), seen)


def client(**overrides: Any) -> AsyncSoraClient:
    """A new AsyncSoraClient with the process defaults; close it when done."""
    unknown = set(overrides) - _CLIENT_OPTIONS - {"limiter", "model", "observers", "prices", "api_name"}
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(_CLIENT_OPTIONS)}")
    # in a kernel, every job event also reaches the notebook's metadata (through the
    # extension); a client the user makes with AsyncSoraClient(...) decides for itself
    settings = {"observers": kernel_observers(), **_defaults, **overrides}
    if _is_embedded_emulator(settings.get("base_url")):
        settings.setdefault("api_name", EMULATOR_NAME)
    if settings.get("prices") is not None:  # the user's prices over the table's
        settings["prices"] = effective_prices(settings["prices"])
    return AsyncSoraClient(**settings)


#: one client per event loop and settings, shared by every widget and magic of a kernel
#: (so its connection pool, learned latencies and rate limiter are shared too)
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], AsyncSoraClient]] = (
    weakref.WeakKeyDictionary()
)


def _close_shared_clients() -> None:
    """At exit, close the kernel's clients whose loop is still usable (connections,
    the ledger's database); a loop already closed took its sockets with it."""
    for loop, clients in list(_shared.items()):
        if loop.is_closed() or loop.is_running():
            continue
        for found in clients.values():
            with contextlib.suppress(Exception):
                loop.run_until_complete(found.aclose())


atexit.register(_close_shared_clients)


def _is_embedded_emulator(base_url: str | None) -> bool:
    return _emulator is not None and resolve_base_url(base_url) == _emulator.base_url


def current_api_name() -> str:
    """What the API in use is called in records (its host; "emulator" for the embedded one)."""
    base_url = _defaults.get("base_url")
    return EMULATOR_NAME if _is_embedded_emulator(base_url) else api_host(resolve_base_url(base_url))


def shared_client() -> AsyncSoraClient:
    """The kernel-wide client for the running loop and the current settings (arguments
    to `configure`, then the environment): one per API, key and output dir."""
    per_loop = _shared.setdefault(asyncio.get_running_loop(), {})
    key = _settings_key()
    found = per_loop.get(key)
    if found is None or found.http.is_closed:
        found = per_loop[key] = client()
    return found


async def kernel_client() -> AsyncSoraClient:
    """`shared_client()` for a coroutine: the first client's TLS roots load in a thread,
    not on the kernel's loop."""
    await prepare_tls()
    return shared_client()


def _settings_key() -> tuple[str, ...]:
    api_key = resolve_api_key(_defaults.get("api_key")) or ""
    return (
        resolve_base_url(_defaults.get("base_url")),
        # the key itself never sits in a dict key that a debugger or repr could show
        hashlib.sha256(api_key.encode()).hexdigest(),
        str(resolve_output_dir(_defaults.get("output_dir")).resolve()),
        *sorted(f"{k}={v}" for k, v in _defaults.items() if k not in ("api_key", "base_url", "output_dir")),
    )


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(the request's fields, the job's options, the client's options) of a call's keyword
    arguments. A name that is none of them — nor any catalogued model's own option — is a
    `TypeError` naming what is allowed."""
    fields = {k: options[k] for k in options if k in REQUEST_FIELDS}
    job = {k: options[k] for k in options if k in _JOB_OPTIONS}
    settings = {k: options[k] for k in options if k in _CLIENT_OPTIONS}
    unknown = set(options) - set(fields) - set(job) - set(settings) - {"client"}
    if unknown:
        allowed = sorted(_CLIENT_OPTIONS | _JOB_OPTIONS | {"client"} | REQUEST_FIELDS)
        raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {allowed}")
    return fields, job, settings


async def agenerate(prompt: str | Request, **options: Any) -> Generation:
    """Generate one clip and save it; returns its record. See `generate`."""
    own_client: AsyncSoraClient | None = options.pop("client", None)
    fields, job_options, settings = split_options(options)
    # validated here, at the edge: everything after passes the request value
    if isinstance(prompt, Request):
        request = prompt.derive(**fields) if fields else prompt
    else:
        request = params.validate(prompt, **fields)
    if "notebook" not in job_options:
        job_options["notebook"] = cell_context()
    job_options.setdefault("reuse", True)
    if own_client is not None:
        record = await own_client.generate(request, **job_options)
    elif not settings and in_kernel():
        # the kernel's client: its pool, rate limiter and learned latencies serve every
        # call, and a submit cut off by an interrupt finishes on it in the background
        record = await (await kernel_client()).generate(request, **job_options)
    else:
        async with client(**settings) as c:
            record = await c.generate(request, **job_options)
    if record.note:  # reused, attached, or generated again: the cell says so
        print(f"sora-widget: {record.note}")
    return record


def generate(prompt: str | Request, **options: Any) -> Generation:
    """Generate one clip, wait for it and save it under the output dir; returns its record.

    Blocks until done — also inside a notebook, where other jobs on the kernel's loop keep
    running meanwhile. The request: `model` (one of `sw.models()`; "sora-2" by default),
    `duration`, `size` (or `aspect_ratio` and `resolution`), `first_frame` (or
    `input_reference`), `last_frame`, `sound`, `seed` — each where the model takes it — and
    the model's own options by their names; a value it does not take is `InvalidParams`
    before anything is sent. Options: timeout (s, default params.DEFAULT_TIMEOUT_S = 900),
    on_update (called with the record at each change), save_to, take, reuse, api_key,
    base_url, output_dir, client.

    The notebook is a cache: the same request (API host, model, every value, reference
    images by their bytes, `take`) asked again returns the clip it already made — nothing
    sent, nothing billed — or waits for it while it runs (`reuse=False` always submits;
    `take=2` asks for a second take). The cell says which happened.
    """
    watch = Watch()
    options["on_update"] = watch.tee(options.get("on_update"))
    return run_blocking(agenerate(prompt, **options), explain=watch.explain)


def ledger(output_dir: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Ledger:
    """The ledger of the output dir in use (or of `output_dir`); `read_only` to list or
    export it (the folder is left as it is, even when it came from someone else)."""
    return Ledger.in_dir(resolve_output_dir(output_dir or _defaults.get("output_dir")), read_only=read_only)


def pending(output_dir: str | os.PathLike[str] | None = None) -> list[Generation]:
    """What may still be worth collecting (within the hour the API keeps results): jobs
    the server accepted that were not seen finished or saved, and submits whose outcome
    is unknown (status UNKNOWN: they may be running and billed; their request id was
    never heard).

    First, for the output dir in use and with an API key, every submit whose answer was
    lost is looked for in the account's request history: found, it is listed as the job it
    is (and `resume()` collects it); certainly never taken, it is NOT_SUBMITTED (nothing
    billed) and no longer listed; what the history cannot settle stays UNKNOWN. A folder
    named by `output_dir` (someone else's, perhaps) is only read."""
    if output_dir is None and resolve_api_key(_defaults.get("api_key")) is not None and _has_lost_submits():
        resolved = run_blocking(_resolve_lost_submits())
        for record in resolved:
            if record.status != "UNKNOWN":
                print(f"sora-widget: {_settled(record)}")
    return ledger(output_dir, read_only=True).pending()


async def _resolve_lost_submits() -> list[Generation]:
    """Ask the request history about this ledger's lost submits."""
    try:
        if in_kernel():
            return await (await kernel_client()).resolve_lost_submits()
        async with client() as c:
            return await c.resolve_lost_submits()
    except SoraError:  # no key after all, an unusable setting: listed as they are
        return []


def _has_lost_submits() -> bool:
    book = ledger(read_only=True)
    try:
        return bool(book.lost_submits(current_api_name()))
    finally:
        book.close()


def _settled(record: Generation) -> str:
    if record.status == "NOT_SUBMITTED":
        return (
            f"the submit of {record.id} ({shorten(record.params.prompt, 40)!r}) never reached Segmind "
            "(its request history has no such request): nothing was billed; run it again to submit it."
        )
    return (
        f"the submit of {record.id} whose answer was lost is request {record.request_id} "
        f"({record.status}), found in Segmind's request history: sw.resume() collects it."
    )


async def aresume(request_id: str | None = None, **options: Any) -> Generation | list[Generation]:
    """Finish one job by request id, or every pending one. See `resume`."""
    job_options = {k: options.pop(k) for k in ("timeout", "on_update") if k in options}
    if not options and in_kernel():
        return await (await kernel_client()).resume(request_id, **job_options)
    async with client(**options) as c:
        return await c.resume(request_id, **job_options)


def resume(request_id: str | None = None, **options: Any) -> Generation | list[Generation]:
    """Finish a job that was submitted but not saved — after a kernel restart, a timeout
    or "Stop waiting". With no id, every pending job in the ledger, and every submit whose
    answer was lost that the account's request history finds. A result past the hour the
    API serves it is fetched from the video URL the request history names, while that
    answers; a request id the ledger does not hold is imported from the history first."""
    watch = Watch(
        idle="Stopped waiting. The jobs keep running on the server (and are billed); "
        "sw.resume() collects them within the hour."
    )
    options["on_update"] = watch.tee(options.get("on_update"))
    return run_blocking(aresume(request_id, **options), explain=watch.explain)


# -- the account's request history ---------------------------------------------------------------


class AccountHistory(list["HistoryEntry"]):
    """`sw.history()`: the account's requests, newest first — made here or anywhere else (the
    web UI, other machines) — each marked with the generation of the local ledger that holds
    it, if one does. Shown as a table; `sw.import_request(entry)` writes one into the ledger."""

    def __init__(self, entries: list[HistoryEntry], *, complete: bool, days: int) -> None:
        super().__init__(entries)
        #: False when the account has more requests in the window than were read
        self.complete = complete
        self.days = days

    def rows(self) -> list[dict[str, str]]:
        return [entry.cells() for entry in self]

    def __repr__(self) -> str:
        if not self:
            return f"(no requests in the last {self.days} day(s))"
        rows = self.rows()
        widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in rows[0]}
        lines = ["  ".join(k.ljust(w) for k, w in widths.items())]
        lines += ["  ".join(r[k].ljust(w) for k, w in widths.items()) for r in rows]
        if not self.complete:
            lines.append("(more requests than were read: narrow the window with days= or model=)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self:
            return f"<p>{html.escape(repr(self))}</p>"
        rows = self.rows()
        head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>" for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


class HistoryEntry:
    """One request of the account's history (`row`, as Segmind lists it) and the local
    generation holding it (`generation_id`; None: not in this ledger)."""

    def __init__(self, row: HistoryRow, generation_id: str | None) -> None:
        self.row = row
        self.generation_id = generation_id

    request_id = property(lambda self: self.row.request_id)
    model = property(lambda self: self.row.model)
    status = property(lambda self: self.row.status)
    usd = property(lambda self: self.row.usd)
    prompt = property(lambda self: self.row.prompt)
    generation_url = property(lambda self: self.row.generation_url)

    @property
    def in_ledger(self) -> bool:
        return self.generation_id is not None

    def cells(self) -> dict[str, str]:
        """The entry as a table row: everything from the server made safe to print."""
        row = self.row
        return {
            "created": row.created_at.strftime("%Y-%m-%d %H:%M") if row.created_at else "?",
            "model": terminal_safe(shorten(row.model or "?", 30)),
            "status": terminal_safe(row.status or "?"),
            "usd": f"${row.usd:.2f}" if row.usd is not None else "?",
            "request id": terminal_safe(shorten(row.request_id, 40)),
            "here": f"ledger {self.generation_id}" if self.generation_id else "-",
            "prompt": terminal_safe(shorten(row.prompt or "", 50)),
        }

    def __repr__(self) -> str:
        return "<HistoryEntry " + " · ".join(v for v in self.cells().values() if v) + ">"


async def ahistory(days: int = 7, model: str | None = None, **options: Any) -> AccountHistory:
    """The account's requests of the last `days` days. See `history`."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise InvalidParams("days", days, f"a whole number of days from 1 to {MAX_WINDOW_DAYS}")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidParams("model", model, "a model's name (or a part of one), or None for every model")

    async def read(c: AsyncSoraClient) -> AccountHistory:
        rows, complete = await c.history_rows(days, model=model)
        holders = await asyncio.to_thread(c.ledger.holders, [row.request_id for row in rows])
        entries = [HistoryEntry(row, holders.get(row.request_id)) for row in rows]
        return AccountHistory(entries, complete=complete, days=days)

    if not options and in_kernel():
        return await read(await kernel_client())
    async with client(**options) as c:
        return await read(c)


def history(days: int = 7, model: str | None = None, **options: Any) -> AccountHistory:
    """The account's requests of the last `days` days (1 to 31), newest first, as Segmind's
    request history lists them — those made here, in other notebooks, the web UI or on
    other machines — with their status, charge and prompt, each marked with the local
    generation that holds it (`.generation_id`; None: not in this ledger). `model`: only
    models whose name contains it. `sw.import_request(entry)` writes one into the ledger
    (then `sw.resume(entry.request_id)` saves its clip while its URL answers)."""
    return run_blocking(ahistory(days, model, **options))


async def aimport_request(row_or_id: HistoryEntry | HistoryRow | str, **options: Any) -> Generation:
    """See `import_request`."""
    target = row_or_id.row if isinstance(row_or_id, HistoryEntry) else row_or_id
    if not options and in_kernel():
        return await (await kernel_client()).import_request(target)
    async with client(**options) as c:
        return await c.import_request(target)


def import_request(row_or_id: HistoryEntry | HistoryRow | str, **options: Any) -> Generation:
    """Write one request of the account's history (an entry of `sw.history()`, or a request
    id) into the ledger: its model, inputs, status and charge. The record the ledger already
    holds when it holds one. `sw.resume(record.request_id)` then saves its clip."""
    return run_blocking(aimport_request(row_or_id, **options))


def find_generation(
    record_or_id: Generation | dict[str, Any] | str,
    *,
    notebook: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
) -> Generation:
    """A generation given as itself, as its saved dict, or by its id or request id —
    looked up in `notebook` (its outputs, metadata and ledger) or else in the ledger."""
    if isinstance(record_or_id, Generation):
        return record_or_id
    if isinstance(record_or_id, dict):
        return Generation.from_dict(record_or_id)
    key = str(record_or_id).strip()
    if notebook is not None:
        from .notebook import read_records

        candidates, where = read_records(notebook), f"the notebook {notebook}"
        for record in candidates:
            if key in (record.id, record.request_id):
                return record
    else:
        book = ledger(output_dir, read_only=True)
        where = f"the ledger {book.path}"
        found = book.get(key)
        if found is not None:
            return found
    raise LookupError(
        f"no generation {key!r} in {where}. Pass the record itself, its id or request id "
        "(`sw.read_records(notebook)` lists them), or notebook='….ipynb' to look in a notebook."
    )


async def areplay(
    record_or_id: Generation | dict[str, Any] | str,
    *,
    notebook: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Generation:
    """Generate again with identical parameters (`sw.replay`, in shots, adds lineage)."""
    original = find_generation(record_or_id, notebook=notebook, output_dir=options.get("output_dir"))
    options["replay_of"] = original.id
    options.setdefault("reuse", False)  # a replay asks for the clip to be made again
    p = original.params
    reference = options.pop("input_reference", None) or checked_replay_reference(p.input_reference)
    last = checked_replay_reference(p.last_frame, field="last_frame")
    return await agenerate(p.derive(input_reference=reference, last_frame=last), **options)


def use_emulator(**config: Any) -> Emulator:
    """Start the local emulator for this process (once) and send every call to it.

    Offline, free and synthetic: clips are rendered locally and labelled as such.
    Options are the emulator's (latency, workers, block_words, …).
    """
    global _emulator
    from . import emulator

    with _emulator_lock:
        if _emulator is None:
            # a few seconds per job: long enough to watch QUEUED → PROCESSING → COMPLETED
            _emulator = emulator.start(**{"latency": 3.0, **config})
        elif config:
            _emulator.configure(**config)
        _defaults["base_url"] = _emulator.base_url
        _defaults["api_key"] = EMULATOR_KEY
        # offline means offline: the emulator's own upload endpoint and request history,
        # whatever SEGMIND_UPLOAD_URL and SEGMIND_HISTORY_URL say
        _defaults["upload_url"] = f"{_emulator.base_url}/upload-asset"
        _defaults["history_url"] = _emulator.base_url
    return _emulator


def connect(**emulator_options: Any) -> str:
    """Use Segmind when SEGMIND_API_KEY is set, else the embedded emulator; says which.

    The same notebook then runs unchanged with a real key (real clips, billed) and
    without one (synthetic clips, offline, free).
    """
    if resolve_api_key(_defaults.get("api_key")) is not None and _emulator is None:
        where = resolve_base_url(_defaults.get("base_url"))
        message = (
            f"Using the Segmind API at {where}: clips are generated by the model you choose "
            "(sora-2 unless told) and billed."
        )
    else:
        handle = use_emulator(**emulator_options)
        message = (
            f"No SEGMIND_API_KEY: using the local emulator at {handle.base_url}. "
            "Clips are synthetic (rendered locally, labelled as such), offline and free."
        )
    print(message)
    return message


def embedded_emulator() -> Emulator | None:
    return _emulator
