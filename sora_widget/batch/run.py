"""Many clips in one call: `generate_many` / `agenerate_many`.

    clips = sw.generate_many(["a red fox in snow", {"prompt": "rain on a tin roof", "duration": 4}])
    clips = sw.generate_many(df)          # a DataFrame with prompt (duration, size, …) columns

Every item is validated before anything is sent. Jobs run `concurrency` at a time on
one client — in a kernel the shared one, so the widget, the magics and every batch pace
their requests through the same rate limiter. A failure never stops the batch: each
item's record carries its outcome, and the results come back in input order.

The same call made again resumes: records carry `batch = {id, index, param_hash,
size}` and the ledger is read first (see `plan`), so a kernel restart costs no
second submit — finished items are returned, accepted ones are waited for, items whose
submit's answer was lost are looked for in the account's request history (found: waited
for; certainly never taken: NOT_SUBMITTED, submitted again; the history cannot say: left
alone, they may be billed) and failed ones are submitted again only with
`retry_failed=True`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import api
from .._files import MAX_CLIP_BYTES, FileRefused, RecordFileMissing, open_record_file
from .._sync import run_blocking
from ..checks import check_timeout
from ..client import AsyncSoraClient
from ..client._resolve import SUBMIT_MAX_S
from ..client._reuse import clip_candidates, clip_roots
from ..environment import cell_context, in_kernel
from ..errors import BudgetExceeded, InvalidParams, SoraError
from ..params import DEFAULT_TIMEOUT_S
from ..records import Generation, parse_time
from .items import Item, batch_id_for, normalize_items, param_hash
from .plan import Step, batch_info, plan
from .tally import BatchTally, tally
from .view import Reporter, reporter_for

log = logging.getLogger(__name__)

INTERRUPTED = (
    "Stopped waiting for the batch. Jobs already submitted keep running on the server (and are "
    "billed); submits under way finish in the background. The same generate_many call again "
    "collects them without submitting anything twice."
)


class Batch(list[Generation]):
    """The records of a batch, in input order (a plain list, plus its id and a tally)."""

    def __init__(self, records: Sequence[Generation], batch_id: str) -> None:
        super().__init__(records)
        self.id = batch_id

    @property
    def tally(self) -> BatchTally:
        return tally(self, {r.id for r in self}, ())

    def summary(self) -> str:
        t = self.tally
        text = f"batch {self.id}: {t.completed} of {t.total} completed"
        if t.failed:
            text += f", {t.failed} failed"
        if t.unknown:
            text += (
                f", {t.unknown} with unknown submit outcome (may be running and billed, and Segmind's "
                "request history could not tell yet: they are not resubmitted; the same call asks again)"
            )
        unsent = sum(1 for r in self if r.status == "NOT_SUBMITTED")
        if unsent:
            text += (
                f" ({unsent} of the failed never reached Segmind: nothing billed; the same call submits them)"
            )
        return text


def generate_many(
    items: object,
    *,
    concurrency: int = 4,
    duration: int | str | None = None,
    size: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    client: AsyncSoraClient | None = None,
    batch_id: str | None = None,
    show: bool = True,
    retry_failed: bool = False,
    model: str | None = None,
    take: int = 1,
    reuse: bool = True,
    **fields: Any,
) -> Batch:
    """Generate a clip per item, `concurrency` at a time; their records in input order.

    Items: prompts, dicts (prompt, duration, size, input_reference, model, take, and
    any field of the model: first_frame, sound, …) or a pandas DataFrame with those
    columns; `duration`, `size`, `model` and `fields` apply where an item does not say
    (the model's defaults where nothing does). Blocks until every item has ended — also
    in a notebook, where a gallery shows each item's status. Call it again with the same
    items to resume after a restart.
    """
    return run_blocking(
        agenerate_many(
            items,
            concurrency=concurrency,
            duration=duration,
            size=size,
            timeout=timeout,
            client=client,
            batch_id=batch_id,
            show=show,
            retry_failed=retry_failed,
            model=model,
            take=take,
            reuse=reuse,
            **fields,
        ),
        explain=lambda: INTERRUPTED,
    )


async def agenerate_many(
    items: object,
    *,
    concurrency: int = 4,
    duration: int | str | None = None,
    size: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    client: AsyncSoraClient | None = None,
    batch_id: str | None = None,
    show: bool = True,
    retry_failed: bool = False,
    model: str | None = None,
    take: int = 1,
    reuse: bool = True,
    **fields: Any,
) -> Batch:
    """`generate_many` as a coroutine."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidParams("concurrency", concurrency, "a whole number of jobs, at least 1")
    check_timeout(timeout)
    own = client is None and not in_kernel()
    # In a kernel: the shared client, whose limiter every widget and magic uses too.
    # Elsewhere (a script, asyncio.run) a client for this call, closed at its end.
    runner = client or (api.client() if own else await api.kernel_client())
    try:
        params = normalize_items(
            items, duration=duration, size=size, model=model or runner.model, take=take, **fields
        )
        hashes = [param_hash(p) for p in params]
        batch_id = batch_id or batch_id_for(hashes, api_host=runner.api_host)
        return await _run(runner, params, hashes, batch_id, concurrency, timeout, show, retry_failed, reuse)
    finally:
        if own:
            await runner.aclose()


async def _run(
    client: AsyncSoraClient,
    params: list[Item],
    hashes: list[str],
    batch_id: str,
    concurrency: int,
    timeout: float,
    show: bool,
    retry_failed: bool,
    reuse: bool,
) -> Batch:
    known = await asyncio.to_thread(client.ledger.of_batch, batch_id)
    await _settle_lost_submits(client, known)
    steps = plan(
        batch_id,
        hashes,
        known,
        api_host=client.api_host,
        retry_failed=retry_failed,
        file_exists=lambda r: _saved(r, client.output_dir),
    )
    records = [_record_for(client, step, params, hashes, batch_id) for step in steps]
    if reuse:  # items this batch never sent, answered by the same request made elsewhere
        for position, (step, record) in enumerate(zip(steps, records, strict=True)):
            if step.action == "submit" and not step.after:
                steps[position], records[position] = await _reuse(client, step, record)
    _within_budget(client, [params[s.index] for s in steps if s.action == "submit"])
    for step, record in zip(steps, records, strict=True):
        if step.action == "unknown" and record.status == "UNKNOWN":
            continue
        if step.action == "unknown" and await _cut_off(client, record):
            await _mark_unknown(client, record)
    ended = {
        r.id
        for s, r in zip(steps, records, strict=True)
        if s.action in ("done", "keep") or (s.action == "unknown" and r.status == "UNKNOWN")
    }
    reporter = reporter_for(show, batch_id, records, client, ended)
    started = time.monotonic()
    slots = asyncio.Semaphore(concurrency)
    item = _Item(client, batch_id, slots, timeout, reporter)
    work = {
        step.index: asyncio.ensure_future(item.run(step, record))
        for step, record in zip(steps, records, strict=True)
        if step.action in ("submit", "wait") or (step.action == "unknown" and record.status != "UNKNOWN")
    }
    try:
        finished = await asyncio.gather(*work.values())
    finally:
        for task in work.values():
            task.cancel()  # an interrupted call stops its waits (submits finish, shielded)
        reporter.close(time.monotonic() - started)
    for index, record in zip(work, finished, strict=True):
        records[index] = record
    return Batch(records, batch_id)


def _record_for(
    client: AsyncSoraClient, step: Step, items: list[Item], hashes: list[str], batch_id: str
) -> Generation:
    if step.record is not None:
        return step.record
    item = items[step.index]
    return client.prepare(
        item.params,
        take=item.take,
        notebook=cell_context(),
        batch=batch_info(batch_id, step.index, hashes[step.index], len(hashes)),
    )


async def _reuse(client: AsyncSoraClient, step: Step, record: Generation) -> tuple[Step, Generation]:
    """An item's step once the ledger was asked for its request identity: its saved clip
    (done), its running job (wait), an attempt of unknown outcome (left alone, never
    resubmitted blindly), or — never asked, or its clip gone — a submit."""
    found = await client.find_reusable(record)
    if found is None or found.kind == "regenerate":
        return step, record
    action = {"done": "done", "attach": "wait", "unknown": "unknown"}[found.kind]
    return dataclasses.replace(step, action=action, record=found.record), found.record  # type: ignore[arg-type]


def _within_budget(client: AsyncSoraClient, to_pay: list[Item]) -> None:
    """The items not paid for yet must fit the budget together, or the batch is refused
    whole, before anything is sent — saying how many would fit."""
    spend = client.budget.spend()
    if spend.remaining_usd is None or not to_pay:
        return
    costs = [client.estimate(item.params).usd for item in to_pay]
    total = sum(costs)
    if total <= spend.remaining_usd + 1e-9:
        return
    fit, running = 0, 0.0
    for usd in costs:
        if running + usd > spend.remaining_usd + 1e-9:
            break
        running += usd
        fit += 1
    raise BudgetExceeded(
        f"the batch's {len(to_pay)} clip(s) not yet paid for would cost ≈ ${total:.2f}, past this kernel's "
        f"budget of ${spend.budget_usd:.2f} (${spend.usd:.2f} spent, ${spend.remaining_usd:.2f} left): "
        f"{fit} of them would fit. Nothing was sent",
        needed_usd=total,
        remaining_usd=spend.remaining_usd,
        jobs=len(to_pay),
    )


#: how often a run checks the ledger for an item another run is submitting
FOLLOW_EVERY_S = 0.5


class _Item:
    """One item's work; whatever happens ends up in its record, which it returns."""

    def __init__(
        self,
        client: AsyncSoraClient,
        batch_id: str,
        slots: asyncio.Semaphore,
        timeout: float,
        reporter: Reporter,
    ) -> None:
        self.client = client
        self.batch_id = batch_id
        self.slots = slots
        self.timeout = timeout
        self.reporter = reporter

    async def run(self, step: Step, record: Generation) -> Generation:
        async with self.slots:
            self.reporter.update(record, active=True)
            try:
                record = await self._take(step, record)
                # accepted and not over (or a finished clip whose file is gone, or one another
                # run found COMPLETED and is still saving): wait, download
                if step.action == "wait" or (record.request_id and not _over(record)):
                    await self.client.wait(record, timeout=self.timeout, on_update=self._changed)
            except SoraError as error:
                record.error = error.to_dict()
            except Exception as error:  # a bug of ours: this item's record says so, the rest go on
                log.exception("sora-widget batch item %s failed unexpectedly", record.id)
                record.error = SoraError(f"unexpected {type(error).__name__}: {error}").to_dict()
            finally:
                self.reporter.update(record, finished=True)
        return record

    async def _take(self, step: Step, record: Generation) -> Generation:
        """The item's job: submitted by this run when it wins the item's claim; else the
        one another run submits (followed in the ledger, never submitted twice)."""
        if step.action == "submit":
            claim = (self.batch_id, step.index, step.after)
            holder = await self.client.claim_and_submit(record, claim, on_update=self._changed)
            if holder is not None:
                return await self._follow(holder, record)
        elif step.action == "unknown":
            return await self._follow(record.id, record)
        return record

    async def _follow(self, generation_id: str, mine: Generation) -> Generation:
        """Watch the ledger while another run submits this item, until its request id is
        known (then it is waited for like a resumed job) or its submit ends otherwise.
        A submit that never answers within SUBMIT_MAX_S was cut off: UNKNOWN."""
        while True:
            theirs = await asyncio.to_thread(self.client.ledger.get, generation_id)
            current = theirs if theirs is not None else mine
            self.reporter.update(current, active=True)
            if current.request_id or current.status != "SUBMITTING":
                return current
            if await _cut_off(self.client, current):
                await _mark_unknown(self.client, current)
                return current
            await asyncio.sleep(FOLLOW_EVERY_S)

    def _changed(self, updated: Generation) -> None:
        self.reporter.update(updated, active=True)


async def _settle_lost_submits(client: AsyncSoraClient, known: list[Generation]) -> None:
    """The batch's submits whose answer was lost (UNKNOWN, or SUBMITTING and cut off),
    asked of the account's request history: each record becomes the job found, or
    NOT_SUBMITTED, or stays UNKNOWN (changed in place, every step in the ledger)."""
    for record in known:
        if record.request_id or record.api_host != client.api_host:
            continue
        if record.status == "SUBMITTING" and await _cut_off(client, record):
            await _mark_unknown(client, record)
        if record.status == "UNKNOWN":
            await client.resolve_unknown(record)


async def _cut_off(client: AsyncSoraClient, record: Generation) -> bool:
    """Was this SUBMITTING row's POST cut off? So when the process that wrote it can no
    longer hear the answer, or when it is older than any submit takes."""
    if record.submitted_at is None:
        return True
    age = (datetime.now(timezone.utc) - parse_time(record.submitted_at)).total_seconds()
    return age > SUBMIT_MAX_S or await asyncio.to_thread(client.ledger.submit_cut_off, record.id)


async def _mark_unknown(client: AsyncSoraClient, record: Generation) -> None:
    """A submit that was under way when its process died: the server may have taken it."""
    await client.mark_unknown(
        record, "the process stopped while the submit was under way; the job may be running and billed"
    )


def _over(record: Generation) -> bool:
    """Nothing left to do for the job: it ended, and if it COMPLETED its clip is saved. (A row
    another run wrote can say COMPLETED before that run's download ends: the clip is not
    there yet, and is fetched here too, to the same file.)"""
    return record.done and (record.status != "COMPLETED" or record.sha256 is not None)


def _saved(record: Generation, output_dir: Path) -> bool:
    """Is the record's clip on disk, whole? Through the rule for files a record names
    (inside this folder or the output dir, a regular file, never through a link) and of
    the size it was saved at; a record without a sha256 is never done. Not hashed: a batch
    of a thousand items is planned in a moment. (Paths are relative to the working
    directory of the process that saved it, normally this one's; else looked for by name.)"""
    if not record.video_path or not record.sha256:
        return False
    roots = clip_roots(output_dir)
    text = record.video_path
    for candidate, base in clip_candidates(text, output_dir):
        try:
            with open_record_file(candidate, base=base, roots=roots, max_bytes=MAX_CLIP_BYTES) as found:
                return record.bytes is None or found.size == record.bytes
        except RecordFileMissing:
            continue
        except FileRefused:
            return False
    return False


__all__ = ["Batch", "agenerate_many", "generate_many"]
