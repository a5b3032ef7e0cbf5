"""What every tool here does with the text it generates: write it, or (`--check`) say
which file is not what it would write, and exit 1."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_or_check(files: Mapping[Path, str], argv: list[str], *, remedy: str) -> int:
    """`files`: each path and the text it should hold. `remedy`: how to make them fresh."""
    if "--check" in argv:
        stale = [path for path, text in files.items() if not path.exists() or path.read_text("utf-8") != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: {remedy}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
