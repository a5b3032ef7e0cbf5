"""Print what the dev extra installs, one requirement a line, read from pyproject.toml.

`make` installs these into .venv before the wheel exists (and while npm installs js/), then
installs the wheel itself without dependencies: `pip check` tells whether the wheel's own
requirements hold. The extra's references to sora-widget's other extras are followed.

    python tests/packaging/requirements.py [EXTRA ...]    # default: dev
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


def requirements(extras: list[str]) -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text())
    optional = project["project"]["optional-dependencies"]
    found = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
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
    print("\n".join(requirements(sys.argv[1:] or ["dev"])))
