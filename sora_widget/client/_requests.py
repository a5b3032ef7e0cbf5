"""Sending one API request, with the retry rules of `_policy` applied.

Reads may be repeated; a submit is repeated only when the server certainly did not
take it. The API key is attached here and only here, and only to the API's own
origins — never to an output or CDN URL.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .._text import REDACTED
from ..errors import NetworkError
from ._config import origin
from ._errors import SUBMITTING, error_from_response, error_from_transport
from ._policy import (
    NOW,
    Outcome,
    RequestKind,
    RetryDecision,
    RetryPolicy,
    Turn,
    decide_retry,
    parse_retry_after,
)


@dataclass(frozen=True)
class Clock:
    """Time as the client sees it; tests and benchmarks swap it out."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = field(default=random.random)


#: API requests on the wire at once per client. Few: every response that arrives is a
#: step of work on the (kernel's) loop, and the responses that arrive together are handled
#: in one loop iteration, which everything else on the loop (the notebook's cells, widgets)
#: waits for; httpcore's pool also checks each of its connections on every request (a
#: system call per idle connection). With 500 jobs at once on a local emulator (make bench),
#: 8 in flight and 4 downloads held the loop up to 26-44 ms at the 99th percentile, 4 and 2
#: 19-23 ms, 2 and 2 under 19 ms, and finished no later. At an API's round trip of ~0.3 s two
#: carry ~400 requests a minute, more than Segmind's plans allow (5 a minute and up).
MAX_IN_FLIGHT = 2
#: video downloads streaming at once per client, beside the API's requests (a download
#: holds its connection for the whole transfer: it must not hold up status checks)
MAX_DOWNLOADS = 2


class Limiter(Protocol):
    """Something that paces requests (one per client, shared by every job)."""

    async def acquire(self) -> None: ...

    def observe(self, status: int, retry_after: float | None) -> None: ...


class Allowance(Protocol):
    """A cap on API requests a minute, shared by every client of a kernel, that decides
    which waiting request goes next (`_ratelimit.PlanAllowance`)."""

    @property
    def pace_s(self) -> float:
        """Seconds between two requests; 0 when there is no cap."""
        ...

    async def take(self, turn: Turn = NOW) -> None: ...

    def refused(self, retry_after: float | None) -> None: ...


#: the header Segmind's answers say the account's credits left in
CREDITS_HEADER = "x-remaining-credits"

#: the largest answer of the API that is read (a status, a result or an upload's answer is
#: a few hundred bytes): a server that sends more is cut off, never buffered whole
MAX_ANSWER_BYTES = 1024 * 1024
#: the least time a read is given, however close its job's deadline (a last check)
MIN_READ_S = 1.0


class ReadDeadline(Exception):
    """A read did not end before its job's deadline (a slow server, a body dripping in)."""


class SubmitNotAccepted(Exception):
    """The submit got no definite answer; the caller turns this into SubmitOutcomeUnknown."""

    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


def classify(exc: httpx.HTTPError) -> Outcome | None:
    """What a transport failure means for retrying; None when retrying cannot help."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return "not_sent"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError)):
        return "transport"
    return None


class Requester:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        download_http: httpx.AsyncClient | None = None,
        api_key: str | None,
        api_origins: Collection[tuple[str, str]],
        retry: RetryPolicy,
        clock: Clock,
        limiter: Limiter | None = None,
        allowance: Allowance | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_downloads: int = MAX_DOWNLOADS,
        on_credits: Callable[[float], None] | None = None,
    ) -> None:
        self.http = http
        #: where downloads stream (the same client unless given)
        self.download_http = download_http or http
        self._api_key = api_key
        self._api_origins = frozenset(api_origins)
        self.retry = retry
        self.clock = clock
        self.limiter = limiter
        #: the plan's cap on requests a minute, and who goes first under it
        self.allowance = allowance
        #: told the account's credits left whenever an answer says (`x-remaining-credits`)
        self.on_credits = on_credits
        #: requests sent, by kind — benchmarks and tests read it
        self.sent: dict[str, int] = {}
        # Requests beyond this wait here, not in httpcore's pool: the pool rescans every
        # waiting request against every connection on each change (quadratic CPU on the
        # kernel's loop with hundreds of jobs), a semaphore queue costs nothing.
        self._slots = asyncio.Semaphore(max_in_flight)
        self._download_slots = asyncio.Semaphore(max_downloads)

    def slot(self) -> asyncio.Semaphore:
        """Hold one while an API request uses a connection."""
        return self._slots

    def download_slot(self) -> asyncio.Semaphore:
        """Hold one while a download streams."""
        return self._download_slots

    def headers_for(self, url: str) -> dict[str, str]:
        """The key goes to the API's origins only."""
        if self._api_key and origin(url) in self._api_origins:
            return {"x-api-key": self._api_key}
        return {}

    async def read(
        self,
        method: str,
        url: str,
        *,
        kind: str,
        during: str,
        request_id: str | None = None,
        accept: Collection[int] = (),
        json: Any = None,
        deadline: float | None = None,
        turn: Turn = NOW,
    ) -> httpx.Response:
        """A request that may be repeated (status, result, upload). Statuses in `accept`
        are answers, not errors (a FAILED job is served as 422). `deadline` (this clock's
        time): the whole read — its turn under the allowance, retries, redirects, a body
        arriving a byte at a time — ends by then (`ReadDeadline`), or after `MIN_READ_S`
        when it is that close. `turn`: its place in the allowance's queue."""
        attempts = self._attempts("read", method, url, kind, during, request_id, accept, json, turn)
        if deadline is None:
            return await attempts
        remaining = max(deadline - self.clock.now(), MIN_READ_S)
        try:
            return await asyncio.wait_for(attempts, remaining)
        except asyncio.TimeoutError:
            raise ReadDeadline(f"no answer within {remaining:.0f} s while {during}") from None

    async def submit(self, url: str, json: dict[str, Any]) -> httpx.Response:
        """POST a job. Repeated only after a refusal that certainly billed nothing
        (no connection, 429); raises `SubmitNotAccepted` when the outcome is unknown."""
        return await self._attempts("submit", "POST", url, "submit", SUBMITTING, None, (), json, NOW)

    async def _attempts(
        self,
        request_kind: RequestKind,
        method: str,
        url: str,
        kind: str,
        during: str,
        request_id: str | None,
        accept: Collection[int],
        json: Any,
        turn: Turn,
    ) -> httpx.Response:
        """Send until an answer, a final error, or the retry policy says stop."""
        start = self.clock.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, url, kind, json, turn)
            except httpx.HTTPError as exc:
                outcome = classify(exc)
                if outcome is None:
                    raise error_from_transport(exc, during=during, url=url, request_id=request_id) from exc
                decision = self._decide(request_kind, outcome, attempt, start, None)
                if decision.outcome_unknown:
                    raise SubmitNotAccepted(f"{type(exc).__name__} after the request was sent") from exc
                if not decision.retry:
                    raise error_from_transport(
                        exc, during=during, url=url, request_id=request_id, attempts=attempt
                    ) from exc
            else:
                if response.is_success or response.status_code in accept:
                    return response
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                decision = self._decide(request_kind, response.status_code, attempt, start, retry_after)
                if decision.outcome_unknown:
                    raise SubmitNotAccepted(f"HTTP {response.status_code}", http_status=response.status_code)
                if not decision.retry:
                    raise error_from_response(
                        response, during=during, request_id=request_id, attempts=attempt
                    )
            await self.clock.sleep(decision.delay)

    def _decide(
        self,
        request_kind: RequestKind,
        outcome: Outcome,
        attempt: int,
        start: float,
        retry_after: float | None,
    ) -> RetryDecision:
        return decide_retry(
            self.retry,
            request_kind,
            outcome,
            attempt=attempt,
            elapsed=self.clock.now() - start,
            retry_after=retry_after,
            jitter=self.clock.random(),
        )

    @property
    def pace_s(self) -> float:
        """Seconds between two API requests under the allowance (0: no cap)."""
        return self.allowance.pace_s if self.allowance is not None else 0.0

    async def _send(self, method: str, url: str, kind: str, json: Any, turn: Turn = NOW) -> httpx.Response:
        """One request, its redirects followed here hop by hop (never by httpx, whatever
        client was passed in: httpx strips only `Authorization` on a cross-origin hop,
        and would carry `x-api-key` to wherever a redirect points)."""
        for _hop in range(MAX_REDIRECTS + 1):
            if self.allowance is not None:
                await self.allowance.take(turn)
            if self.limiter is not None:
                await self.limiter.acquire()
            self.sent[kind] = self.sent.get(kind, 0) + 1
            async with self._slots:
                request = self.http.build_request(method, url, json=json, headers=self.headers_for(url))
                response = await _bounded(await self.http.send(request, follow_redirects=False, stream=True))
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if self.limiter is not None:
                self.limiter.observe(response.status_code, retry_after)
            if self.allowance is not None and response.status_code == 429:
                self.allowance.refused(retry_after)
            self._note_credits(response)
            target = redirect_target(response, method)
            if target is None:
                return self.scrub(response)
            await response.aclose()
            url = target
        raise NetworkError(f"more than {MAX_REDIRECTS} redirects from {httpx.URL(url).host}")

    def _note_credits(self, response: httpx.Response) -> None:
        text = response.headers.get(CREDITS_HEADER)
        if text is None or self.on_credits is None:
            return
        try:
            credits = float(text.strip())
        except ValueError:
            return
        if math.isfinite(credits) and credits >= 0:
            self.on_credits(credits)

    def scrub(self, response: httpx.Response) -> httpx.Response:
        """The response, with the API key redacted (`***`) from its body if the server
        echoed it: a body's text becomes exception messages, records and ledger rows."""
        key = self._api_key
        if not key:
            return response
        try:
            content = response.content
        except httpx.ResponseNotRead:  # a stream not read: nothing of it is shown anywhere
            return response
        needle = key.encode("utf-8")
        if needle not in content:
            return response
        return with_body(response, content.replace(needle, REDACTED.encode("ascii")))


async def _bounded(response: httpx.Response) -> httpx.Response:
    """`response` with its body read, at most `MAX_ANSWER_BYTES` of it: more is a broken
    answer (`RemoteProtocolError`: retried as a read, an unknown outcome for a submit)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise httpx.RemoteProtocolError(
                    f"the answer is larger than {MAX_ANSWER_BYTES} bytes; not read", request=response.request
                )
            chunks.append(chunk)
    finally:
        await response.aclose()
    return with_body(response, b"".join(chunks))


def with_body(response: httpx.Response, content: bytes) -> httpx.Response:
    """`response` with `content` as its (decoded) body: the headers that described the body
    as it was sent (its encoding, its length) go."""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
    )


#: hops of one request's redirects we follow before giving up
MAX_REDIRECTS = 5


def redirect_target(response: httpx.Response, method: str) -> str | None:
    """Where a redirect sends this request next, when we follow it: every redirect of a
    GET; of a POST only 307 and 308, which repeat the same request there (a 301, 302 or
    303 would turn a paid submit into a GET). None when it is not one we follow."""
    if not response.is_redirect or "location" not in response.headers:
        return None
    if method.upper() != "GET" and response.status_code not in (307, 308):
        return None
    return str(response.url.join(response.headers["location"]))
