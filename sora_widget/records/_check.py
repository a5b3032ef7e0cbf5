"""Checking a record read from a file against the shipped JSON Schema, without jsonschema.

A record in a notebook or a ledger someone sent us is untrusted input: a list where an
id belongs, an int where a time belongs, a dict for a status. Each would surface later
as a traceback far from its cause. So every record read from a file is checked on load
against `generation-v1.schema.json` — the schema itself, read by the small interpreter
below (the keywords the schema uses: type, enum, const, required, properties,
additionalProperties, items, minItems, pattern, minLength, minimum, $ref, anyOf, allOf,
if/then/else) — and refused,
naming the first field that is wrong, before any code of ours touches it.

Two liberties, both deliberate: keys the schema does not know at the top level are
ignored rather than refused (new fields are added to schema v1 additively, so a record
written by a newer sora-widget still loads; unknown keys are never loaded), and
`latency_s` is not checked (it is derived from the two times, never read back).
Beyond the schema, a time must be a real moment and no string may hold a lone
surrogate (it could never be written back as UTF-8).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .schema import SCHEMA_FILE

#: top-level keys ignored on load rather than checked (see the module's docstring)
_NOT_CHECKED = frozenset({"latency_s"})

_Schema = dict[str, Any]


class InvalidRecord(ValueError):
    """A record that does not match the schema; `field` is the dotted path of the first
    wrong value ("params.duration", "status_history[2].at"), `problem` what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'the record'}: {problem}")
        self.field = field
        self.problem = problem


def check_record(data: object) -> None:
    """Raise `InvalidRecord` unless `data` is a record of schema v1."""
    problem = first_problem(data)
    if problem is not None:
        raise InvalidRecord(*problem)


def first_problem(data: object) -> tuple[str, str] | None:
    """(field, what is wrong) of the first value of `data` the schema refuses, or None."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k in _top_level() and k not in _NOT_CHECKED}
    return _validator()(data)


@functools.lru_cache(maxsize=1)
def _schema() -> _Schema:
    loaded: _Schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


@functools.lru_cache(maxsize=1)
def _top_level() -> frozenset[str]:
    return frozenset(_schema().get("properties", {}))


@functools.lru_cache(maxsize=1)
def _validator() -> _Check:
    """The schema compiled once into nested checks (records are read by the thousand)."""
    return _Compiler(_schema()).compile(_schema())


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


#: checks beyond the schema for values of a `$defs` entry, by its name
_DEF_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "time": (lambda v: not isinstance(v, str) or _is_time(v), "is not a real moment"),
}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}

_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:39] + "…"


def _within(key: str, found: tuple[str, str]) -> tuple[str, str]:
    """A problem found inside the value of `key`, its path made relative to the object."""
    inner, problem = found
    if not inner:
        return key, problem
    return (f"{key}{inner}" if inner.startswith("[") else f"{key}.{inner}"), problem


_Problem = tuple[str, str] | None
_Check = Callable[[Any], _Problem]


def _no_problem(value: Any) -> _Problem:
    return None


class _Compiler:
    """Turns each schema node into a function `value -> (field, problem) or None`, the
    field relative to `value`."""

    def __init__(self, root: _Schema) -> None:
        self.root = root
        self._refs: dict[str, _Check] = {}

    def compile(self, schema: _Schema) -> _Check:
        if "$ref" in schema:
            return self._ref(schema["$ref"])
        steps: list[_Check] = []
        if "anyOf" in schema:
            steps.append(self._any_of([self.compile(option) for option in schema["anyOf"]]))
        if "type" in schema:
            steps.append(_type_check(schema["type"]))
        if "const" in schema:
            steps.append(_enum_check([schema["const"]]))
        if "enum" in schema:
            steps.append(_enum_check(schema["enum"]))
        types = schema.get("type", [])
        if {"minLength", "pattern"} & set(schema) or "string" in types:
            steps.append(_string_check(schema.get("minLength"), schema.get("pattern")))
        if "minimum" in schema:
            steps.append(_minimum_check(schema["minimum"]))
        if {"properties", "required", "additionalProperties"} & set(schema):
            steps.append(self._object_check(schema))
        if "items" in schema:
            steps.append(_items_check(self.compile(schema["items"])))
        if "minItems" in schema:
            steps.append(_min_items_check(schema["minItems"]))
        if "allOf" in schema:
            steps.extend(self.compile(part) for part in schema["allOf"])
        if "if" in schema:
            steps.append(self._conditional(schema))
        return _all_of(steps)

    def _conditional(self, schema: _Schema) -> _Check:
        """if/then/else: `then` applies to a value `if` accepts, `else` to any other."""
        condition = self.compile(schema["if"])
        then = self.compile(schema["then"]) if "then" in schema else _no_problem
        otherwise = self.compile(schema["else"]) if "else" in schema else _no_problem

        def conditional(value: Any) -> _Problem:
            return (then if condition(value) is None else otherwise)(value)

        return conditional

    def _ref(self, ref: str) -> _Check:
        if ref in self._refs:
            return self._refs[ref]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        inner = self.compile(node)
        extra = _DEF_CHECKS.get(ref.rsplit("/", 1)[-1])
        if extra is not None:
            ok, problem = extra

            def checked(value: Any) -> _Problem:
                found = inner(value)
                if found is None and not ok(value):
                    return "", f"{_shown(value)} {problem}"
                return found

            self._refs[ref] = checked
        else:
            self._refs[ref] = inner
        return self._refs[ref]

    def _any_of(self, options: list[_Check]) -> _Check:
        def any_of(value: Any) -> _Problem:
            first: _Problem = None
            for option in options:
                found = option(value)
                if found is None:
                    return None
                first = first or found
            return first

        return any_of

    def _object_check(self, schema: _Schema) -> _Check:
        required: list[str] = list(schema.get("required", []))
        properties = {key: self.compile(sub) for key, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        other: _Check | None = self.compile(extra) if isinstance(extra, dict) else None
        closed = extra is False

        def object_check(value: Any) -> _Problem:
            if not isinstance(value, dict):
                return None
            for key in required:
                if key not in value:
                    return key, "is missing"
            for key, item in value.items():
                if not isinstance(key, str):
                    return "", f"has a key that is not a string ({_shown(key)})"
                check = properties.get(key)
                if check is None:
                    if closed:
                        return key, "is not a field of the schema"
                    check = other
                if check is not None:
                    found = check(item)
                    if found is not None:
                        return _within(key, found)
            return None

        return object_check


def _all_of(steps: list[_Check]) -> _Check:
    if not steps:
        return _no_problem
    if len(steps) == 1:
        return steps[0]

    def all_of(value: Any) -> _Problem:
        for step in steps:
            found = step(value)
            if found is not None:
                return found
        return None

    return all_of


def _type_check(declared: str | list[str]) -> _Check:
    names = declared if isinstance(declared, list) else [declared]
    tests = [_TYPES[name] for name in names]
    wanted = " or ".join(names)

    def type_check(value: Any) -> _Problem:
        for test in tests:
            if test(value):
                return None
        return "", f"{_shown(value)} is not {wanted}"

    return type_check


def _enum_check(options: list[Any]) -> _Check:
    def enum_check(value: Any) -> _Problem:
        for option in options:
            if _same(value, option):
                return None
        if len(options) == 1:
            return "", f"{_shown(value)} is not {_shown(options[0])}"
        return "", f"{_shown(value)} is not one of {', '.join(map(_shown, options))}"

    return enum_check


def _string_check(min_length: int | None, pattern: str | None) -> _Check:
    compiled = re.compile(_anchored(pattern), re.ASCII) if pattern is not None else None

    def string_check(value: Any) -> _Problem:
        if not isinstance(value, str):
            return None
        if _SURROGATE.search(value):
            return "", "holds a lone surrogate (not valid Unicode text)"
        if min_length is not None and len(value) < min_length:
            return "", f"{_shown(value)} is shorter than {min_length} character(s)"
        if compiled is not None and not compiled.search(value):
            return "", f"{_shown(value)} does not match {pattern}"
        return None

    return string_check


def _minimum_check(minimum: float) -> _Check:
    def minimum_check(value: Any) -> _Problem:
        if _number(value) and value < minimum:
            return "", f"{_shown(value)} is below {minimum}"
        return None

    return minimum_check


def _min_items_check(minimum: int) -> _Check:
    def min_items_check(value: Any) -> _Problem:
        if isinstance(value, list) and len(value) < minimum:
            return "", f"has {len(value)} item(s), fewer than {minimum}"
        return None

    return min_items_check


def _items_check(item: _Check) -> _Check:
    def items_check(value: Any) -> _Problem:
        if not isinstance(value, list):
            return None
        for index, entry in enumerate(value):
            found = item(entry)
            if found is not None:
                inner, problem = found
                joined = inner if not inner or inner.startswith("[") else f".{inner}"
                return f"[{index}]{joined}", problem
        return None

    return items_check


def _same(value: Any, expected: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    return bool(type(value) is type(expected) or (_number(value) and _number(expected))) and value == expected


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _anchored(pattern: str) -> str:
    """A pattern whose `$` means the end of the text (Python's `$` also matches before a
    final newline)."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
