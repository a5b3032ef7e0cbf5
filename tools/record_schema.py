"""Write the enums of sora_widget/records/generation-v1.schema.json from the catalogue.

    python tools/record_schema.py          # (re)write the file
    python tools/record_schema.py --check  # exit 1 when the file is not what it would write

The record schema names models, sizes, durations, aspect ratios, resolutions and statuses;
each is defined once — the catalogue (`sora_widget.params`) and `records/schema.py` — and
copied here by this script, so a model added to the catalogue is a record the schema
accepts (tests/unit/test_provenance.py runs the check). Everything else in the schema is
written by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sora_widget import params  # noqa: E402
from sora_widget.records.schema import SCHEMA_FILE, STATUSES  # noqa: E402


def _values(name: str) -> list[Any]:
    """Every value of the field `name` some model offers, in catalogue order."""
    seen: list[Any] = []
    for model in params.MODELS.values():
        field = model.field(name)
        for value in field.values if field is not None else ():
            if value not in seen:
                seen.append(value)
    return seen


def generate() -> str:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    props = schema["properties"]
    props["model"]["enum"] = list(params.MODELS)
    props["status"]["enum"] = list(STATUSES)
    request = props["params"]["properties"]
    request["size"]["enum"] = [*params.SIZES, None]
    request["aspect_ratio"]["enum"] = [*_values("aspect_ratio"), None]
    request["resolution"]["enum"] = [*_values("resolution"), None]
    schema["$defs"]["clip_duration"]["enum"] = list(params.DURATIONS)
    # a clip's duration is one its own model offers (a film's is its whole length)
    schema["$defs"]["model_durations"] = {
        "allOf": [
            {
                "if": {"required": ["model"], "properties": {"model": {"const": name}}},
                "then": {
                    "properties": {"params": {"properties": {"duration": {"enum": list(model.durations)}}}}
                },
            }
            for name, model in params.MODELS.items()
        ]
    }
    clip = schema["allOf"][0]["else"]
    clip["allOf"] = [{"$ref": "#/$defs/model_durations"}]
    return _dumps(schema) + "\n"


def _dumps(value: Any, indent: str = "") -> str:
    """JSON with one key per line, and short values (scalars, lists of scalars, small
    objects) on one line, as the schema was written by hand."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, dict | list) or (len(flat) <= 100 and "{" not in flat[1:]):
        return flat
    inner = indent + "  "
    if isinstance(value, list):
        items = [inner + _dumps(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    items = [f"{inner}{json.dumps(k)}: {_dumps(v, inner)}" for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def main(argv: list[str]) -> int:
    from _written import write_or_check  # beside this file: run as a script, not imported

    return write_or_check({SCHEMA_FILE: generate()}, argv, remedy="run `make protocol`")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
