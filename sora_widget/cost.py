"""Money: what a clip will cost before it is asked for, and a budget this kernel will not
pass. Pure arithmetic on the model table's prices (`params.MODELS`), with the user's
own prices (`sw.configure(prices=...)`, `SORA_WIDGET_PRICES`) over them.

Spend is this process's (this kernel's): every submit reserves its estimate before any
request is sent, and the reservation becomes the job's real cost when it is known (the
API's figure, else the estimate), nothing when the job failed or was refused. A
reservation is taken under a lock, so submits racing for the last dollars never pass
the budget together. Reused and resumed jobs submit nothing, so they cost nothing here.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .checks import check_limit
from .errors import BudgetExceeded, InvalidParams
from .params import DEFAULT_MODEL, MODELS, PRICE_SOURCE, READ_ON, Request, clip_price, validate

PRICES_ENV = "SORA_WIDGET_PRICES"
BUDGET_ENV = "SORA_WIDGET_BUDGET_USD"

#: model → price key → US dollars (per second of video or per clip, as the model's rule
#: says; the key is the value of the field its price depends on: a size, "sound"/"silent")
Prices = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Estimate:
    """What a clip will cost: `usd`, and `basis` (where the price comes from, and its date)."""

    usd: float
    basis: str
    model: str
    duration: int
    size: str | None
    usd_per_second: float

    def __str__(self) -> str:
        return f"≈ ${self.usd:.2f} · {self.model} · {self.duration} s"


def table_prices() -> Prices:
    return {name: dict(model.price.usd) for name, model in MODELS.items()}


def parse_prices(value: object, *, source: str) -> Prices:
    """User prices: {model: usd} (every price of the model) or {model: {key: usd}}, every
    model one of the catalogue's, every key one of its price keys (a size for Sora; "sound"
    and "silent" for models priced by sound, …), every price a finite number ≥ 0 — per
    second or per clip as the model's own rule says (`sw.models()`)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidParams(
                source, value, 'JSON like {"sora-2": 0.1, "sora-2-pro": {"1792x1024": 0.5}}'
            ) from None
    if not isinstance(value, Mapping):
        raise InvalidParams(source, value, "a mapping of model to a price (or to prices by size)")
    prices: Prices = {}
    for name, given in value.items():
        if name not in MODELS:
            raise InvalidParams(f"{source}[{name!r}]", name, list(MODELS))
        keys = list(MODELS[name].price.usd)
        by_key = dict.fromkeys(keys, given) if not isinstance(given, Mapping) else dict(given)
        for key, usd in by_key.items():
            if key not in keys:
                raise InvalidParams(f"{source}[{name!r}][{key!r}]", key, keys)
            if isinstance(usd, bool) or not isinstance(usd, int | float) or not math.isfinite(usd) or usd < 0:
                raise InvalidParams(f"{source}[{name!r}][{key!r}]", usd, "a price in US dollars, ≥ 0")
            prices.setdefault(name, {})[key] = float(usd)
    return prices


def effective_prices(configured: Mapping[str, Mapping[str, float]] | None = None) -> Prices:
    """The table's prices, with SORA_WIDGET_PRICES over them, with `configured` over both."""
    prices = table_prices()
    layers: list[Mapping[str, Mapping[str, float]]] = []
    from_env = os.environ.get(PRICES_ENV)
    if from_env:
        layers.append(parse_prices(from_env, source=PRICES_ENV))
    if configured:
        layers.append(configured)
    for layer in layers:
        for name, by_key in layer.items():
            prices[name].update(by_key)
    return prices


def estimate(
    *,
    model: str = DEFAULT_MODEL,
    duration: int | str | None = None,
    size: str | None = None,
    prices: Prices | None = None,
    **fields: object,
) -> Estimate:
    """What one clip of `model` with these values will cost (checked as a submit would
    check them: `InvalidParams` names what is allowed). `fields`: the model's other values
    that its price may depend on (sound, resolution, …), as `sw.generate` takes them."""
    request = validate(
        "(estimate)", model=model, duration=duration, size=size, allow_local_reference=False, **fields
    )
    return estimate_request(request, prices=prices)


def estimate_request(request: Request, *, prices: Prices | None = None) -> Estimate:
    """What `request` will cost at `prices` (the table's, under the user's own, when None)."""
    rule = MODELS[request.model].price
    table = prices if prices is not None else effective_prices()
    usd, per_second = clip_price(request, table[request.model])
    listed, _ = clip_price(request)
    per = "second of video" if rule.per == "second" else "clip"
    rate = per_second if rule.per == "second" else usd
    basis = (
        f"your price, ${rate:g} per {per} (sw.configure(prices=…) or {PRICES_ENV})"
        if usd != listed
        else f"{PRICE_SOURCE}, ${rate:g} per {per}, as of {READ_ON}"
    )
    return Estimate(usd, basis, request.model, request.duration, request.size, per_second)


def budget_from_env() -> float | None:
    text = os.environ.get(BUDGET_ENV, "").strip()
    return check_budget(text, source=BUDGET_ENV) if text else None


def check_budget(value: object, *, source: str = "budget_usd") -> float | None:
    allowed = "an amount in US dollars, ≥ 0 (or None for no budget)"
    return check_limit(value, source=source, allowed=allowed, zero_allowed=True)


@dataclass(frozen=True)
class Spend:
    """This kernel's spend: `usd` (reserved for jobs under way, and what finished ones
    cost: Segmind's own charge once its request history names it), `jobs` submitted, the
    `budget_usd` (None: no budget) and `remaining_usd`; `remaining_credits`: the account's
    credits left, as the API last said (`x-remaining-credits`; None until it says)."""

    usd: float
    jobs: int
    budget_usd: float | None
    remaining_usd: float | None
    remaining_credits: float | None = None

    def __str__(self) -> str:
        text = f"${self.usd:.2f} spent on {self.jobs} job(s) in this kernel"
        if self.budget_usd is not None and self.remaining_usd is not None:
            text += f" · budget ${self.budget_usd:.2f}, ${self.remaining_usd:.2f} left"
        if self.remaining_credits is not None:
            text += f" · {self.remaining_credits:g} credits left on the account"
        return text


class Budget:
    """This process's spend and the budget it must stay within. Thread-safe."""

    def __init__(self, budget_usd: float | None = None) -> None:
        self._lock = threading.Lock()
        self.budget_usd = budget_usd
        self._costs: dict[str, float] = {}  # job id → reserved or known cost
        self._credits: float | None = None  # the account's credits left, as last heard

    def set(self, budget_usd: float | None) -> None:
        with self._lock:
            self.budget_usd = budget_usd

    def spend(self) -> Spend:
        with self._lock:
            usd = round(sum(self._costs.values()), 6)
            remaining = None if self.budget_usd is None else round(max(0.0, self.budget_usd - usd), 6)
            return Spend(usd, len(self._costs), self.budget_usd, remaining, self._credits)

    def note_credits(self, credits: float) -> None:
        """The API said how many credits the account has left (`x-remaining-credits`)."""
        if math.isfinite(credits) and credits >= 0:
            with self._lock:
                self._credits = credits

    def check(self, usd: float, *, what: str = "this clip", jobs: int = 1) -> None:
        """Would spending `usd` more pass the budget? `BudgetExceeded` says by how much."""
        with self._lock:
            self._check(usd, what, jobs)

    def reserve(self, job_id: str, usd: float) -> None:
        """Count `usd` for `job_id` now, before its submit is sent; refuse past the budget."""
        with self._lock:
            if job_id in self._costs:
                return
            self._check(usd, "this clip", 1)
            self._costs[job_id] = usd

    def settle(self, job_id: str, usd: float) -> None:
        """The job's real cost is known (0 for a failed or refused one)."""
        with self._lock:
            if job_id in self._costs:
                self._costs[job_id] = usd

    def release(self, job_id: str) -> None:
        """The submit was refused outright: nothing was billed, nothing counts."""
        with self._lock:
            self._costs.pop(job_id, None)

    def _check(self, usd: float, what: str, jobs: int) -> None:
        if self.budget_usd is None:
            return
        spent = sum(self._costs.values())
        if spent + usd > self.budget_usd + 1e-9:
            left = max(0.0, self.budget_usd - spent)
            raise BudgetExceeded(
                f"{what} would cost ≈ ${usd:.2f}, past this kernel's budget of ${self.budget_usd:.2f} "
                f"(${spent:.2f} spent, ${left:.2f} left); nothing was sent",
                needed_usd=usd,
                remaining_usd=left,
                jobs=jobs,
            )


_session: Budget | None = None
_session_lock = threading.Lock()


def session_budget() -> Budget:
    """This kernel's (this process's) budget and spend, from SORA_WIDGET_BUDGET_USD until
    `sw.configure(budget_usd=...)` says otherwise."""
    global _session
    with _session_lock:
        if _session is None:
            _session = Budget(budget_from_env())
        return _session
