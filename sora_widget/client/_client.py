"""AsyncSoraClient: submit · status · result · wait · download · resume, over httpx.

Every step is written to the ledger as it happens — before the submit is sent, the
moment the request id is known, at each status change, on completion and on failure —
so nothing paid for is lost to a crash. Waiting polls on the schedule of `_policy`,
on whatever event loop is running (the kernel's own, in a notebook).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from ..checks import check_job, check_on_update, check_output_dir
from ..cost import Budget, Estimate, Prices, effective_prices, estimate_request, session_budget
from ..errors import (
    AuthenticationError,
    GenerationFailed,
    GenerationTimeout,
    InvalidParams,
    ModelUnavailable,
    NetworkError,
    RequestExpired,
    ServerError,
    SoraError,
    SubmitOutcomeUnknown,
    UnexpectedResponse,
)
from ..ledger import Ledger, Observer
from ..ledger._writers import SUBMITS_UNDER_WAY
from ..params import (
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    IMAGE_TYPES,
    MAX_REFERENCE_BYTES,
    Request,
    reference_kind,
    validate,
    validate_model,
)
from ..records import Generation, identity, new_id, parse_time, utcnow
from ._config import (
    API_KEY_ENV,
    api_host,
    display_path,
    origin,
    resolve_api_key,
    resolve_base_url,
    resolve_history_url,
    resolve_output_dir,
    resolve_upload_url,
)
from ._download import download
from ._errors import json_of
from ._history import HistoryPolicy, HistoryRow, RequestHistory
from ._http import default_tls, http_client
from ._journal import Journal
from ._latency import LatencyBook, note_phase
from ._naming import destination, submitted_locally, video_filename
from ._policy import (
    NOW,
    LatencyModel,
    PollPolicy,
    RetryPolicy,
    Turn,
    finish_chance,
    next_poll_delay,
    parse_retry_after,
    status_turn,
)
from ._provenance import versions
from ._ratelimit import AdaptiveLimiter, session_allowance
from ._requests import (
    MAX_DOWNLOADS,
    MAX_IN_FLIGHT,
    Allowance,
    Clock,
    Limiter,
    ReadDeadline,
    Requester,
    SubmitNotAccepted,
)
from ._resolve import SUBMIT_MAX_S, Inquiries
from ._results import failure_detail, failure_in_body, keep_figures, output_url, read_status
from ._reuse import Reuse, check_take, explain, find_reusable, next_take, request_key
from ._sightings import SIGHTINGS, served_by

log = logging.getLogger(__name__)

OnUpdate = Callable[[Generation], Any]
Job = Generation | str


class AsyncSoraClient:
    """A client for Segmind's video API (every catalogued model). Use it as an async context
    manager, or `aclose()` it.

    The API key comes from `api_key` or `SEGMIND_API_KEY`; it is sent to the API, its
    upload endpoint and the account's request history only (`history_url`: Segmind's own
    history host for Segmind's API, else the API's; SEGMIND_HISTORY_URL names another),
    and never appears in records, the ledger, logs or errors.
    Every request of every job goes through one rate limiter (`limiter`, by default an
    `AdaptiveLimiter` that learns the API's limit from its 429s) and the kernel's cap on
    requests a minute (`allowance`, by default the process's: `sw.configure(
    requests_per_minute=…)`, SORA_WIDGET_RPM; none unless set), under which status checks
    go where a finish is likeliest.

    The request history (`history`, its `HistoryPolicy`) settles what the API's answers
    left open: a submit whose answer was lost is found there (and becomes that job) or is
    certainly absent (NOT_SUBMITTED: nothing billed); a finished job's cost becomes the
    charge it names; a result past the hour the API serves it is fetched from the
    `generation_url` it names.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        upload_url: str | None = None,
        request_timeout: float = 30.0,
        clock: Clock | None = None,
        limiter: Limiter | None = None,
        model: str = DEFAULT_MODEL,
        observers: Iterable[Observer] = (),
        budget: Budget | None = None,
        prices: Prices | None = None,
        api_name: str | None = None,
        history_url: str | None = None,
        history: HistoryPolicy | None = None,
        allowance: Allowance | None = None,
    ) -> None:
        self._api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        self.upload_url = resolve_upload_url(self.base_url, upload_url)
        #: where the account's request history is read (the key goes there too)
        self.history_url = resolve_history_url(self.base_url, history_url)
        self.output_dir = resolve_output_dir(output_dir)
        #: every job event of this client goes through it (and to its `observers`)
        self.ledger = Ledger.in_dir(self.output_dir, observers)
        self.poll = poll or PollPolicy()
        #: the model of this client's jobs unless a job names another
        self.model = validate_model(model)
        #: this kernel's spend and budget (every client of a process shares it by default)
        self.budget = budget if budget is not None else session_budget()
        #: model → size → US dollars per second; None: the table's, under the user's own
        self.prices = prices
        #: what records, request identities and learned latencies call this API: its host,
        #: or `api_name` (the embedded emulator is "emulator" whatever port it took, so a
        #: restarted kernel finds the clips an identical request made before)
        self.api_host = api_name or api_host(self.base_url)
        self._owns_http = http is None
        if http is None:
            tls = default_tls()
            http = http_client(request_timeout, MAX_IN_FLIGHT, tls)
            # downloads stream on a pool of their own: httpcore checks every connection of a
            # pool on each request, so two small pools cost less than one of both sizes
            self.download_http = http_client(request_timeout, MAX_DOWNLOADS, tls)
        else:
            self.download_http = http
        self.http = http
        self.clock = clock or Clock()
        self.limiter: Limiter = limiter if limiter is not None else AdaptiveLimiter(self.clock)
        #: the cap on requests a minute this client shares with the kernel's others
        self.allowance: Allowance = allowance if allowance is not None else session_allowance()
        self.requester = Requester(
            self.http,
            download_http=self.download_http,
            api_key=self._api_key,
            api_origins={origin(self.base_url), origin(self.upload_url), origin(self.history_url)},
            retry=retry or RetryPolicy(),
            clock=self.clock,
            limiter=self.limiter,
            allowance=self.allowance,
            on_credits=self.budget.note_credits,
        )
        #: latencies of past jobs on this API, which the poll schedule learns from
        self.latencies = LatencyBook(self.ledger, self.api_host, self.poll)
        #: every job event goes through it, and a job's end settles its cost
        self.journal = Journal(self.ledger, self.budget)
        #: the account's request history, and what its answers mean for our jobs
        self.history = RequestHistory(self.requester, self.history_url, history)
        self.inquiries = Inquiries(self.history, self.ledger, self.journal, self.clock, self.api_host)
        #: submits under way (held strongly: asyncio keeps tasks only weakly)
        self._sending: set[asyncio.Future[None]] = set()
        #: the same, by the id of the generation they submit
        self._submitting: dict[str, asyncio.Future[None]] = {}
        #: `generate` calls between their first step and their submit's answer
        self._starting = asyncio.Semaphore(MAX_STARTING)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    def __repr__(self) -> str:
        key = "set" if self._api_key else "not set"
        return (
            f"AsyncSoraClient(base_url={self.base_url!r}, output_dir={str(self.output_dir)!r}, api key {key})"
        )

    async def __aenter__(self) -> AsyncSoraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections, once every submit under way has its answer."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        if self._owns_http:
            await self.http.aclose()
            await self.download_http.aclose()
        self.ledger.close()

    # -- the API ----------------------------------------------------------------------------

    def request(self, request: Request | str, **fields: Any) -> Request:
        """The request value of a call: `request` itself, or a prompt and the fields a
        caller gave (checked against the model: `InvalidParams` before anything is sent).
        The model is this client's unless `fields` name one."""
        if isinstance(request, Request):
            if fields:
                raise TypeError(f"a Request says everything itself; not also {sorted(fields)}")
            return request
        model = fields.pop("model", None)
        return validate(request, model=model if model is not None else self.model, **fields)

    async def submit(
        self, request: Request | str, *, on_update: OnUpdate | None = None, **arguments: Any
    ) -> Generation:
        """Send a job; returns its record with the request id. Nothing is sent if the
        parameters are invalid (`InvalidParams`), no API key is set, or the clip would pass
        this kernel's budget (`BudgetExceeded`). `arguments`: the job's context (see
        `prepare`) and, with a prompt, the request's fields."""
        check_on_update(on_update)
        record = self.prepare(request, **arguments)
        return await self.submit_prepared(record, on_update=on_update)

    def prepare(
        self,
        request: Request | str,
        *,
        take: int | str = 1,
        notebook: dict[str, str] | None = None,
        replay_of: str | None = None,
        batch: dict[str, Any] | None = None,
        derived_from: dict[str, str] | None = None,
        check_budget: bool = True,
        reference_source: str | None = None,
        reference_digest: str | None = None,
        **fields: Any,
    ) -> Generation:
        """Build the record of a job without sending anything, so a caller (the widget) can
        show the job before its first request. `request`: a `Request` (`params.validate`), or
        a prompt and its `fields` (model, duration, size, first_frame, …; the model is this
        client's unless given). `take`: which take of the same request this is (1, 2, …, or
        "next": the first take this API has no generation of — see `records.identity`);
        `notebook`, `replay_of`, `batch`, `derived_from` are recorded with it, and
        `reference_source` (where an uploaded first frame came from, e.g. "last frame of …").
        `reference_digest`: the first frame's bytes' sha256 when its URL names bytes we sent
        (a shot's uploaded last frame): the request is then the same whatever URL the upload
        was given, so a re-run finds it.

        Raises `InvalidParams` (a value the model does not accept), `AuthenticationError`
        (no key) or `BudgetExceeded` (its estimate would pass the budget) — all before any
        request."""
        chosen = self.request(request, **fields)
        self._require_key()
        check_output_dir(self.output_dir)
        guess = self.estimate(chosen)
        if check_budget:
            self.budget.check(guess.usd)
        key = request_key(self.api_host, chosen, first_frame_digest=reference_digest)
        which = next_take(self.ledger, key) if take == "next" else check_take(take)
        return Generation(
            id=new_id(),
            params=chosen,
            model=chosen.model,
            api_host=self.api_host,
            versions=versions(),
            notebook=notebook,
            replay_of=replay_of,
            batch=batch,
            derived_from=derived_from,
            reference_source=reference_source,
            take=which,
            identity=identity.identity(key, which),
            cost={"usd": guess.usd, "source": "estimate"},
        )

    async def find_reusable(self, record: Generation) -> Reuse | None:
        """What the ledger knows of `record`'s request identity and what to do about it
        (see `_reuse.find_reusable`); None: never asked. An earlier attempt whose submit's
        answer was lost is first looked for in the request history: found, it is attached
        to; certainly never submitted, it answers nothing (submit again)."""
        found = await find_reusable(self.ledger, self.output_dir, record, self._submitting)
        if found is not None and found.kind == "unknown" and found.record.status == "UNKNOWN":
            await self.inquiries.resolve(found.record)
            if found.record.status != "UNKNOWN":
                return await find_reusable(self.ledger, self.output_dir, record, self._submitting)
        return found

    def estimate(self, request: Request) -> Estimate:
        """What `request` will cost, at this client's prices."""
        prices = self.prices if self.prices is not None else effective_prices()
        return estimate_request(request, prices=prices)

    async def submit_prepared(self, record: Generation, *, on_update: OnUpdate | None = None) -> Generation:
        """Upload a local reference if there is one, write the ledger entry, then POST.

        The POST runs as a task of its own, shielded: cancelling the caller ("Stop
        waiting", an interrupt, a closed widget) cannot cut off a submit the server may
        already have taken. It finishes in the background, and its request id (or an
        UNKNOWN outcome) reaches the ledger; `aclose()` waits for it."""
        # the estimate is counted against the budget before anything is sent
        self.budget.reserve(record.id, (record.cost or {}).get("usd", 0.0))
        SUBMITS_UNDER_WAY.add(record.id)  # this process may still hear the answer
        try:
            record.submitted_at = record.submitted_at or utcnow()
            record.set_status("SUBMITTING", at=record.submitted_at)
            await _notify(on_update, record)
            sending = asyncio.ensure_future(self._send(record))
        except BaseException:
            SUBMITS_UNDER_WAY.discard(record.id)
            raise
        sending.add_done_callback(lambda _: SUBMITS_UNDER_WAY.discard(record.id))
        self._sending.add(sending)
        self._submitting[record.id] = sending
        sending.add_done_callback(lambda _: self._submitting.pop(record.id, None))
        sending.add_done_callback(self._sent)
        await asyncio.shield(sending)
        await _notify(on_update, record)
        return record

    async def claim_and_submit(
        self, record: Generation, claim: tuple[str, int, str], *, on_update: OnUpdate | None = None
    ) -> str | None:
        """Submit a batch item only if this run wins its claim `(batch id, item, after)`
        in the ledger; returns None when submitted, else the id of the generation another
        run (a kernel, a concurrent call) holds it with — then nothing is sent."""
        SUBMITS_UNDER_WAY.add(record.id)  # before the claim: a follower must see us alive
        try:
            record.submitted_at = utcnow()
            holder = await asyncio.to_thread(self.ledger.claim, *claim, record)
        except BaseException:
            SUBMITS_UNDER_WAY.discard(record.id)
            raise
        if holder is not None:
            SUBMITS_UNDER_WAY.discard(record.id)
            return holder
        await self.submit_prepared(record, on_update=on_update)
        return None

    def _sent(self, sending: asyncio.Future[None]) -> None:
        self._sending.discard(sending)
        if not sending.cancelled():
            sending.exception()  # seen: its outcome is in the record and the ledger

    async def _send(self, record: Generation) -> None:
        try:
            await self._post(record)
        except BaseException:
            if record.status == "SUBMITTING":  # failed before the POST left: nothing billed
                self.budget.release(record.id)
            raise

    async def _post(self, record: Generation) -> None:
        try:
            # local images go up first; the request then names them by their URLs
            for name in ("input_reference", "last_frame"):
                image = getattr(record.params, name)
                if image is not None and reference_kind(image) == "path":
                    if name == "input_reference":
                        record.reference_source = display_path(Path(image))
                    uploaded = await self.upload(image)
                    record.params = (
                        replace(record.params, input_reference=uploaded)
                        if name == "input_reference"
                        else replace(record.params, last_frame=uploaded)
                    )
            await self._log("submitting", record)
            started = self.clock.now()
            response = await self.requester.submit(
                f"{self.base_url}/v2/{record.model}", record.params.payload()
            )
        except SubmitNotAccepted as exc:
            error = SubmitOutcomeUnknown(
                f"the submit got no definite answer ({exc.reason}); the job may be running and billed",
                ledger_id=record.id,
                http_status=exc.http_status,
            )
            await self.journal.fail(record, "UNKNOWN", error)
            await self._settle_lost(record, error, exc)  # returns when the history found the job
            return
        except SoraError as exc:
            # A definite refusal (400/401/403/404/406, or 429 after retries): nothing billed.
            if isinstance(exc, ModelUnavailable):
                gone = self._model_gone(record.model, exc)
                await self.journal.fail(record, "FAILED", gone, event="rejected")
                raise _attach(gone, record) from exc
            await self.journal.fail(record, "FAILED", exc, event="rejected")
            _attach(exc, record)
            raise
        record.timings["submit_s"] = round(self.clock.now() - started, 3)
        record.synthetic = "x-sora-emulator" in response.headers
        body = _json(response)
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            error = SubmitOutcomeUnknown(
                "the submit was answered without a request id; the job may be running and billed",
                ledger_id=record.id,
                http_status=response.status_code,
            )
            await self.journal.fail(record, "UNKNOWN", error)
            await self._settle_lost(record, error, None)
            return
        record.request_id = request_id
        SIGHTINGS.answered(self.api_host, record.model)
        status = body.get("status")
        record.set_status(status if status in ("QUEUED", "PROCESSING") else "QUEUED")
        await self._log("submitted", record)

    async def _settle_lost(
        self, record: Generation, unknown: SubmitOutcomeUnknown, cause: BaseException | None
    ) -> None:
        """A submit's answer was lost: ask the request history (for a while: it may list a
        request a little late). Found, the record is that job and this returns; certainly
        absent, the record is NOT_SUBMITTED and the error says nothing was billed; else it
        stays UNKNOWN and `unknown` is raised, saying why."""
        resolution = await self.inquiries.resolve(record, patience=self.history.policy.inline_patience_s)
        if resolution.verdict == "found" and record.request_id:
            SIGHTINGS.answered(self.api_host, record.model)
            return
        if record.status == "NOT_SUBMITTED":
            said = (record.error or {}).get("message", "")
            hint = (record.error or {}).get("hint")
            status = unknown.http_status
            error: SoraError = (
                ServerError(f"HTTP {status} while submitting the job: {said}", http_status=status, hint=hint)
                if status is not None and status >= 500
                else NetworkError(f"no answer while submitting the job: {said}", hint=hint)
            )
            raise _attach(error, record) from cause
        unknown.detail = (record.error or {}).get("detail")
        unknown.hint = (record.error or {}).get("hint") or unknown.hint
        raise _attach(unknown, record) from cause

    async def resolve_lost_submits(self) -> list[Generation]:
        """Ask the request history about every submit of this ledger (on this API) whose
        answer was lost — UNKNOWN, or cut off while SUBMITTING by a process that is gone —
        and act on what it says (see `_resolve.Inquiries.resolve`); their records."""
        lost = await asyncio.to_thread(self.ledger.lost_submits, self.api_host)
        asked = []
        for record in lost:
            if record.status == "SUBMITTING":
                if not await self._cut_off(record):
                    continue  # its own process may still hear the answer
                await self.mark_unknown(record, PROCESS_STOPPED)
            await self.inquiries.resolve(record)
            asked.append(record)
        return asked

    async def resolve_unknown(self, record: Generation) -> Generation:
        """Ask the request history about one submit whose answer was lost; the record,
        changed as the answer says (a job, NOT_SUBMITTED, or still UNKNOWN)."""
        await self.inquiries.resolve(record)
        return record

    async def _cut_off(self, record: Generation) -> bool:
        if record.submitted_at is None:
            return True
        age = (datetime.now(timezone.utc) - parse_time(record.submitted_at)).total_seconds()
        return age > SUBMIT_MAX_S or await asyncio.to_thread(self.ledger.submit_cut_off, record.id)

    async def history_rows(self, days: int = 7, *, model: str | None = None) -> tuple[list[HistoryRow], bool]:
        """The account's requests of the last `days` days (newest first), from its request
        history, and whether that is all of them."""
        self._require_key()
        return await self.history.recent(days, model=model, today=datetime.now(timezone.utc).date())

    async def import_request(self, row_or_id: HistoryRow | str) -> Generation:
        """The ledger's record of a request of the account's history (a row of
        `history_rows`, or a request id): the one it holds, or one written from the row."""
        self._require_key()
        if isinstance(row_or_id, HistoryRow):
            return await self.inquiries.import_row(row_or_id)
        return await self.inquiries.import_request(row_or_id)

    def _model_gone(self, model: str, refused: ModelUnavailable) -> ModelUnavailable:
        """The API will not make `model` (retired or unknown): said in words, with the
        catalogued models to try, and remembered for the session (the widget marks it)."""
        SIGHTINGS.refused(self.api_host, model, refused.available)
        others = SIGHTINGS.alternatives(self.api_host, model, refused.available)
        error = ModelUnavailable(
            f"{served_by(self.api_host)} no longer serves {model} ({refused.message})",
            available=others,
            http_status=refused.http_status,
            detail=refused.detail,
        )
        error.hint = (
            f"Try another model: {', '.join(others) or 'none is listed'} "
            "(model=…, %sora -m …, the widget's Model menu; sw.models() says what each takes)."
        )
        return error

    async def status(self, job: Job) -> str:
        """The job's status now (QUEUED, PROCESSING, COMPLETED or FAILED). A Generation
        passed in is updated in place."""
        status, _retry_after = await self._check_status(await self._record(job))
        return status

    async def _read_job(
        self,
        request_id: str,
        suffix: str,
        kind: str,
        during: str,
        *,
        deadline: float | None = None,
        turn: Turn = NOW,
    ) -> httpx.Response:
        """GET one of a job's resources (`/v2/requests/{id}` + `suffix`); a FAILED job's
        answer is 422, an answer like any other here."""
        return await self.requester.read(
            "GET",
            f"{self.base_url}/v2/requests/{request_id}{suffix}",
            kind=kind,
            during=during,
            request_id=request_id,
            accept=(422,),
            deadline=deadline,
            turn=turn,
        )

    async def _check_status(
        self, record: Generation, *, deadline: float | None = None, turn: Turn = NOW
    ) -> tuple[str, float | None]:
        request_id = _request_id(record)
        response = await self._read_job(
            request_id, "/status", "status", "checking the job's status", deadline=deadline, turn=turn
        )
        body = _json(response)
        status = read_status(body, request_id=request_id)
        record.synthetic = record.synthetic or "x-sora-emulator" in response.headers
        keep_figures(record, body, response.headers)
        if status == "FAILED":
            record.error = _failure(body, request_id).to_dict()
        record.set_status(status)
        return status, parse_retry_after(response.headers.get("retry-after"))

    async def result(self, job: Job) -> dict[str, Any]:
        """The final response body (a FAILED job's body too: the API serves it as 422)."""
        body, _headers = await self._result(_request_id(await self._record(job)))
        return body

    async def _result(self, request_id: str) -> tuple[dict[str, Any], httpx.Headers]:
        response = await self._read_job(request_id, "", "result", "fetching the result")
        body = _json(response)
        if not isinstance(body, dict):
            raise UnexpectedResponse("the result is not a JSON object", request_id=request_id)
        return body, response.headers

    async def wait(
        self,
        job: Job,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_update: OnUpdate | None = None,
        save_to: str | os.PathLike[str] | None = None,
    ) -> Generation:
        """Poll until the job ends, then save the video. Returns the completed record.

        Raises `GenerationFailed` (FAILED, with the server's reason), `GenerationTimeout`
        (still running after `timeout` seconds: resumable), `RequestExpired`.
        """
        check_job(timeout=timeout, on_update=on_update, save_to=save_to)
        record = await self._record(job)
        request_id = _request_id(record)
        await self.latencies.learn(record)
        model = self.latencies.model_for(record)
        waited_from = self.clock.now()
        already = _seconds_since(record.submitted_at)
        checks = 0
        retry_after: float | None = None
        unfinished_at = 0.0  # the latest moment the job was known to be still running
        while record.status != "COMPLETED":
            now = self.clock.now()
            elapsed = already + (now - waited_from)
            delay = next_poll_delay(self.poll, model, elapsed, checks_done=checks, retry_after=retry_after)
            remaining = waited_from + timeout - now
            if remaining <= 0:
                raise await self._stopped_waiting(record, timeout)
            await self.clock.sleep(min(delay, remaining))
            before = record.status
            # under a cap on requests a minute, this check's turn weighs the chance that
            # the job ended since it was last seen running (every job's checks compete)
            turn = status_turn(_chance_since(model, self.poll, already, waited_from, unfinished_at))
            try:
                # bounded by the job's own timeout, not only httpx's per-read one
                status, retry_after = await self._check_status(
                    record, deadline=waited_from + timeout, turn=turn
                )
            except ReadDeadline:
                raise await self._stopped_waiting(record, timeout) from None
            except RequestExpired as exc:
                if await self._from_history(record, save_to=save_to):
                    await _notify(on_update, record)
                    return record
                await self.journal.fail(record, "EXPIRED", exc)
                _attach(exc, record)
                raise
            checks += 1
            record.timings["status_checks"] = record.timings.get("status_checks", 0) + 1
            checked_at = already + (self.clock.now() - waited_from)
            if status in ("QUEUED", "PROCESSING"):
                unfinished_at = checked_at
            if status != before:
                note_phase(record, status, elapsed=checked_at, unfinished_at=unfinished_at)
                await self._log("status", record)
                await _notify(on_update, record)
            if status == "FAILED":
                error = _failure_from_record(record, request_id)
                self.journal.costs_nothing(record, refused=False)
                await self._log("failed", record)
                raise _attach(error, record)
        await self.download(record, save_to=save_to)
        await _notify(on_update, record)
        return record

    async def _stopped_waiting(self, record: Generation, timeout: float) -> SoraError:
        await self._log("waiting stopped", record)
        return _attach(
            GenerationTimeout(
                f"the job was still {record.status} after waiting {timeout:g} s",
                request_id=_request_id(record),
            ),
            record,
        )

    async def download(
        self,
        job: Job,
        url: str | None = None,
        *,
        save_to: str | os.PathLike[str] | None = None,
        fetched_from_history: bool = False,
    ) -> Generation:
        """Save a COMPLETED job's video (under the output dir, or at `save_to`: a file
        path ending in .mp4 or a directory); checks its length and records its sha256.
        Once saved, its cost becomes what Segmind charged when the request history says."""
        record = await self._record(job)
        request_id = _request_id(record)
        # named for when the job was submitted, not downloaded: a download started again after
        # a crash or restart lands on the same name (and its partial files are found and swept)
        dest = destination(self.output_dir, save_to, video_filename(record, submitted_locally(record)))
        try:
            if url is None:
                body, headers = await self._result(request_id)
                keep_figures(record, body, headers)
                if failure_in_body(body) is not None:  # served as 422, or as 200
                    failed = _failure(body, request_id)
                    await self.journal.fail(record, "FAILED", failed)
                    raise _attach(failed, record)
                if read_status(body, request_id=request_id) != "COMPLETED":
                    raise UnexpectedResponse(
                        f"asked to download a job that is {body.get('status')}", request_id=request_id
                    )
                url = output_url(body, request_id=request_id)
            saved = await download(self.requester, url, dest, request_id=request_id)
        except GenerationFailed:
            raise  # recorded as FAILED above
        except RequestExpired as exc:
            # Finished, but its result is gone before we saved it: the request history may
            # still name its video (past the hour the API serves results)
            if not fetched_from_history and await self._from_history(record, save_to=save_to):
                return record
            await self.journal.fail(record, "EXPIRED", exc)
            _attach(exc, record)
            raise
        except SoraError as exc:
            record.error = exc.to_dict()
            try:
                await self._log("download failed", record)
            except OSError:  # the disk that refused the clip may refuse this line too
                log.warning("the ledger could not note a failed download of %s", request_id, exc_info=True)
            _attach(exc, record)
            raise
        record.video_path = display_path(saved.path)
        record.sha256 = saved.sha256
        record.bytes = saved.bytes
        record.video = saved.facts
        record.synthetic = record.synthetic or saved.synthetic
        record.error = None
        record.timings["download_s"] = saved.seconds
        record.set_status("COMPLETED")
        if record.cost is not None:  # the API's figure by now, when it gave one
            self.budget.settle(record.id, float(record.cost.get("usd", 0.0)))
        await self._log("completed", record)
        self.latencies.remember(record)
        await self.inquiries.real_cost(record)
        return record

    async def _from_history(self, record: Generation, *, save_to: str | os.PathLike[str] | None) -> bool:
        """A request whose result the API no longer serves (past the hour): when the request
        history names its video's URL and that URL still answers, the video is saved from
        there, checked as any download is. Whether it was. A job the history says FAILED is
        recorded so (`GenerationFailed`)."""
        request_id = _request_id(record)
        try:
            row = await self.history.get(request_id)
        except (SoraError, ReadDeadline):
            return False
        if row is None:
            return False
        if row.status == "FAILED":
            failed = _failure({"error": row.error}, request_id)
            await self.journal.fail(record, "FAILED", failed)
            raise _attach(failed, record)
        if row.status != "COMPLETED" or row.generation_url is None:
            return False
        if row.usd is not None:
            record.cost = {"usd": row.usd, "source": "segmind"}
        await self._log("found in history", record)
        try:
            await self.download(record, row.generation_url, save_to=save_to, fetched_from_history=True)
        except RequestExpired:
            return False  # its video is gone too
        return True

    async def resume(
        self,
        request_id: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_update: OnUpdate | None = None,
    ) -> Generation | list[Generation]:
        """Finish a job from the ledger (or any request id of this API). With no id,
        finish every pending job; their outcomes (errors included) are in the records."""
        check_job(timeout=timeout, on_update=on_update)
        if request_id is not None:
            return await self.wait(await self._resumed(request_id), timeout=timeout, on_update=on_update)
        # submits whose answer was lost: those the request history finds are collected too
        await self.resolve_lost_submits()
        pending = await asyncio.to_thread(self.ledger.resumable)
        results = await asyncio.gather(
            *(self.wait(record, timeout=timeout, on_update=on_update) for record in pending),
            return_exceptions=True,
        )
        finished = []
        for record, outcome in zip(pending, results, strict=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # cancellation and the like are not outcomes
            finished.append(record)
        return finished

    async def generate(
        self,
        request: Request | str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_update: OnUpdate | None = None,
        save_to: str | os.PathLike[str] | None = None,
        reuse: bool = False,
        **arguments: Any,
    ) -> Generation:
        """submit + wait: the saved clip's record. `arguments`: the job's context, recorded
        with it (take, notebook, replay_of, batch, derived_from, …: see `prepare`) and, with
        a prompt, the request's fields.

        `reuse`: first ask the ledger for the same request identity (see `find_reusable`):
        a saved, intact clip is returned at once (0 requests, 0 cost), a running job is
        waited for (no new submit), an attempt of unknown outcome raises
        `SubmitOutcomeUnknown` (nothing is resubmitted blindly), and a missing or changed
        clip is generated again. The returned record's `note` says which happened."""
        check_job(timeout=timeout, on_update=on_update, save_to=save_to)
        # Hundreds of calls gathered at once all take their first step in one iteration of
        # the loop: they only queue here, and a few at a time prepare and submit.
        async with self._starting:
            record = self.prepare(request, check_budget=not reuse, **arguments)
            found = await self.earlier(record) if reuse else None
            if found is None:
                await self.submit_prepared(record, on_update=on_update)
        if found is not None:  # answered by an earlier generation: reused, or attached to
            return await self._follow(found, timeout=timeout, on_update=on_update, save_to=save_to)
        return await self.wait(record, timeout=timeout, on_update=on_update, save_to=save_to)

    async def answer_from_earlier(
        self,
        record: Generation,
        *,
        timeout: float,
        on_update: OnUpdate | None,
        save_to: str | os.PathLike[str] | None,
    ) -> Generation | None:
        """Answer `record`'s request from an earlier generation of its identity, if one can:
        its saved clip, or the clip of its running job (waited for). None: submit it."""
        found = await self.earlier(record)
        if found is None:
            return None
        return await self._follow(found, timeout=timeout, on_update=on_update, save_to=save_to)

    async def _follow(
        self,
        found: Reuse,
        *,
        timeout: float,
        on_update: OnUpdate | None,
        save_to: str | os.PathLike[str] | None,
    ) -> Generation:
        """The earlier generation that answers a request: its saved clip, or its running job
        waited for."""
        await _notify(on_update, found.record)
        if found.kind == "attach":
            return await self.wait(found.record, timeout=timeout, on_update=on_update, save_to=save_to)
        return found.record

    async def earlier(self, record: Generation) -> Reuse | None:
        """`find_reusable`, said in words: the earlier record's `note` (reused, attached)
        or `record`'s (its earlier clip is unusable: made again — then None is returned).
        `SubmitOutcomeUnknown` when an earlier attempt may be running and billed."""
        found = await self.find_reusable(record)
        return None if found is None else explain(found, record)

    async def upload(self, path: str | os.PathLike[str]) -> str:
        """Upload a local image through the storage endpoint; returns its URL."""
        file = Path(path)
        data = await asyncio.to_thread(file.read_bytes)
        return await self.upload_bytes(data, IMAGE_TYPES[file.suffix.lower()])

    async def upload_bytes(self, data: bytes, mime: str) -> str:
        """Upload image bytes (as a data URL, like the official SDK); returns its URL."""
        if mime not in IMAGE_TYPES.values():
            raise InvalidParams("input_reference", mime, sorted(set(IMAGE_TYPES.values())))
        if len(data) > MAX_REFERENCE_BYTES:
            raise InvalidParams(
                "input_reference", f"{len(data)} bytes", f"at most {MAX_REFERENCE_BYTES} bytes"
            )
        data_url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        self._require_key()
        response = await self.requester.read(
            "POST",
            self.upload_url,
            kind="upload",
            during="uploading the reference image",
            json={"data_urls": [data_url]},
        )
        body = _json(response)
        urls = body.get("file_urls") if isinstance(body, dict) else None
        if not (isinstance(urls, list) and urls and isinstance(urls[0], str)):
            raise UnexpectedResponse("the upload answer holds no file URL")
        return urls[0]

    def expected_seconds(self, job: Generation) -> float:
        """The typical latency of a job like this one (learned, else the prior)."""
        return self.latencies.expected_seconds(job)

    # -- helpers ----------------------------------------------------------------------------

    def _require_key(self) -> None:
        if not self._api_key:
            raise AuthenticationError(
                f"no API key: {API_KEY_ENV} is not set and no api_key was given",
            )

    async def _resumed(self, request_id: str) -> Generation:
        """The record of a request id to resume: the ledger's; else, when the request
        history lists it, imported from there (its model and inputs); else a bare one."""
        known = await asyncio.to_thread(self.ledger.get, request_id)
        if known is not None:
            return known
        try:
            row = await self.history.get(request_id)
            if row is not None:
                return await self.inquiries.import_row(row)
        except (SoraError, ReadDeadline):
            pass
        return await self._record(request_id)

    async def _record(self, job: Job) -> Generation:
        if isinstance(job, Generation):
            return job
        known = await asyncio.to_thread(self.ledger.get, job)
        if known is not None:
            return known
        # A request id we never saw (another machine, another ledger): still resumable.
        record = Generation(
            id=new_id(),
            params=Request(prompt="(unknown: not in this ledger)"),
            request_id=job,
            api_host=self.api_host,
            versions=versions(),
        )
        record.set_status("QUEUED")
        return record

    async def _log(self, event: str, record: Generation) -> None:
        await self.journal.log(event, record)

    async def mark_unknown(self, record: Generation, reason: str) -> None:
        """Record that a submit's outcome is unknown (e.g. its process died mid-POST):
        the job may be running and billed; it is never resubmitted blindly."""
        await self.journal.mark_unknown(record, reason)


#: what a submit cut off by its process's end is marked UNKNOWN with
PROCESS_STOPPED = "the process stopped while the submit was under way; the job may be running and billed"

#: `generate` calls of one client preparing and submitting at once (the rest queue): twice
#: the requests in flight, so the queue never starves the wire
MAX_STARTING = 2 * MAX_IN_FLIGHT


def _json(response: httpx.Response) -> Any:
    return json_of(response)


def _request_id(record: Generation) -> str:
    if not record.request_id:
        raise UnexpectedResponse(f"generation {record.id} has no request id (it was never accepted)")
    return record.request_id


def _failure(body: Any, request_id: str) -> GenerationFailed:
    detail = failure_detail(body)
    return GenerationFailed(f"the generation failed: {detail}", request_id=request_id, detail=detail)


def _failure_from_record(record: Generation, request_id: str) -> GenerationFailed:
    detail = (record.error or {}).get("detail")
    return _failure({"error": detail}, request_id)


def _chance_since(
    model: LatencyModel, poll: PollPolicy, already: float, waited_from: float, seen_running: float
) -> Callable[[float], float]:
    """The chance, at a time of the client's clock, that a job last seen running
    `seen_running` seconds after its submit has ended (`already`: its age when the wait
    began at `waited_from`)."""
    scale = poll.time_scale

    def chance(now: float) -> float:
        return finish_chance(model, seen_running / scale, (already + now - waited_from) / scale)

    return chance


def _seconds_since(moment: str | None) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (datetime.now(timezone.utc) - parse_time(moment)).total_seconds())


def _attach(error: SoraError, record: Generation) -> SoraError:
    """Errors carry the record they concern, so a caller can show or resume it."""
    error.record = record
    if error.request_id is None:
        error.request_id = record.request_id
    return error


async def _notify(callback: OnUpdate | None, record: Generation) -> None:
    if callback is None:
        return
    result = callback(record)
    if inspect.isawaitable(result):
        await result
