"""AsyncSoraClient: submit · status · result · wait · download · resume, over httpx.

Every step is written to the ledger as it happens — before the submit is sent, the
moment the request id is known, at each status change, on completion and on failure —
so nothing paid for is lost to a crash. Waiting polls on the schedule of `_policy`,
on whatever event loop is running (the kernel's own, in a notebook).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
import logging
import os
import platform
import re
import ssl
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import httpx

from .._files import file_sha256
from .._version import __version__
from ..checks import check_job, check_on_update, check_output_dir
from ..cost import Budget, Estimate, Prices, effective_prices, estimate, session_budget
from ..errors import (
    AuthenticationError,
    GenerationFailed,
    GenerationTimeout,
    InvalidParams,
    RequestExpired,
    SoraError,
    SubmitOutcomeUnknown,
    UnexpectedResponse,
)
from ..ledger import Ledger, Observer
from ..ledger._writers import SUBMITS_UNDER_WAY
from ..params import (
    DEFAULT_DURATION,
    DEFAULT_MODEL,
    DEFAULT_SIZE,
    DEFAULT_TIMEOUT_S,
    IMAGE_TYPES,
    MAX_REFERENCE_BYTES,
    MODELS,
    GenerationParams,
    decode_data_uri,
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
    resolve_output_dir,
    resolve_upload_url,
)
from ._download import download
from ._policy import (
    LatencyModel,
    PollPolicy,
    RetryPolicy,
    latency_model,
    next_poll_delay,
    parse_retry_after,
)
from ._ratelimit import AdaptiveLimiter
from ._requests import MAX_DOWNLOADS, MAX_IN_FLIGHT, Clock, Limiter, Requester, SubmitNotAccepted
from ._results import (
    api_cost_usd,
    failure_detail,
    failure_in_body,
    output_url,
    read_metrics,
    read_status,
    server_timings,
)

log = logging.getLogger(__name__)

OnUpdate = Callable[[Generation], Any]
Job = Generation | str


@dataclass(frozen=True)
class Reuse:
    """What an earlier generation of the same request identity means for a new request.

    done        its clip is saved and intact: the answer, at no cost
    attach      it is running (its request id is known): wait for it, submit nothing
    unknown     its submit's outcome is unknown: it may be running and billed
    regenerate  its clip is missing or changed (`why`): generate again
    """

    kind: Literal["done", "attach", "unknown", "regenerate"]
    record: Generation
    why: str = ""


class AsyncSoraClient:
    """A client for Segmind's Sora 2 API. Use it as an async context manager, or `aclose()` it.

    The API key comes from `api_key` or `SEGMIND_API_KEY`; it is sent to the API and
    its upload endpoint only, and never appears in records, the ledger, logs or errors.
    Every request of every job goes through one rate limiter (`limiter`, by default an
    `AdaptiveLimiter` that learns the API's limit from its 429s).
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
    ) -> None:
        self._api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        self.upload_url = resolve_upload_url(self.base_url, upload_url)
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
        self.api_host = api_host(self.base_url)
        self._owns_http = http is None
        if http is None:
            tls = _default_tls()
            http = _http_client(request_timeout, MAX_IN_FLIGHT, tls)
            # downloads stream on a pool of their own: httpcore checks every connection of a
            # pool on each request, so two small pools cost less than one of both sizes
            self.download_http = _http_client(request_timeout, MAX_DOWNLOADS, tls)
        else:
            self.download_http = http
        self.http = http
        self.clock = clock or Clock()
        self.limiter: Limiter = limiter if limiter is not None else AdaptiveLimiter(self.clock)
        self.requester = Requester(
            self.http,
            download_http=self.download_http,
            api_key=self._api_key,
            api_origins={origin(self.base_url), origin(self.upload_url)},
            retry=retry or RetryPolicy(),
            clock=self.clock,
            limiter=self.limiter,
        )
        #: latencies of past jobs on this API, by (model, duration, size), oldest first
        self._latencies: dict[tuple[str, int, str], list[float]] = {}
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

    async def submit(
        self,
        prompt: str,
        *,
        duration: int | str = DEFAULT_DURATION,
        size: str = DEFAULT_SIZE,
        input_reference: str | os.PathLike[str] | None = None,
        on_update: OnUpdate | None = None,
        **context: Any,
    ) -> Generation:
        """Send a job; returns its record with the request id. Nothing is sent if the
        parameters are invalid (`InvalidParams`), no API key is set, or the clip would pass
        this kernel's budget (`BudgetExceeded`). `context`: see `prepare`."""
        check_on_update(on_update)
        record = self.prepare(
            prompt, duration=duration, size=size, input_reference=input_reference, **context
        )
        return await self.submit_prepared(record, on_update=on_update)

    def prepare(
        self,
        prompt: str,
        *,
        duration: int | str = DEFAULT_DURATION,
        size: str = DEFAULT_SIZE,
        input_reference: str | os.PathLike[str] | None = None,
        model: str | None = None,
        take: int | str = 1,
        notebook: dict[str, str] | None = None,
        replay_of: str | None = None,
        batch: dict[str, Any] | None = None,
        derived_from: dict[str, str] | None = None,
        check_budget: bool = True,
        reference_source: str | None = None,
        reference_digest: str | None = None,
    ) -> Generation:
        """Validate and build the record of a job without sending anything, so a caller
        (the widget) can show the job before its first request. `model`: this client's
        unless given; `take`: which take of the same request this is (1, 2, …, or "next":
        the first take this API has no generation of — see `records.identity`);
        `notebook`, `replay_of`, `batch`, `derived_from` are recorded with it, and
        `reference_source` (where an uploaded reference came from, e.g. "last frame of …").
        `reference_digest`: the reference's bytes' sha256 when its URL names bytes we sent
        (a shot's uploaded last frame): the request is then the same whatever URL the
        upload was given, so a re-run finds it.

        Raises `InvalidParams` (a value the model does not accept), `AuthenticationError`
        (no key) or `BudgetExceeded` (its estimate would pass the budget) — all before any
        request."""
        chosen = validate_model(model if model is not None else self.model)
        params = validate(prompt, duration=duration, size=size, input_reference=input_reference, model=chosen)
        self._require_key()
        check_output_dir(self.output_dir)
        guess = self.estimate(chosen, params)
        if check_budget:
            self.budget.check(guess.usd)
        key = identity.request_key(
            api_host=self.api_host,
            model=chosen,
            prompt=params.prompt,
            duration=params.duration,
            size=params.size,
            reference=reference_digest or _reference_digest(params.input_reference),
        )
        which = self._next_take(key) if take == "next" else _check_take(take)
        return Generation(
            id=new_id(),
            params=params,
            model=chosen,
            api_host=self.api_host,
            versions=_versions(),
            notebook=notebook,
            replay_of=replay_of,
            batch=batch,
            derived_from=derived_from,
            reference_source=reference_source,
            take=which,
            identity=identity.identity(key, which),
            cost={"usd": guess.usd, "source": "estimate"},
        )

    def _next_take(self, key: str) -> int:
        """The first take of request `key` this API has no generation of (indexed reads)."""
        take = 1
        while self.ledger.has_identity(identity.identity(key, take)):
            take += 1
        return take

    async def find_reusable(self, record: Generation) -> Reuse | None:
        """What the ledger knows of `record`'s request identity (the newest generation of
        it that matters), and what to do about it: reuse its saved clip, attach to its
        running job, refuse a blind resubmit of an attempt of unknown outcome, or
        generate again because its clip is missing or changed. None: never asked."""
        if record.identity is None:
            return None
        # the newest two that may answer (one of them may be `record` itself): a failure is
        # no answer, and a request asked a thousand times is still read in one index probe
        found = await asyncio.to_thread(self.ledger.with_identity, record.identity, answers=True, limit=2)
        for earlier in found:
            if earlier.id == record.id:
                continue
            if earlier.status == "COMPLETED" and earlier.video_path:
                problem = await asyncio.to_thread(_saved_clip_problem, earlier, self.output_dir)
                if problem is None:
                    return Reuse("done", earlier)
                return Reuse("regenerate", earlier, problem)
            if earlier.request_id:
                return Reuse("attach", earlier)  # accepted, not finished (or not saved)
            sending = self._submitting.get(earlier.id)
            if sending is not None:
                # its submit is under way on this client: its answer decides (accepted:
                # attach; refused: nothing to reuse; no answer: unknown)
                await asyncio.wait([sending])
                return await self.find_reusable(record)
            if earlier.status in ("UNKNOWN", "SUBMITTING"):
                return Reuse("unknown", earlier)
        return None

    def estimate(self, model: str, params: GenerationParams) -> Estimate:
        """What a clip of `model` with these parameters will cost, at this client's prices."""
        prices = self.prices if self.prices is not None else effective_prices()
        return estimate(model=model, duration=params.duration, size=params.size, prices=prices)

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
        reference = record.params.input_reference
        try:
            if reference is not None and reference_kind(reference) == "path":
                record.reference_source = display_path(Path(reference))
                record.params = replace(record.params, input_reference=await self.upload(reference))
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
            await self._fail(record, "UNKNOWN", error)
            raise _attach(error, record) from exc
        except SoraError as exc:
            # A definite refusal (400/401/403/404/406, or 429 after retries): nothing billed.
            await self._fail(record, "FAILED", exc, event="rejected")
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
            await self._fail(record, "UNKNOWN", error)
            raise _attach(error, record)
        record.request_id = request_id
        status = body.get("status")
        record.set_status(status if status in ("QUEUED", "PROCESSING") else "QUEUED")
        await self._log("submitted", record)

    async def status(self, job: Job) -> str:
        """The job's status now (QUEUED, PROCESSING, COMPLETED or FAILED). A Generation
        passed in is updated in place."""
        status, _retry_after = await self._check_status(await self._record(job))
        return status

    async def _check_status(self, record: Generation) -> tuple[str, float | None]:
        request_id = _request_id(record)
        response = await self.requester.read(
            "GET",
            f"{self.base_url}/v2/requests/{request_id}/status",
            kind="status",
            during="checking the job's status",
            request_id=request_id,
            accept=(422,),
        )
        body = _json(response)
        status = read_status(body, request_id=request_id)
        record.synthetic = record.synthetic or "x-sora-emulator" in response.headers
        _keep_figures(record, body, response.headers)
        if status == "FAILED":
            record.error = _failure(body, request_id).to_dict()
        record.set_status(status)
        return status, parse_retry_after(response.headers.get("retry-after"))

    async def result(self, job: Job) -> dict[str, Any]:
        """The final response body (a FAILED job's body too: the API serves it as 422)."""
        body, _headers = await self._result(_request_id(await self._record(job)))
        return body

    async def _result(self, request_id: str) -> tuple[dict[str, Any], httpx.Headers]:
        response = await self.requester.read(
            "GET",
            f"{self.base_url}/v2/requests/{request_id}",
            kind="result",
            during="fetching the result",
            request_id=request_id,
            accept=(422,),
        )
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
        await self._learn(record)
        model = self._latency_model(record)
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
                await self._log("waiting stopped", record)
                raise _attach(
                    GenerationTimeout(
                        f"the job was still {record.status} after waiting {timeout:g} s",
                        request_id=request_id,
                    ),
                    record,
                )
            await self.clock.sleep(min(delay, remaining))
            before = record.status
            try:
                status, retry_after = await self._check_status(record)
            except RequestExpired as exc:
                await self._fail(record, "EXPIRED", exc)
                _attach(exc, record)
                raise
            checks += 1
            record.timings["status_checks"] = record.timings.get("status_checks", 0) + 1
            checked_at = already + (self.clock.now() - waited_from)
            if status in ("QUEUED", "PROCESSING"):
                unfinished_at = checked_at
            if status != before:
                self._note_phase(record, status, elapsed=checked_at, unfinished_at=unfinished_at)
                await self._log("status", record)
                await _notify(on_update, record)
            if status == "FAILED":
                error = _failure_from_record(record, request_id)
                self._costs_nothing(record, refused=False)
                await self._log("failed", record)
                raise _attach(error, record)
        await self.download(record, save_to=save_to)
        await _notify(on_update, record)
        return record

    async def download(
        self, job: Job, url: str | None = None, *, save_to: str | os.PathLike[str] | None = None
    ) -> Generation:
        """Save a COMPLETED job's video (under the output dir, or at `save_to`: a file
        path ending in .mp4 or a directory); checks its length and records its sha256."""
        record = await self._record(job)
        request_id = _request_id(record)
        # named for when the job was submitted, not downloaded: a download started again after
        # a crash or restart lands on the same name (and its partial files are found and swept)
        dest = _destination(self.output_dir, save_to, video_filename(record, _submitted_locally(record)))
        try:
            if url is None:
                body, headers = await self._result(request_id)
                _keep_figures(record, body, headers)
                if failure_in_body(body) is not None:  # served as 422, or as 200
                    failed = _failure(body, request_id)
                    await self._fail(record, "FAILED", failed)
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
            # Finished, but its result is gone before we saved it.
            await self._fail(record, "EXPIRED", exc)
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
        self._remember_latency(record)
        return record

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
            return await self.wait(await self._record(request_id), timeout=timeout, on_update=on_update)
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
        prompt: str,
        *,
        duration: int | str = DEFAULT_DURATION,
        size: str = DEFAULT_SIZE,
        input_reference: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_update: OnUpdate | None = None,
        save_to: str | os.PathLike[str] | None = None,
        reuse: bool = False,
        **context: Any,
    ) -> Generation:
        """submit + wait: the saved clip's record. `context` is recorded with it (model,
        take, notebook, replay_of, batch, derived_from).

        `reuse`: first ask the ledger for the same request identity (see `find_reusable`):
        a saved, intact clip is returned at once (0 requests, 0 cost), a running job is
        waited for (no new submit), an attempt of unknown outcome raises
        `SubmitOutcomeUnknown` (nothing is resubmitted blindly), and a missing or changed
        clip is generated again. The returned record's `note` says which happened."""
        check_job(timeout=timeout, on_update=on_update, save_to=save_to)
        # Hundreds of calls gathered at once all take their first step in one iteration of
        # the loop: they only queue here, and a few at a time prepare and submit.
        async with self._starting:
            record = self.prepare(
                prompt,
                duration=duration,
                size=size,
                input_reference=input_reference,
                check_budget=not reuse,
                **context,
            )
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
        if found is None:
            return None
        earlier = found.record
        made = _when(earlier.completed_at or earlier.submitted_at)
        if found.kind == "done":
            earlier.note = (
                f"Reused clip {earlier.id}, made {made} for the same request: nothing was sent or "
                f"billed. For a new take: take={record.take + 1}, reuse=False or --new."
            )
            return found
        if found.kind == "attach":
            earlier.note = (
                f"Attached to job {earlier.id} (request {earlier.request_id}), submitted {made} for the "
                "same request and still running: waiting for it instead of submitting again."
            )
            return found
        if found.kind == "unknown":
            raise _attach(
                SubmitOutcomeUnknown(
                    f"an earlier attempt at this request ({earlier.id}, submitted {made}) has an unknown "
                    "outcome: it may be running and billed, so it is not submitted again blindly",
                    ledger_id=earlier.id,
                    hint=(
                        "Check your Segmind dashboard; to submit anyway pass reuse=False "
                        "(or %sora --new, sora-widget generate --new)."
                    ),
                ),
                earlier,
            )
        record.note = (
            f"The clip made {made} for this request ({earlier.id}) is no longer usable — "
            f"{found.why}: generating it again."
        )
        return None

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
        if self.poll.expected_s is not None:
            return self.poll.expected_s * self.poll.time_scale
        return self._latency_model(job).median_s * self.poll.time_scale

    def _latency_model(self, job: Generation) -> LatencyModel:
        # past latencies are in our seconds; the model is in the backend's
        scale = self.poll.time_scale
        typical = (
            MODELS[job.model].typical_latency_s
            if job.model in MODELS
            else MODELS[DEFAULT_MODEL].typical_latency_s
        )
        return latency_model(
            job.params.duration, [x / scale for x in self._past_latencies(job)], typical_s=typical
        )

    # -- helpers ----------------------------------------------------------------------------

    def _require_key(self) -> None:
        if not self._api_key:
            raise AuthenticationError(
                f"no API key: {API_KEY_ENV} is not set and no api_key was given",
            )

    async def _record(self, job: Job) -> Generation:
        if isinstance(job, Generation):
            return job
        known = await asyncio.to_thread(self.ledger.get, job)
        if known is not None:
            return known
        # A request id we never saw (another machine, another ledger): still resumable.
        record = Generation(
            id=new_id(),
            params=GenerationParams(prompt="(unknown: not in this ledger)"),
            request_id=job,
            api_host=self.api_host,
            versions=_versions(),
        )
        record.set_status("QUEUED")
        return record

    async def _log(self, event: str, record: Generation) -> None:
        await self.ledger.log(event, record)

    async def mark_unknown(self, record: Generation, reason: str) -> None:
        """Record that a submit's outcome is unknown (e.g. its process died mid-POST):
        the job may be running and billed; it is never resubmitted blindly."""
        await self._fail(record, "UNKNOWN", SubmitOutcomeUnknown(reason, ledger_id=record.id))

    async def _fail(
        self, record: Generation, status: str, error: SoraError, *, event: str | None = None
    ) -> None:
        record.error = error.to_dict()
        record.set_status(status)
        if status == "FAILED":
            self._costs_nothing(record, refused=event == "rejected")
        await self._log(event or status.lower(), record)

    def _costs_nothing(self, record: Generation, *, refused: bool) -> None:
        """A failed job costs 0; a refused submit does not count as a job at all."""
        record.cost = {"usd": 0.0, "source": (record.cost or {}).get("source", "estimate")}
        if refused:
            self.budget.release(record.id)
        else:
            self.budget.settle(record.id, 0.0)

    def _note_phase(self, record: Generation, status: str, *, elapsed: float, unfinished_at: float) -> None:
        if status == "PROCESSING":
            record.timings["queued_s"] = round(elapsed, 3)
        elif status in ("COMPLETED", "FAILED"):
            record.timings["latency_s"] = round(elapsed, 3)
            # It ended between the last check that saw it running and this one; learning
            # from the detection time instead would feed each lag into the next schedule.
            record.timings["finish_estimate_s"] = round((unfinished_at + elapsed) / 2, 3)

    def _past_latencies(self, record: Generation) -> list[float]:
        """What this client knows of past latencies of jobs like `record` (no I/O: `_learn`
        reads them from the ledger once per kind)."""
        return self._latencies.get(_kind(record), [])[-LEARN_FROM:]

    async def _learn(self, record: Generation) -> None:
        """Read past latencies of jobs like `record` on this API: an indexed query, off the loop."""
        kind = _kind(record)
        if kind not in self._latencies:
            model, duration, size = kind
            past = await asyncio.to_thread(
                self.ledger.latencies, self.api_host, model, duration, size, LEARN_FROM
            )
            self._latencies.setdefault(kind, past)

    def _remember_latency(self, record: Generation) -> None:
        latency = _finish_time(record)
        if latency and _kind(record) in self._latencies:
            self._latencies[_kind(record)].append(latency)


#: how many past jobs of a kind the poll schedule learns from
LEARN_FROM = 20

#: `generate` calls of one client preparing and submitting at once (the rest queue): twice
#: the requests in flight, so the queue never starves the wire
MAX_STARTING = 2 * MAX_IN_FLIGHT


async def prepare_tls() -> None:
    """Load the default TLS roots in a thread, if no client has yet: a kernel's first job
    would otherwise spend those ~40 ms on its loop."""
    if _default_tls.cache_info().currsize == 0:
        await asyncio.to_thread(_default_tls)


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """httpx's default TLS settings (certifi's roots), made once per process: loading the roots
    takes some 40 ms of CPU, which every client (a script or a test suite makes many) would
    otherwise spend again. Contexts are safe to share between clients and threads."""
    return httpx.create_ssl_context()


def _http_client(request_timeout: float, connections: int, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """A pool of `connections`: as many as the client's slots let through at once."""
    return httpx.AsyncClient(
        verify=tls,
        timeout=httpx.Timeout(request_timeout, connect=10.0),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        headers={"user-agent": f"sora-widget/{__version__}"},
    )


def _kind(record: Generation) -> tuple[str, int, str]:
    return (record.model, record.params.duration, record.params.size)


def _submitted_locally(record: Generation) -> datetime:
    """When the job was submitted, in local time (a record that cannot say: now)."""
    try:
        return parse_time(record.submitted_at).astimezone() if record.submitted_at else datetime.now()
    except (TypeError, ValueError):
        return datetime.now()


def video_filename(record: Generation, when: datetime) -> str:
    """`YYYYmmdd-HHMMSS-<prompt slug>-<id8>.mp4`: sortable, readable, unique."""
    return f"{when:%Y%m%d-%H%M%S}-{slugify(record.params.prompt)}-{record.id[:8]}.mp4"


def _destination(output_dir: Path, save_to: str | os.PathLike[str] | None, filename: str) -> Path:
    if save_to is None:
        return output_dir / filename
    target = Path(save_to).expanduser()
    if target.suffix.lower() == ".mp4":
        return target
    return target / filename


def slugify(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or "clip"


def _finish_time(record: Generation) -> float | None:
    """Seconds from submit to the job's end: estimated between two checks when known."""
    return record.timings.get("finish_estimate_s") or record.latency_s


@functools.lru_cache(maxsize=1)
def _platform() -> str:
    # platform.platform() reads the interpreter binary to find the libc version (~10 ms)
    return platform.platform(terse=True)


def _versions() -> dict[str, str]:
    versions = {
        "sora_widget": __version__,
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "platform": _platform(),
    }
    kernel = sys.modules.get("ipykernel")
    if kernel is not None:
        versions["ipykernel"] = str(getattr(kernel, "__version__", "unknown"))
    return versions


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _when(moment: str | None) -> str:
    """ "2026-12-01 13:41 UTC" for a record's ISO time."""
    if not moment:
        return "at an unknown time"
    return parse_time(moment).strftime("%Y-%m-%d %H:%M UTC")


def _reference_digest(reference: str | None) -> str:
    """The reference image by its bytes' sha256 (a data URI's, a local file's), or by its
    URL's (its pixels are the server's to fetch)."""
    if reference is None:
        return identity.NO_REFERENCE
    kind = reference_kind(reference)
    if kind == "data":
        return identity.reference_digest(kind, reference, decode_data_uri(reference)[1])
    if kind == "path":
        return file_sha256(reference)[0]
    return identity.reference_digest(kind, reference)


def _saved_clip_problem(record: Generation, output_dir: Path) -> str | None:
    """None when the record's clip is on disk as it was saved; else what is wrong.
    (Paths are relative to the folder of the process that saved it, normally this one's;
    else it is looked for by name in the output dir.)"""
    path = Path(record.video_path or "")
    for candidate in (path, output_dir / path.name):
        try:
            digest, _size = file_sha256(candidate)
        except OSError:
            continue
        if digest == record.sha256:
            return None
        return f"its file {record.video_path} has changed since it was saved (sha256 {digest[:12]}…)"
    return f"its file {record.video_path} is missing"


def _check_take(take: object) -> int:
    if isinstance(take, bool) or not isinstance(take, int) or take < 1:
        raise InvalidParams("take", take, "a whole number ≥ 1 (1 is the first take of a request)")
    return take


def _request_id(record: Generation) -> str:
    if not record.request_id:
        raise UnexpectedResponse(f"generation {record.id} has no request id (it was never accepted)")
    return record.request_id


def _failure(body: Any, request_id: str) -> GenerationFailed:
    detail = failure_detail(body)
    return GenerationFailed(f"the generation failed: {detail}", request_id=request_id, detail=detail)


def _keep_figures(record: Generation, body: Any, headers: httpx.Headers) -> None:
    """What a status or result answer says about time and money, kept on the record:
    the server's timings, its raw `metrics` (unknown keys included) and its cost."""
    metrics = read_metrics(body)
    record.timings.update(server_timings(metrics))
    if metrics:
        record.metrics = {**record.metrics, **metrics}
    cost = api_cost_usd(metrics, headers)
    if cost is not None:
        record.cost = {"usd": cost, "source": "api"}


def _failure_from_record(record: Generation, request_id: str) -> GenerationFailed:
    detail = (record.error or {}).get("detail")
    return _failure({"error": detail}, request_id)


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
