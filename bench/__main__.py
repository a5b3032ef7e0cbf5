"""`make bench`: every benchmark, one table, and bench/results/latest.json.

python -m bench                 # everything (several minutes on 2 cores)
python -m bench poll rss        # just some: poll, lag, rss, import, playable, batch, history, stitch, pacing
"""

from __future__ import annotations

import sys
import time

from . import batch, download_rss, history, import_time, loop_lag, pacing, poll, stitch_memory
from .common import Row, print_table, write_json

BENCHES = {
    "poll": lambda: poll.run(),
    "lag": lambda: loop_lag.run(),
    "rss": lambda: download_rss.run(),
    "import": lambda: import_time.run(),
    "playable": lambda: _playable(),
    "batch": lambda: batch.run(),
    "history": lambda: history.run(),
    "stitch": lambda: stitch_memory.run(),
    "pacing": lambda: pacing.run(),
}


def _playable() -> list[Row]:
    from . import click_to_playable

    return click_to_playable.run()


def main(names: list[str]) -> int:
    chosen = names or list(BENCHES)
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHES)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    started = time.time()
    for name in chosen:
        print(f"… {name}", file=sys.stderr, flush=True)
        rows.extend(BENCHES[name]())
    print_table(rows)
    path = write_json("latest", rows, {"benches": chosen, "seconds": round(time.time() - started, 1)})
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
