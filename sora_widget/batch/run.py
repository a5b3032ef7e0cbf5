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
submit outcome is unknown are left alone (they may be billed) and failed ones are
submitted again only with `retry_failed=True`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from .. import api
from .._sync import run_blocking
from ..client import AsyncSoraClient
from ..environment import cell_context, in_kernel
from ..errors import InvalidParams, SoraError
from ..ledger import Ledger
from ..params import DEFAULT_DURATION, DEFAULT_SIZE, DEFAULT_TIMEOUT_S, GenerationParams
from ..records import Generation
from .items import batch_id_for, normalize_items, param_hash
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
                f", {t.unknown} with unknown submit outcome (may be running and billed: "
                "check your Segmind dashboard; they are not resubmitted)"
            )
        return text


def generate_many(
    items: object,
    *,
    concurrency: int = 4,
    duration: int | str = DEFAULT_DURATION,
    size: str = DEFAULT_SIZE,
    timeout: float = DEFAULT_TIMEOUT_S,
    client: AsyncSoraClient | None = None,
    batch_id: str | None = None,
    show: bool = True,
    retry_failed: bool = False,
) -> Batch:
    """Generate a clip per item, `concurrency` at a time; their records in input order.

    Items: prompts, dicts (prompt, duration, size, input_reference) or a pandas
    DataFrame with those columns; `duration` and `size` apply where an item does not
    say. Blocks until every item has ended — also in a notebook, where a gallery shows
    each item's status. Call it again with the same items to resume after a restart.
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
        ),
        explain=lambda: INTERRUPTED,
    )


async def agenerate_many(
    items: object,
    *,
    concurrency: int = 4,
    duration: int | str = DEFAULT_DURATION,
    size: str = DEFAULT_SIZE,
    timeout: float = DEFAULT_TIMEOUT_S,
    client: AsyncSoraClient | None = None,
    batch_id: str | None = None,
    show: bool = True,
    retry_failed: bool = False,
) -> Batch:
    """`generate_many` as a coroutine."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidParams("concurrency", concurrency, "a whole number of jobs, at least 1")
    params = normalize_items(items, duration=duration, size=size)
    hashes = [param_hash(p) for p in params]
    own = client is None and not in_kernel()
    # In a kernel: the shared client, whose limiter every widget and magic uses too.
    # Elsewhere (a script, asyncio.run) a client for this call, closed at its end.
    runner = client or (api.client() if own else api.shared_client())
    try:
        batch_id = batch_id or batch_id_for(hashes, api_host=runner.api_host)
        return await _run(runner, params, hashes, batch_id, concurrency, timeout, show, retry_failed)
    finally:
        if own:
            await runner.aclose()


async def _run(
    client: AsyncSoraClient,
    params: list[GenerationParams],
    hashes: list[str],
    batch_id: str,
    concurrency: int,
    timeout: float,
    show: bool,
    retry_failed: bool,
) -> Batch:
    known = await asyncio.to_thread(_records_of_batch, client.ledger, batch_id)
    steps = plan(
        batch_id,
        hashes,
        known,
        api_host=client.api_host,
        retry_failed=retry_failed,
        file_exists=lambda r: _saved(r, client.output_dir),
    )
    records = [_record_for(client, step, params, hashes, batch_id) for step in steps]
    for step, record in zip(steps, records, strict=True):
        if step.action == "unknown" and record.status != "UNKNOWN":
            await _mark_unknown(client, record)
    ended = {r.id for s, r in zip(steps, records, strict=True) if s.action in ("done", "unknown", "keep")}
    reporter = reporter_for(show, batch_id, records, client, ended)
    started = time.monotonic()
    slots = asyncio.Semaphore(concurrency)
    work = [
        _item(client, step.action, record, slots, timeout, reporter)
        for step, record in zip(steps, records, strict=True)
        if step.action in ("submit", "wait")
    ]
    try:
        await asyncio.gather(*work)
    finally:
        reporter.close(time.monotonic() - started)
    return Batch(records, batch_id)


def _record_for(
    client: AsyncSoraClient, step: Step, params: list[GenerationParams], hashes: list[str], batch_id: str
) -> Generation:
    if step.record is not None:
        return step.record
    p = params[step.index]
    return client.prepare(
        p.prompt,
        duration=p.duration,
        size=p.size,
        input_reference=p.input_reference,
        notebook=cell_context(),
        batch=batch_info(batch_id, step.index, hashes[step.index], len(hashes)),
    )


async def _item(
    client: AsyncSoraClient,
    action: str,
    record: Generation,
    slots: asyncio.Semaphore,
    timeout: float,
    reporter: Reporter,
) -> None:
    """One item's work; whatever happens ends up in its record."""

    def changed(updated: Generation) -> None:
        reporter.update(updated, active=True)

    async with slots:
        reporter.update(record, active=True)
        try:
            if action == "submit":
                await client.submit_prepared(record, on_update=changed)
            await client.wait(record, timeout=timeout, on_update=changed)
        except SoraError as error:
            record.error = error.to_dict()
        except Exception as error:  # a bug of ours: this item's record says so, the rest go on
            log.exception("sora-widget batch item %s failed unexpectedly", record.id)
            record.error = SoraError(f"unexpected {type(error).__name__}: {error}").to_dict()
        finally:
            reporter.update(record, finished=True)


async def _mark_unknown(client: AsyncSoraClient, record: Generation) -> None:
    """A submit that was under way when its process died: the server may have taken it."""
    await client.mark_unknown(
        record, "the process stopped while the submit was under way; the job may be running and billed"
    )


def _records_of_batch(ledger: Ledger, batch_id: str) -> list[Generation]:
    return [r for r in ledger.records().values() if (r.batch or {}).get("id") == batch_id]


def _saved(record: Generation, output_dir: Path) -> bool:
    """Is the record's clip on disk, whole? (Paths are relative to the working directory
    of the process that saved it, normally this one's; else looked for by name.)"""
    if not record.video_path:
        return False
    path = Path(record.video_path)
    for candidate in (path, output_dir / path.name):
        try:
            size = candidate.stat().st_size
        except OSError:
            continue
        return record.bytes is None or size == record.bytes
    return False


__all__ = ["Batch", "agenerate_many", "generate_many"]
