"""Write js/test/fixtures/options.json: the widget's `options` trait as the kernel sends it
(`params.view_options()`, at the catalogue's prices).

    python tools/view_options_json.py          # (re)write the file
    python tools/view_options_json.py --check  # exit 1 when the file is not what it would write

The view's tests run on it (js/test/fakes.ts, js/test/catalogue.test.ts: every model's
allowed values reach its controls), so they test the real catalogue rather than a copy
typed by hand; tests/unit/test_protocol.py fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "js" / "test" / "fixtures" / "options.json"


def generate() -> str:
    sys.path.insert(0, str(ROOT))
    from sora_widget.params import view_options

    return json.dumps(view_options(), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    from _written import write_or_check  # beside this file: run as a script, not imported

    return write_or_check({TARGET: generate()}, argv, remedy="run `make protocol`")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
