"""The package's imports run one way: no cycles, counting imports inside functions.

The walk reads every module's source (not what happens to be imported at run time), so
a cycle hidden in a function body fails here before it bites someone at import time.
Imports under `if TYPE_CHECKING:` are for the type checker only and do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sora_widget

PACKAGE = Path(sora_widget.__file__).parent
NAME = "sora_widget"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's own modules that `name` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if is_package(path) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            # `from . import params` imports the module params, not the package
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                for alias in node.names
            ]
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module"):
            # importlib.import_module(f".{name}", __name__) and the like: the package itself
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith(NAME) and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return cycles


def test_the_walker_finds_a_cycle_when_there_is_one():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_walker_sees_imports_inside_functions():
    edges = graph()
    assert edges, "no modules found"
    # sora_widget/__init__.py imports magics only inside load_ipython_extension
    assert "sora_widget.magics" in edges["sora_widget"]


def test_the_package_has_no_import_cycles():
    edges = graph()
    cycles = find_cycles(edges)
    assert cycles == [], "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


# -- the layer table of docs/architecture.md ---------------------------------------------------

ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"
#: stands apart from the table: the emulator imports only these of ours
EMULATOR_MAY_IMPORT = (
    "sora_widget.params",
    "sora_widget.records",
    "sora_widget.errors",
    "sora_widget._version",
)


def layer_table(text: str) -> list[tuple[str, list[str]]]:
    """(layer, the modules and packages its row names) in table order: a part of the
    modules column led by `pkg/` is that package; elsewhere every `x.py` is a module."""
    rows = []
    in_table = False
    for line in text.splitlines():
        if line.startswith("| layer |"):
            in_table = True
            continue
        if not in_table or line.startswith("| ---"):
            continue
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        names: list[str] = []
        for part in cells[1].split(";"):
            ticks = re.findall(r"`([^`]+)`", part)
            if ticks and ticks[0].endswith("/"):
                names.append(NAME + "." + ticks[0].rstrip("/").replace("/", "."))
            else:
                names += [NAME + "." + t.removesuffix(".py") for t in ticks if t.endswith(".py")]
        rows.append((cells[0], names))
    return rows


def layer_of(module: str, table: list[tuple[str, list[str]]]) -> int | None:
    for index, (_layer, names) in enumerate(table):
        if any(module == n or module.startswith(n + ".") for n in names):
            return index
    return None


def test_the_layer_table_names_every_module_and_no_import_runs_down_it():
    table = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))
    assert [layer for layer, _ in table][:3] == ["facts", "parameters", "money"]
    edges = graph()
    apart = {m for m in edges if m == NAME or m.startswith(f"{NAME}.emulator")}
    unnamed = sorted(m for m in edges if m not in apart and layer_of(m, table) is None)
    assert unnamed == [], f"modules docs/architecture.md's layer table does not name: {unnamed}"
    upward = [
        f"{a} ({table[layer_of(a, table)][0]}) imports {b} ({table[layer_of(b, table)][0]})"  # type: ignore[index]
        for a, targets in sorted(edges.items())
        if a not in apart
        for b in sorted(targets)
        if b not in apart and layer_of(b, table) > layer_of(a, table)  # type: ignore[operator]
    ]
    assert upward == [], "imports that run down the layer table:\n" + "\n".join(upward)
    for module in sorted(m for m in apart if m != NAME):
        outside = [
            b
            for b in edges[module]
            if not b.startswith((f"{NAME}.emulator", *EMULATOR_MAY_IMPORT)) and layer_of(b, table) != 0
        ]
        assert outside == [], f"{module} imports {outside}: the emulator stands apart"


def test_the_layer_check_would_catch_an_import_running_down_the_table():
    table = [("facts", ["sora_widget.errors"]), ("session", ["sora_widget.api"])]
    assert layer_of("sora_widget.api", table) > layer_of("sora_widget.errors", table)  # type: ignore[operator]
    parsed = layer_table(
        "| layer | modules | what |\n| --- | --- | --- |\n| p | `params/` — `a.py`; `checks.py` | x |\n"
    )
    assert parsed == [("p", ["sora_widget.params", "sora_widget.checks"])]
