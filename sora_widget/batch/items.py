"""What `generate_many` accepts, made into validated parameters, and the ids that name them.

Items are prompts, parameter dicts, or a pandas DataFrame with those columns. Every
item is checked before anything is sent, and a bad one is named by its index. The
batch id is a hash of the normalised items, so the same call made again — after a
kernel restart — finds its own jobs in the ledger.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._files import file_sha256
from ..errors import InvalidParams
from ..params import COMMON_FIELDS, DEFAULT_MODEL, MODEL, MODELS, Request, reference_kind, validate

#: the keys an item dict (or the columns a DataFrame) may have: the first ones, then every
#: other field a catalogued model takes (its own options by their names)
ITEM_KEYS = ("prompt", "duration", "size", "input_reference", "model", "take")
FIELD_KEYS = tuple(
    sorted({*COMMON_FIELDS, *(f.name for m in MODELS.values() for f in m.custom_options)} - set(ITEM_KEYS))
)
_ALL_KEYS = (*ITEM_KEYS, *FIELD_KEYS)
_ITEMS_ALLOWED = (
    "a list of prompts, of dicts with " + "/".join(ITEM_KEYS) + " (and a model's fields), or a DataFrame"
)


@dataclass(frozen=True)
class Item:
    """One item of a batch: validated parameters, the model and which take."""

    params: Request
    model: str = DEFAULT_MODEL
    take: int = 1


def normalize_items(
    items: object,
    *,
    duration: object = None,
    size: object = None,
    model: object = DEFAULT_MODEL,
    take: object = 1,
    **fields: object,
) -> list[Item]:
    """Validated items, in order. `duration`, `size`, `model`, `take` and `fields` (any
    other field of the model) apply where an item does not say; None: the model's default.
    Raises `InvalidParams` naming the first bad item's index."""
    rows = _rows(items)
    if not rows:
        raise InvalidParams("items", items, f"{_ITEMS_ALLOWED}, with at least one item")
    defaults = {"duration": duration, "size": size, "model": model, "take": take, **fields}
    return [_item(index, row, defaults) for index, row in enumerate(rows)]


def param_hash(item: Item | Request) -> str:
    """A short, stable hash of one item (a local reference image by content). The model
    and take count only when they are not the defaults, so a batch id made before there
    was a choice stays the same."""
    if isinstance(item, Request):
        item = Item(item, item.model)
    data = item.params.to_dict()
    reference = item.params.input_reference
    if reference is not None and reference_kind(reference) == "path":
        # the same file name with other pixels is another item
        data["input_reference"] = {"path": reference, "sha256": file_sha256(reference)[0]}
    if item.model != DEFAULT_MODEL:
        data["model"] = item.model
    if item.take != 1:
        data["take"] = item.take
    return _digest(data)


def batch_id_for(hashes: Iterable[str], *, api_host: str, model: str = MODEL) -> str:
    """The default batch id: the same items (in the same order), sent to the same API,
    give the same id. (A batch run on the emulator is not done on Segmind.)"""
    return _digest({"model": model, "api_host": api_host, "items": list(hashes)})


def _rows(items: object) -> list[object]:
    if isinstance(items, (str, bytes, Mapping)):
        raise InvalidParams("items", items, f"{_ITEMS_ALLOWED} (a single prompt goes in a list)")
    if _is_dataframe(items):
        return _dataframe_rows(items)
    if not isinstance(items, Iterable):
        raise InvalidParams("items", items, _ITEMS_ALLOWED)
    return list(items)


def _is_dataframe(items: object) -> bool:
    # pandas is optional: recognise a DataFrame without importing it
    kind = type(items)
    return kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] == "pandas"


def _dataframe_rows(frame: Any) -> list[object]:
    columns = [str(c) for c in frame.columns]
    if "prompt" not in columns:
        raise InvalidParams(
            "items", f"a DataFrame with columns {columns}", "a DataFrame with a 'prompt' column"
        )
    # Other columns (notes, ids, …) are the user's own and are left alone.
    wanted = [c for c in _ALL_KEYS if c in columns]
    return [
        {key: _missing_to_none(value) for key, value in zip(wanted, row, strict=True)}
        for row in frame[wanted].itertuples(index=False, name=None)
    ]


def _missing_to_none(value: object) -> object:
    """pandas fills gaps with NaN (or NA/NaT): an empty cell means "not given"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    kind = type(value)
    if kind.__name__ in ("NAType", "NaTType"):
        return None
    item = getattr(value, "item", None)  # numpy scalars (int64 durations) → Python values
    if callable(item) and kind.__module__ == "numpy":
        return item()
    return value


def _item(index: int, row: object, defaults: dict[str, object]) -> Item:
    if isinstance(row, Request):
        row = {**row.values(), "prompt": row.prompt, "model": row.model}
    if isinstance(row, str):
        row = {"prompt": row}
    if not isinstance(row, Mapping):
        raise InvalidParams(f"items[{index}]", row, "a prompt, or a dict with " + "/".join(ITEM_KEYS))
    unknown = sorted(str(k) for k in row if k not in _ALL_KEYS)
    if unknown:
        raise InvalidParams(f"items[{index}]", f"keys {unknown}", f"only the keys {', '.join(ITEM_KEYS)}")
    given = {k: v for k, v in {**defaults, **{k: v for k, v in row.items() if v is not None}}.items()}
    which = given.pop("take")
    fields = {k: v for k, v in given.items() if v is not None and k != "prompt"}
    try:
        params = validate(row.get("prompt"), **fields)
        if isinstance(which, bool) or not isinstance(which, int) or which < 1:
            raise InvalidParams("take", which, "a whole number ≥ 1")
    except InvalidParams as error:
        raise InvalidParams(f"items[{index}].{error.field}", error.value, error.allowed) from None
    return Item(params, params.model, which)


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
