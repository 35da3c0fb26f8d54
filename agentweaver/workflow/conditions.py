"""Conditions on data, for ``route`` rules and ``loop`` exits.

Every operator has an ASL Choice equivalent (StringEquals/NumericEquals/BooleanEquals,
Numeric/String comparisons, StringMatches, IsPresent, IsNull, And/Or/Not), so a condition
means the same on the local runner and in a compiled state machine. A path that does not
exist makes a comparison false (the compiler guards each one with IsPresent).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["MISSING", "Condition", "glob_match", "resolve_path", "validate_path"]

_PATH = re.compile(r"^\$((\.[A-Za-z_][A-Za-z0-9_-]*)|(\[\d+\]))*$")
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def validate_path(path: str) -> str:
    if not _PATH.match(path):
        raise ValueError(
            f"bad path {path!r}: use '$' for the whole value, '$.field', '$.a.b' or '$.items[0]'"
        )
    return path


def resolve_path(value: Any, path: str) -> Any:
    """The value at ``path`` (``$.a.b[0]``), or ``MISSING``."""
    current = value
    for key, index in _SEGMENT.findall(path[1:]):
        if key:
            if not isinstance(current, dict) or key not in current:
                return MISSING
            current = current[key]
        else:
            i = int(index)
            if not isinstance(current, list) or i >= len(current):
                return MISSING
            current = current[i]
    return current


_OPERATORS = (
    "equals",
    "not_equals",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "matches",
    "exists",
    "is_null",
    "all",
    "any",
    "not",
)


class Condition(BaseModel):
    """One test: ``{path: $.x, equals: 3}``, or ``all`` / ``any`` / ``not`` of others."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)

    path: str = "$"
    equals: Any = MISSING
    not_equals: Any = MISSING
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None
    contains: str | None = None
    matches: str | None = Field(None, description="glob: * matches any run of characters")
    exists: bool | None = None
    is_null: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(None, alias="not")

    _check_path = field_validator("path")(classmethod(lambda cls, v: validate_path(v)))

    @field_validator("equals", "not_equals")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        if value is not MISSING and isinstance(value, dict | list):
            raise ValueError("compare with a string, number, boolean or null, not a list or object")
        return value

    @field_validator("gt", "gte", "lt", "lte", mode="before")
    @classmethod
    def _orderable(cls, value: Any) -> Any:
        # without this, pydantic turns `gt: true` into 1.0, and a boolean is not a number
        if isinstance(value, bool):
            raise ValueError("compare with a number or a string, not a boolean")
        return value

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        used = [op for op in _OPERATORS if self.operand(op) is not MISSING]
        if len(used) != 1:
            listed = ", ".join(_OPERATORS)
            found = f"found {', '.join(used)}" if used else "found none"
            raise ValueError(f"a condition needs exactly one operator ({listed}); {found}")
        if used[0] in ("all", "any") and not self.operand(used[0]):
            raise ValueError(f"'{used[0]}' needs at least one condition")
        return self

    def operand(self, op: str) -> Any:
        value = getattr(self, "not_" if op == "not" else op)
        if op in ("equals", "not_equals"):
            return value
        return MISSING if value is None else value

    @property
    def operator(self) -> str:
        return next(op for op in _OPERATORS if self.operand(op) is not MISSING)

    def evaluate(self, data: Any) -> bool:
        op = self.operator
        if op == "all":
            return all(c.evaluate(data) for c in self.all or [])
        if op == "any":
            return any(c.evaluate(data) for c in self.any or [])
        if op == "not":
            assert self.not_ is not None
            return not self.not_.evaluate(data)
        value = resolve_path(data, self.path)
        if op == "exists":
            return (value is not MISSING) == self.exists
        if value is MISSING:
            return False
        if op == "is_null":
            return (value is None) == self.is_null
        expected = self.operand(op)
        if op in ("equals", "not_equals"):
            same = _same_type(value, expected) and value == expected
            return same if op == "equals" else not same
        if op == "contains":
            return isinstance(value, str) and expected in value
        if op == "matches":
            return isinstance(value, str) and glob_match(expected, value)
        return _compare(value, op, expected)


def glob_match(pattern: str, text: str) -> bool:
    """ASL ``StringMatches``: ``*`` matches any run of characters, ``\\*`` a literal star."""
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.fullmatch("".join(parts), text, re.DOTALL) is not None


def _same_type(a: Any, b: Any) -> bool:
    # ASL compares strings, numbers and booleans with different operators: 1 never equals "1",
    # and True is not the number 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return True
    return type(a) is type(b)


def _compare(value: Any, op: str, expected: Any) -> bool:
    numeric = isinstance(expected, int | float) and not isinstance(expected, bool)
    if numeric != (isinstance(value, int | float) and not isinstance(value, bool)):
        return False
    if not numeric and not (isinstance(value, str) and isinstance(expected, str)):
        return False
    if op == "gt":
        return bool(value > expected)
    if op == "gte":
        return bool(value >= expected)
    if op == "lt":
        return bool(value < expected)
    return bool(value <= expected)
