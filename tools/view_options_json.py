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
    text = generate()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `make protocol`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
