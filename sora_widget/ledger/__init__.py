"""The write-ahead ledger: every job event, durable before the request it guards is sent.

A row is written *before* the submit is sent and updated the moment the request id is
known, so a crash, a closed laptop or a kernel restart never loses a job that was paid
for: `pending()` finds it and `resume()` finishes it.

It is a SQLite database in the output dir (`ledger.sqlite`), as IPython keeps its
history: atomic, crash-safe, shared safely by several kernels and processes, and
indexed — so a job costs the same with a hundred or a hundred thousand generations
behind it. `generations` holds each generation's current record (indexed by id,
request id, status, batch, request identity, notebook); `events` the append-only
history; `refs` each data-URI reference image once; `claims` the batch items taken by
some run. An old `ledger.jsonl` beside it is imported once (see `_jsonl`).

`Ledger.log` is the one door every job event goes through: written durably first, then
told to this ledger's `observers` (the notebook's metadata mirror, in a kernel).

A ledger may come from someone else (a `sora-outputs/` in a clone): whatever only reads
opens it with `read_only=True`, leaving the folder as it came, and every open refuses a
database whose schema is not exactly ours (a view or trigger would run its code) and
stops a query that runs away, or on Ctrl-C (see `_db`).
"""

from ._store import LEDGER_NAME, RESUMABLE_FOR, Ledger, LedgerWriteError, Observer, needs_finishing
from ._writers import pid_alive

__all__ = [
    "LEDGER_NAME",
    "RESUMABLE_FOR",
    "Ledger",
    "LedgerWriteError",
    "Observer",
    "needs_finishing",
    "pid_alive",
]
