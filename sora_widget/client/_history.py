"""Asking Segmind what happened: the account's request history.

Segmind keeps every request an account made — failed and running ones too — with its
charge, its inputs as sent and its output URL; its SDK (1.3.0, `segmind/generations.py`)
reads them with `GET {history}/inference-request/request-history` (a window of dates, a
page at a time) and `GET …/request-history/{request_id}` (one request of any age). The
history lives on its own host (`https://api.spotprod.segmind.com`; SEGMIND_HISTORY_URL
names another, and any API but Segmind's serves it beside itself).

What the client asks it:

- a submit whose answer was lost (UNKNOWN): is there a request of the same model whose
  `request_body` is what we sent, within the minutes around the attempt? `judge` says —
  found (that request is the job), certainly absent (nothing was billed: NOT_SUBMITTED), or
  it cannot tell (too soon for the history to be sure, several candidates, an answer we
  cannot read): then the submit stays UNKNOWN;
- a finished job: its real charge (`credits_deduction`);
- a result past the hour the API serves it: its `generation_url`.

The reading (`parse_row`, `parse_page`), the matching (`body_matches`, `judge`) and the
date windows are pure; `RequestHistory` makes the requests, through the client's
`Requester` (its retries, its pacing, and the rule that the key goes only to the API's
origins — the history's among them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import quote

from .._text import shorten
from ..errors import UnexpectedResponse
from ._errors import MAX_DETAIL_CHARS, json_of
from ._policy import NOW, Turn
from ._requests import Requester

#: where Segmind's request history lives on its host (the SDK's REQUEST_HISTORY_URL's path)
HISTORY_PATH = "/inference-request/request-history"
#: the history's own statuses (its `status` filter takes these)
HISTORY_STATUSES = ("COMPLETED", "FAILED", "PENDING")
#: the widest window one listing may span (the SDK: "at most 31 days")
MAX_WINDOW_DAYS = 31
#: what a request id, a model name or a URL from the history may be at most
MAX_ID_CHARS = 200
MAX_URL_CHARS = 4096

#: the keys a page's rows may come under, and a row's time of creation (the SDK names
#: neither: these are the likely ones, the emulator's first)
_ROW_KEYS = ("data", "items", "results", "rows", "requests", "history")
_CREATED_KEYS = ("model_created", "created_at", "createdAt", "created", "timestamp")


@dataclass(frozen=True)
class HistoryPolicy:
    """How the request history is asked. Seconds."""

    #: how long after an attempt the history may still not list it: a lost submit is
    #: "certainly absent" only once this has passed and a full listing lacks it
    settle_s: float = 90.0
    #: how long a submit whose answer was lost asks again, right away, before it is left
    #: UNKNOWN (to be asked again by `pending()`, `resume()`, a batch or a re-run)
    inline_patience_s: float = 100.0
    #: gaps between those asks
    ask_every_s: tuple[float, ...] = (3.0, 7.0, 15.0, 30.0, 45.0)
    #: the request may have been created this long before the attempt's recorded time
    #: (clocks differ) and this long after it (an upload first, retries, a slow POST)
    before_s: float = 300.0
    after_s: float = 900.0
    #: rows a page asks for (1-100) and the pages one search reads at most; a window with
    #: more is not read to its end, so nothing can be said to be absent from it
    per_page: int = 100
    max_pages: int = 20
    #: whether a finished job's charge is read (one request a job, after its clip is saved)
    charges: bool = True
    #: a job's real charge is read this long at most after it ends, then left as it is
    cost_read_s: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.per_page <= 100:
            raise ValueError("per_page must be from 1 to 100")
        if self.settle_s < 0 or self.inline_patience_s < 0 or self.max_pages < 1:
            raise ValueError("settle_s and inline_patience_s must be ≥ 0, max_pages ≥ 1")


# -- reading what the history says ---------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """One request as the history lists it. Text from the server is bounded; a value that
    is not of the expected kind is None."""

    request_id: str
    model: str | None
    #: COMPLETED, FAILED or PENDING (another word, bounded, when the server says another)
    status: str | None
    #: what it was charged, in US dollars (`credits_deduction`)
    usd: float | None
    #: the inputs as sent (`request_body`)
    body: Mapping[str, Any] | None
    generation_url: str | None
    latency_ms: float | None
    created_at: datetime | None
    error: str | None

    @property
    def prompt(self) -> str | None:
        prompt = (self.body or {}).get("prompt")
        return prompt if isinstance(prompt, str) else None

    @property
    def finished_at(self) -> datetime | None:
        if self.created_at is None or self.latency_ms is None:
            return None
        return self.created_at + timedelta(milliseconds=self.latency_ms)


def parse_row(raw: Any) -> HistoryRow | None:
    """A history row, or None when it names no request id."""
    if not isinstance(raw, Mapping):
        return None
    request_id = raw.get("request_id")
    if not isinstance(request_id, str) or not request_id.strip() or len(request_id) > MAX_ID_CHARS:
        return None
    status = _text(raw.get("model_status", raw.get("status")), 40)
    url = raw.get("generation_url")
    if isinstance(url, list):  # a request of several outputs: its first
        url = next((u for u in url if isinstance(u, str)), None)
    return HistoryRow(
        request_id=request_id,
        model=_text(raw.get("model_name", raw.get("model")), MAX_ID_CHARS),
        status=status.upper() if status else None,
        usd=_amount(raw.get("credits_deduction")),
        body=_body(raw.get("request_body")),
        generation_url=url
        if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= MAX_URL_CHARS
        else None,
        latency_ms=_amount(raw.get("latency_ms")),
        created_at=next((t for t in (_time(raw.get(k)) for k in _CREATED_KEYS) if t is not None), None),
        error=_text(raw.get("error"), MAX_DETAIL_CHARS),
    )


@dataclass(frozen=True)
class Page:
    rows: list[HistoryRow]
    #: whether another page follows; None when the answer does not say
    more: bool | None


def parse_page(body: Any, *, page: int, per_page: int) -> Page:
    """A listing's page (`UnexpectedResponse` when it holds no list of rows). A request of
    several outputs is listed once per output: kept once here."""
    items = body if isinstance(body, list) else None
    if isinstance(body, Mapping):
        items = next((body[k] for k in _ROW_KEYS if isinstance(body.get(k), list)), None)
    if items is None:
        raise UnexpectedResponse("the request history's answer holds no list of requests")
    rows: dict[str, HistoryRow] = {}
    for raw in items:
        row = parse_row(raw)
        if row is not None:
            rows.setdefault(row.request_id, row)
    return Page(list(rows.values()), _more(body, page, per_page, len(items)))


def _more(body: Any, page: int, per_page: int, listed: int) -> bool | None:
    if not isinstance(body, Mapping):
        return None if listed >= per_page else False
    pages = _whole(body.get("total_pages", body.get("pages")))
    if pages is not None:
        return page < pages
    total = _whole(body.get("total", body.get("count")))
    if total is not None:
        return page * per_page < total
    for key in ("has_more", "hasMore", "has_next"):
        if isinstance(body.get(key), bool):
            return bool(body[key])
    if "next" in body:
        return bool(body["next"])
    return None if listed >= per_page else False


# -- matching a lost submit ----------------------------------------------------------------------


def body_matches(sent: Mapping[str, Any], listed: Mapping[str, Any]) -> bool:
    """Is `listed` (a row's `request_body`) the body we `sent`? The prompt exactly; every
    other value we sent that the row also holds equal, as JSON carries it loosely ("8" is
    8, "true" is true). An image we sent as a data URI matches whatever the row holds in
    its place (the server may keep a stored copy's URL instead)."""
    if sent.get("prompt") != listed.get("prompt"):
        return False
    for key, value in sent.items():
        if key == "prompt" or key not in listed:
            continue
        theirs = listed[key]
        if _is_data_uri(value) and not _is_data_uri(theirs):
            continue
        if _loose(value) != _loose(theirs):
            return False
    return True


Verdict = Literal["found", "absent", "unknown"]


@dataclass(frozen=True)
class Resolution:
    """What the history says of a lost submit: `found` (`row` is its request), `absent`
    (certainly never taken) or `unknown` (`why` it cannot say)."""

    verdict: Verdict
    row: HistoryRow | None = None
    why: str = ""


def judge(
    rows: Iterable[HistoryRow],
    *,
    model: str,
    sent: Mapping[str, Any],
    attempted_at: datetime,
    now: datetime,
    complete: bool,
    taken: Collection[str],
    policy: HistoryPolicy,
) -> Resolution:
    """Which request of the history is a submit of `sent` to `model` made at `attempted_at`.
    `complete`: the rows are the whole window around it; `taken`: request ids the ledger
    already gives to other generations (never this one's)."""
    earliest = attempted_at - timedelta(seconds=policy.before_s)
    latest = attempted_at + timedelta(seconds=policy.after_s)
    candidates = [
        row
        for row in rows
        if row.request_id not in taken
        and (row.model is None or row.model.casefold() == model.casefold())
        and row.body is not None
        and body_matches(sent, row.body)
        and (row.created_at is None or earliest <= row.created_at <= latest)
    ]
    if len(candidates) == 1:
        return Resolution("found", candidates[0])
    if candidates:
        timed = [row for row in candidates if row.created_at is not None]
        if len(timed) == len(candidates):  # the same request made twice: the nearest in time
            nearest = min(timed, key=lambda row: abs((row.created_at or attempted_at) - attempted_at))
            return Resolution("found", nearest)
        return Resolution("unknown", why=f"{len(candidates)} requests of the history match it")
    if not complete:
        return Resolution("unknown", why="the history around the attempt could not be read to its end")
    waited = (now - attempted_at).total_seconds()
    if waited < policy.settle_s:
        return Resolution(
            "unknown",
            why=f"the history may not list a request this recent yet ({waited:.0f} s after the attempt)",
        )
    return Resolution("absent")


def window(attempted_at: datetime, policy: HistoryPolicy, today: date) -> tuple[date, date]:
    """The dates (UTC, inclusive) a search around an attempt lists: every day the request
    could have been created on, never past today."""
    first = (attempted_at - timedelta(seconds=policy.before_s)).astimezone(timezone.utc).date()
    last = (attempted_at + timedelta(seconds=policy.after_s)).astimezone(timezone.utc).date()
    return min(first, today), min(last, today)


# -- the requests --------------------------------------------------------------------------------


class RequestHistory:
    """The account's request history at `url`, asked through the client's requester."""

    def __init__(self, requester: Requester, url: str, policy: HistoryPolicy | None = None) -> None:
        self.requester = requester
        self.url = url.rstrip("/")
        self.policy = policy or HistoryPolicy()

    async def get(
        self, request_id: str, *, deadline: float | None = None, turn: Turn = NOW
    ) -> HistoryRow | None:
        """One request of any age; None when the history has no such request (404)."""
        response = await self.requester.read(
            "GET",
            f"{self.url}{HISTORY_PATH}/{quote(request_id, safe='')}",
            kind="history",
            during="reading Segmind's request history",
            accept=(404,),
            deadline=deadline,
            turn=turn,
        )
        if response.status_code == 404:
            return None
        row = parse_row(json_of(response))
        if row is None or row.request_id != request_id:
            raise UnexpectedResponse(
                "the request history answered with another request", request_id=request_id
            )
        return row

    async def page(
        self,
        *,
        page: int,
        first: date,
        last: date,
        model: str | None = None,
        status: str | None = None,
        deadline: float | None = None,
    ) -> Page:
        per_page = self.policy.per_page
        params = {
            "page": page,
            "per_page": per_page,
            "from_date": first.isoformat(),
            "to_date": last.isoformat(),
        }
        if model:
            params["model_name"] = model
        if status:
            params["status"] = status
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
        response = await self.requester.read(
            "GET",
            f"{self.url}{HISTORY_PATH}?{query}",
            kind="history",
            during="listing Segmind's request history",
            deadline=deadline,
        )
        return parse_page(json_of(response), page=page, per_page=per_page)

    async def between(
        self, first: date, last: date, *, model: str | None = None, deadline: float | None = None
    ) -> tuple[list[HistoryRow], bool]:
        """Every request of the days `first`..`last` (at most `max_pages` pages), and
        whether that is all of them."""
        rows: dict[str, HistoryRow] = {}
        for number in range(1, self.policy.max_pages + 1):
            page = await self.page(page=number, first=first, last=last, model=model, deadline=deadline)
            for row in page.rows:
                rows.setdefault(row.request_id, row)
            if page.more is False or (page.more is None and not page.rows):
                return list(rows.values()), True
        return list(rows.values()), False

    async def recent(
        self, days: int, *, model: str | None = None, today: date
    ) -> tuple[list[HistoryRow], bool]:
        """The requests of the last `days` days (today included), newest first."""
        first = today - timedelta(days=max(0, min(days, MAX_WINDOW_DAYS) - 1))
        rows, complete = await self.between(first, today, model=model)
        rows.sort(key=lambda row: row.created_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
        return rows, complete


# -- helpers -------------------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return shorten(value, limit)


def _amount(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().removeprefix("$"))
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _body(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, str) and len(value) <= 4 * 1024 * 1024:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, Mapping) else None


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        seconds = value / 1000 if value > 1e11 else value  # milliseconds since 1970, or seconds
        try:
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    return None


def _is_data_uri(value: Any) -> bool:
    return isinstance(value, str) and value[:5].lower() == "data:"


def _loose(value: Any) -> Any:
    """A value as JSON carries it loosely: numbers and numeric text alike, booleans and
    "true"/"false" alike."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{float(value):g}"
    if isinstance(value, str):
        text = value.strip()
        try:
            return f"{float(text):g}"
        except ValueError:
            return text.lower() if text.lower() in ("true", "false") else text
    return value
