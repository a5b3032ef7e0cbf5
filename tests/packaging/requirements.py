"""Print requirements from pyproject.toml, one a line, for pip install -r.

    python tests/packaging/requirements.py --build       # what building the wheel here needs
    python tests/packaging/requirements.py [EXTRA ...]   # that, the dependencies, the extras (dev)

`make` installs the first set into .venv, then the second while js/ is being built, and then
the wheel itself without dependencies: `pip check` then tells whether the wheel's own
requirements hold. An extra's references to sora-widget's other extras are followed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: the venv's pip carries a TOML reader
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
SELF = re.compile(r"sora-widget\s*\[(?P<extras>[^\]]+)\]")
#: the build frontend, `python -m build` (named in the dev extra)
FRONTEND = re.compile(r"build\b(?![-_.])")


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads(PYPROJECT.read_text())


def build_requirements() -> list[str]:
    project = _project()
    frontend = [r for r in project["project"]["optional-dependencies"]["dev"] if FRONTEND.match(r)]
    return [*project["build-system"]["requires"], *frontend]


def requirements(extras: list[str]) -> list[str]:
    project = _project()
    optional = project["project"]["optional-dependencies"]
    found = [*build_requirements(), *project["project"]["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        for requirement in optional[extra]:
            own = SELF.fullmatch(requirement.strip())
            if own:
                todo += [name.strip() for name in own["extras"].split(",")]
            else:
                found.append(requirement)
    return list(dict.fromkeys(found))


if __name__ == "__main__":
    args = sys.argv[1:]
    print("\n".join(build_requirements() if args == ["--build"] else requirements(args or ["dev"])))
