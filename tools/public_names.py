"""Write the TYPE_CHECKING imports of sora_widget/__init__.py from its `_LAZY_BY_MODULE`.

    python tools/public_names.py          # (re)write the block
    python tools/public_names.py --check  # exit 1 when the block is not what it would write

The public names loaded on first use are written once, in `_LAZY_BY_MODULE`; type
checkers and editors need them as imports too, so this script writes those imports
(tests/unit/test_public_names.py runs the check, and checks every name in `__all__`
resolves).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "sora_widget" / "__init__.py"
BEGIN = "# -- written by tools/public_names.py from _LAZY_BY_MODULE: do not edit"
END = "# -- end of the written block"
WIDTH = 110


def lazy_by_module(source: str) -> dict[str, tuple[str, ...]]:
    """`_LAZY_BY_MODULE` as written in the source (read, not imported)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "_LAZY_BY_MODULE":
            value = ast.literal_eval(node.value)  # type: ignore[arg-type]
            return {str(k): tuple(v) for k, v in value.items()}
    raise LookupError("no _LAZY_BY_MODULE in sora_widget/__init__.py")


def block(table: dict[str, tuple[str, ...]]) -> str:
    lines = ["if TYPE_CHECKING:", "    from . import emulator"]
    for module in sorted(table):
        lines += _import(module, sorted(table[module]))
    return "\n".join(lines)


def _import(module: str, names: list[str]) -> list[str]:
    """One import, as ruff formats it: on one line when it fits, else a name per line."""
    plain = f"    from .{module} import " + ", ".join(names)
    if len(plain) <= WIDTH:
        return [plain]
    return [f"    from .{module} import (", *(f"        {name}," for name in names), "    )"]


def generate(source: str) -> str:
    start = source.index(BEGIN)
    start = source.index("\n", start) + 1
    end = source.index(END)
    return source[:start] + block(lazy_by_module(source)) + "\n" + source[end:]


def main(argv: list[str]) -> int:
    from _written import write_or_check  # beside this file: run as a script, not imported

    text = generate(TARGET.read_text(encoding="utf-8"))
    return write_or_check({TARGET: text}, argv, remedy="run tools/public_names.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
