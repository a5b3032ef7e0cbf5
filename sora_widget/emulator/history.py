"""The account's request history, as Segmind's SDK (1.3.0, `generations.history` / `.get`)
reads it: `GET /inference-request/request-history` lists requests, `GET
/inference-request/request-history/{request_id}` returns one of any age.

Every request a key made is a row, failed and running ones included, for as long as the
emulator runs (the newest `MAX_ROWS` of each key): its `request_id`, `model_name`,
`model_status` (COMPLETED, FAILED or PENDING), `credits_deduction` (US dollars: the clip's
price once COMPLETED, 0 otherwise — a failed job is not charged), `request_body` (the
inputs as sent), `generation_url` (the clip's output URL once COMPLETED; it answers while
the output is kept, see `output_retention`), `latency_ms`, `model_created` and
`model_updated` (UTC, ISO 8601) and, for failures, `error`. Each key sees only its own.

The listing's query parameters are the SDK's: `page`, `per_page` (1-100), `from_date` and
`to_date` (YYYY-MM-DD, UTC, inclusive; 7 days ago and today by default; at most 31 days
apart), `model_name` (a substring), `status`, `user_id` / `user_email`, `sort_by`
(`model_created`, `model_name`, `credits_deduction`) and `sort_order` (`desc`, `asc`). The
page is `{"data": [...], "page", "per_page", "total", "total_pages"}` — the SDK documents
only "a paginated dictionary", so these names are the emulator's own.

Pure: times are passed in, rows are built from the jobs on demand.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .jobs import COMPLETED, FAILED, Job

#: rows kept per key (the oldest go first): a long-running emulator's memory stays bounded
MAX_ROWS = 10_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
DEFAULT_DAYS = 7
MAX_SPAN_DAYS = 31
STATUSES = ("COMPLETED", "FAILED", "PENDING")
SORT_KEYS = ("model_created", "model_name", "credits_deduction")


class BadQuery(ValueError):
    """A query parameter the history does not take (answered 400)."""


def key_digest(api_key: str) -> str:
    """Who a row belongs to, without keeping the key itself."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def user_id_of(digest: str) -> str:
    """A stable UUID for the account of a key (rows carry it, `user_id=` filters by it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sora-widget-emulator:{digest}"))


@dataclass
class _Entry:
    job: Job
    owner: str
    body: dict[str, Any]


class RequestHistory:
    """Every request of every key, newest last."""

    def __init__(self) -> None:
        self._rows: dict[str, OrderedDict[str, _Entry]] = {}

    def add(self, job: Job, *, owner: str, body: Mapping[str, Any]) -> None:
        rows = self._rows.setdefault(owner, OrderedDict())
        rows[job.request_id] = _Entry(job, owner, dict(body))
        while len(rows) > MAX_ROWS:
            rows.popitem(last=False)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def get(self, owner: str, request_id: str, output_url: Callable[[Job], str]) -> dict[str, Any] | None:
        rows = self._rows.get(owner)
        entry = rows.get(request_id) if rows is not None else None
        return None if entry is None else row(entry, output_url)

    def page(
        self, owner: str, query: Mapping[str, str], output_url: Callable[[Job], str], *, today: date
    ) -> dict[str, Any]:
        """One page of `owner`'s rows as the query asks (`BadQuery` for a parameter it
        cannot take)."""
        asked = parse_query(query, today=today)
        kept = self._rows.get(owner)
        rows = [row(entry, output_url) for entry in (kept.values() if kept is not None else ())]
        chosen = [r for r in rows if asked.admits(r)]
        key = asked.sort_by
        chosen.sort(key=lambda r: (r[key] is None, r[key] if r[key] is not None else 0, r["request_id"]))
        if asked.descending:
            chosen.reverse()
        start = (asked.page - 1) * asked.per_page
        return {
            "data": chosen[start : start + asked.per_page],
            "page": asked.page,
            "per_page": asked.per_page,
            "total": len(chosen),
            "total_pages": max(1, math.ceil(len(chosen) / asked.per_page)),
        }


@dataclass(frozen=True)
class Query:
    page: int
    per_page: int
    first_day: date
    last_day: date
    model_name: str | None
    status: str | None
    user_id: str | None
    user_email: str | None
    sort_by: str
    descending: bool

    def admits(self, r: Mapping[str, Any]) -> bool:
        created = _day(r["model_created"])
        if not self.first_day <= created <= self.last_day:
            return False
        if self.model_name and self.model_name.casefold() not in str(r["model_name"]).casefold():
            return False
        if self.status and r["model_status"] != self.status:
            return False
        if self.user_id and r["user_id"] != self.user_id:
            return False
        return not (self.user_email and r["user_email"] != self.user_email)


def parse_query(query: Mapping[str, str], *, today: date) -> Query:
    page = _whole(query, "page", 1, minimum=1)
    per_page = _whole(query, "per_page", DEFAULT_PER_PAGE, minimum=1)
    if per_page > MAX_PER_PAGE:
        raise BadQuery(f"per_page must be from 1 to {MAX_PER_PAGE}")
    last = _date(query, "to_date", today)
    first = _date(query, "from_date", last - timedelta(days=DEFAULT_DAYS))
    if first > last:
        raise BadQuery("from_date is after to_date")
    if (last - first).days > MAX_SPAN_DAYS:
        raise BadQuery(f"the window may span at most {MAX_SPAN_DAYS} days")
    status = query.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadQuery(f"status must be one of {', '.join(STATUSES)}")
    sort_by = query.get("sort_by") or "model_created"
    if sort_by not in SORT_KEYS:
        raise BadQuery(f"sort_by must be one of {', '.join(SORT_KEYS)}")
    order = query.get("sort_order") or "desc"
    if order not in ("asc", "desc"):
        raise BadQuery("sort_order must be asc or desc")
    return Query(
        page=page,
        per_page=per_page,
        first_day=first,
        last_day=last,
        model_name=query.get("model_name") or None,
        status=status,
        user_id=query.get("user_id") or None,
        user_email=query.get("user_email") or None,
        sort_by=sort_by,
        descending=order == "desc",
    )


def row(entry: _Entry, output_url: Callable[[Job], str]) -> dict[str, Any]:
    """One request as the history shows it."""
    job = entry.job
    ended = job.completed_at
    status = job.status if job.status in (COMPLETED, FAILED) else "PENDING"
    user = user_id_of(entry.owner)
    return {
        "request_id": job.request_id,
        "model_name": job.model,
        "model_status": status,
        "credits_deduction": job.cost_usd if status == COMPLETED else 0.0,
        "request_body": entry.body,
        "generation_url": output_url(job) if status == COMPLETED else None,
        "latency_ms": None if ended is None else round((ended - job.submitted_at) * 1000),
        "model_created": iso(job.submitted_at),
        "model_updated": iso(ended if ended is not None else job.submitted_at),
        "error": job.failure if status == FAILED else None,
        "user_id": user,
        "user_email": f"{user[:8]}@emulator.invalid",
    }


def iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _whole(query: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadQuery(f"{name} must be a whole number") from None
    if value < minimum:
        raise BadQuery(f"{name} must be at least {minimum}")
    return value


def _date(query: Mapping[str, str], name: str, default: date) -> date:
    text = query.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name} must be a date, YYYY-MM-DD") from None
