"""EventBridge event patterns: checked when a workflow is saved, matched when an event comes.

The same pattern a user would put on an EventBridge rule selects the workflows an event
starts, so one syntax serves the console, the API and the AWS rule. What is supported is
EventBridge's content filtering: exact values (an event array matches when any element
does), ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``, ``anything-but``,
``numeric`` and ``exists``, nested objects and ``$or``. Anything else is refused when the
workflow is saved, naming the path, never silently ignored when an event arrives; a
pattern that passed validation never raises while matching.

The rules follow AWS's documentation (``eb-create-pattern-operators``, "Content filtering
in Amazon EventBridge event patterns") and, where it is silent, the matcher AWS publishes
(github.com/aws/event-ruler: its README and ``JsonRuleCompiler``/``Event`` sources).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from agentweaver.exceptions import DefinitionError

__all__ = ["MAX_DEPTH", "MAX_SIZE", "matches", "validate_pattern"]

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric",
              "exists"}  # fmt: skip
# "Numeric matching ... is limited to values between -5.0e9 and +5.0e9 inclusive" (AWS docs)
NUMERIC_LIMIT = 5.0e9
# Our own bounds, so a hostile pattern is refused at save time instead of exhausting the
# stack: EventBridge allows a 2048-character pattern by default, 4096 at most (a quota).
MAX_DEPTH = 10
MAX_SIZE = 4096


def validate_pattern(pattern: Any, path: str = "event") -> None:
    """Raise ``DefinitionError`` naming the first thing EventBridge would refuse."""
    _validate(pattern, path, 1)
    size = len(json.dumps(pattern, separators=(",", ":")))  # depth is bounded by now
    if size > MAX_SIZE:
        raise DefinitionError(f"{path}: the pattern is {size} characters as JSON; "
                              f"at most {MAX_SIZE} are allowed")  # fmt: skip


def _validate(pattern: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise DefinitionError(f"{path}: patterns nest at most {MAX_DEPTH} levels deep")
    if not isinstance(pattern, Mapping) or not pattern:
        raise DefinitionError(f"{path}: an event pattern is a non-empty mapping")
    for key, value in pattern.items():
        where = f"{path}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise DefinitionError(f"{where}: '$or' takes a list of at least two patterns")
            for i, option in enumerate(value):
                _validate(option, f"{where}[{i}]", depth + 1)
        elif isinstance(value, Mapping):
            _validate(value, where, depth + 1)
        elif isinstance(value, list):
            if not value:
                raise DefinitionError(f"{where}: an empty list matches nothing")
            for item in value:
                _validate_leaf(item, where)
        else:
            raise DefinitionError(
                f"{where}: values in a pattern are lists (write [{value!r}] for an exact match)"
            )


def _validate_leaf(item: Any, where: str) -> None:
    if item is None or isinstance(item, str | int | float | bool):
        return
    if not isinstance(item, Mapping) or len(item) != 1:
        raise DefinitionError(f"{where}: {item!r} is neither a value nor one operator")
    ((name, arg),) = item.items()
    if name not in _OPERATORS:
        raise DefinitionError(f"{where}: unsupported operator {name!r} "
                              f"(supported: {', '.join(sorted(_OPERATORS))})")  # fmt: skip
    if name in {"prefix", "suffix", "equals-ignore-case", "wildcard"} and not isinstance(arg, str):
        raise DefinitionError(f"{where}: {name!r} takes a string")
    if name == "wildcard":
        try:
            _wildcard_parts(arg)
        except ValueError as exc:
            raise DefinitionError(f"{where}: 'wildcard' {exc}") from None
    if name == "exists" and not isinstance(arg, bool):
        raise DefinitionError(f"{where}: 'exists' takes true or false")
    if name == "numeric":
        _validate_numeric(arg, where)
    if name == "anything-but":
        _validate_anything_but(arg, where)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _validate_anything_but(arg: Any, where: str) -> None:
    """EventBridge takes one string or number, a list of only strings or only numbers, or
    one ``prefix``/``suffix`` mapping (a non-empty string); nothing is mixed."""
    if isinstance(arg, Mapping):
        if len(arg) != 1 or set(arg) - {"prefix", "suffix"}:
            raise DefinitionError(f"{where}: an 'anything-but' mapping holds exactly one of "
                                  "'prefix' or 'suffix'")  # fmt: skip
        ((name, text),) = arg.items()
        if not isinstance(text, str) or not text:
            raise DefinitionError(f"{where}: 'anything-but' {name!r} takes a non-empty string")
        return
    values = arg if isinstance(arg, list) else [arg]
    strings = all(isinstance(v, str) for v in values)
    if not values or not (strings or all(_is_number(v) for v in values)):
        raise DefinitionError(f"{where}: 'anything-but' takes a string, a number, or a "
                              "non-empty list of only strings or only numbers")  # fmt: skip


def _validate_numeric(arg: Any, where: str) -> None:
    """``[op, n]``, or a range ``[">" or ">=", low, "<" or "<=", high]`` with low < high,
    every bound within EventBridge's ±5.0e9, as its rule compiler insists."""
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise DefinitionError(f"{where}: 'numeric' takes [op, number] or [op, n, op, n]")
    for op, number in zip(arg[::2], arg[1::2], strict=True):
        if not isinstance(op, str) or op not in _NUMERIC:
            raise DefinitionError(f"{where}: numeric operator {op!r} is not one of "
                                  f"{', '.join(_NUMERIC)}")  # fmt: skip
        if not _is_number(number):
            raise DefinitionError(f"{where}: numeric bound {number!r} is not a number")
        if not abs(number) <= NUMERIC_LIMIT:  # also refuses NaN and infinities
            raise DefinitionError(f"{where}: numeric bound {number!r} is outside "
                                  "-5.0e9..5.0e9, which EventBridge compares")  # fmt: skip
    if len(arg) == 4:
        if arg[0] not in (">", ">=") or arg[2] not in ("<", "<="):
            raise DefinitionError(f"{where}: a numeric range is a lower bound ('>' or '>=') "
                                  "then an upper bound ('<' or '<=')")  # fmt: skip
        if not arg[1] < arg[3]:
            raise DefinitionError(f"{where}: a numeric range's lower bound {arg[1]!r} must be "
                                  f"below its upper bound {arg[3]!r}")  # fmt: skip


@lru_cache(maxsize=1024)
def _wildcard_parts(pattern: str) -> tuple[str, ...]:
    """The literal pieces between unescaped ``*``. As in EventBridge, ``\\*`` is a literal
    star and ``\\\\`` a literal backslash; any other escape and ``**`` are refused."""
    parts: list[str] = []
    piece: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern[i + 1 : i + 2] == "*":
                raise ValueError(f"has consecutive '*' at position {i}")
            parts.append("".join(piece))
            piece = []
        elif char == "\\":
            if pattern[i + 1 : i + 2] not in ("*", "\\"):
                raise ValueError(f"has an invalid escape at position {i} (only \\* and \\\\)")
            piece.append(pattern[i + 1])
            i += 1
        else:
            piece.append(char)
        i += 1
    parts.append("".join(piece))
    return tuple(parts)


def _wildcard_matches(pattern: str, value: str) -> bool:
    """Star-only globbing without a regex: the first and last pieces anchor the ends and
    each middle piece is found leftmost in turn, which is exact for '*' and linear, so a
    pattern like ``*a*a*a*b`` cannot backtrack on a long value."""
    parts = _wildcard_parts(pattern)
    if len(parts) == 1:
        return value == parts[0]
    first, *middle, last = parts
    if len(value) < len(first) + len(last):
        return False
    if not (value.startswith(first) and value.endswith(last)):
        return False
    position, end = len(first), len(value) - len(last)
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


_MISSING = object()


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` (a JSON value) fits ``pattern`` as EventBridge would decide."""
    return isinstance(event, Mapping) and _fits(pattern, event)


def _fits(pattern: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_fits(option, fields) for option in expected):
                return False
            continue
        value = fields.get(key, _MISSING)
        if isinstance(expected, Mapping):
            # EventBridge "crushes" arrays: a nested pattern applies to each object in an
            # event array (arrays of arrays too). Matching one element at a time keeps
            # fields from different elements from combining, as its rulesForJSONEvent does.
            # A scalar, null, [] or an absent field has no fields below it: only
            # {"exists": false} can fit there.
            objects = [v for v in _flatten(value) if isinstance(v, Mapping)] or [{}]
            if not any(_fits(expected, obj) for obj in objects):
                return False
        elif not _leaf_matches(expected, [v for v in _flatten(value)
                                          if not isinstance(v, Mapping)]):  # fmt: skip
            return False
    return True


def _flatten(value: Any) -> Iterator[Any]:
    """The values at one path, arrays (nested ones too) flattened; absent gives none.
    Iterative, because an event may nest arrays deeper than the stack allows."""
    stack = [] if value is _MISSING else [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            yield item


def _leaf_matches(options: list[Any], leaves: list[Any]) -> bool:
    # ``exists`` looks at leaf values only (AWS: "Exists matching only works on leaf
    # nodes"). Checked in event-ruler's Event.traverseObject/traverseArray: null is a
    # leaf value, so {"exists": true} matches null; an empty array and an object add no
    # leaf at the path, so there the field counts as absent and {"exists": false} fits.
    if not leaves:
        return any(isinstance(o, Mapping) and o.get("exists") is False for o in options)
    return any(_one(option, v) for option in options for v in leaves)


def _one(option: Any, value: Any) -> bool:
    if not isinstance(option, Mapping):
        return _same(option, value)
    ((name, arg),) = option.items()
    if name == "exists":
        return bool(arg)
    if name == "anything-but":
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_excluded(e, value) for e in excluded)
    if name == "numeric":
        if not _is_number(value):
            return False
        return all(_NUMERIC[op](value, bound) for op, bound in zip(arg[::2], arg[1::2],
                                                                   strict=True))  # fmt: skip
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return value.startswith(str(arg))
    if name == "suffix":
        return value.endswith(str(arg))
    if name == "equals-ignore-case":
        return value.casefold() == str(arg).casefold()
    return _wildcard_matches(str(arg), value)


def _excluded(excluded: Any, value: Any) -> bool:
    if isinstance(excluded, Mapping):
        if not isinstance(value, str):
            return False
        if "prefix" in excluded:
            return value.startswith(excluded["prefix"])
        return value.endswith(excluded["suffix"])
    return _same(excluded, value)


def _same(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return bool(expected == value and type(expected) is type(value))
