"""EventBridge event patterns: checked when a workflow is saved, matched when an event comes.

The same pattern a user would put on an EventBridge rule selects the workflows an event
starts, so one syntax serves the console, the API and the AWS rule. What is supported is
EventBridge's content filtering: exact values (an event array matches when any element
does), ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``, ``anything-but``,
``numeric`` and ``exists``, nested objects and ``$or``. Anything else is refused when the
workflow is saved, naming the path, never silently ignored when an event arrives.
"""

from __future__ import annotations

import fnmatch
import operator
from collections.abc import Callable, Mapping
from typing import Any

from agentweaver.exceptions import DefinitionError

__all__ = ["matches", "validate_pattern"]

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric",
              "exists"}  # fmt: skip


def validate_pattern(pattern: Any, path: str = "event") -> None:
    """Raise ``DefinitionError`` naming the first thing EventBridge would refuse."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise DefinitionError(f"{path}: an event pattern is a non-empty mapping")
    for key, value in pattern.items():
        where = f"{path}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise DefinitionError(f"{where}: '$or' takes a list of at least two patterns")
            for i, option in enumerate(value):
                validate_pattern(option, f"{where}[{i}]")
        elif isinstance(value, Mapping):
            validate_pattern(value, where)
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
    (name, arg), = item.items()
    if name not in _OPERATORS:
        raise DefinitionError(f"{where}: unsupported operator {name!r} "
                              f"(supported: {', '.join(sorted(_OPERATORS))})")  # fmt: skip
    if name in {"prefix", "suffix", "equals-ignore-case", "wildcard"} and not isinstance(arg, str):
        raise DefinitionError(f"{where}: {name!r} takes a string")
    if name == "exists" and not isinstance(arg, bool):
        raise DefinitionError(f"{where}: 'exists' takes true or false")
    if name == "numeric":
        _validate_numeric(arg, where)
    if name == "anything-but":
        values = arg if isinstance(arg, list) else [arg]
        for value in values:
            if isinstance(value, Mapping):
                if set(value) - {"prefix", "suffix"} or not all(isinstance(v, str)
                                                                 for v in value.values()):
                    raise DefinitionError(f"{where}: 'anything-but' takes values, or one "
                                          "'prefix'/'suffix' string")  # fmt: skip
            elif not isinstance(value, str | int | float):
                raise DefinitionError(f"{where}: 'anything-but' takes strings or numbers")


def _validate_numeric(arg: Any, where: str) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise DefinitionError(f"{where}: 'numeric' takes [op, number] or [op, n, op, n]")
    for op, number in zip(arg[::2], arg[1::2], strict=True):
        if op not in _NUMERIC:
            raise DefinitionError(f"{where}: numeric operator {op!r} is not one of "
                                  f"{', '.join(_NUMERIC)}")  # fmt: skip
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise DefinitionError(f"{where}: numeric bound {number!r} is not a number")


_MISSING = object()


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` (a JSON value) fits ``pattern`` as EventBridge would decide."""
    if not isinstance(event, Mapping):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(option, event) for option in expected):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(expected, Mapping):
            if not matches(expected, value if value is not _MISSING else {}):
                return False
        elif not _leaf_matches(expected, value):
            return False
    return True


def _leaf_matches(options: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(o, Mapping) and o.get("exists") is False for o in options)
    values = value if isinstance(value, list) else [value]
    return any(_one(option, v) for option in options for v in values)


def _one(option: Any, value: Any) -> bool:
    if not isinstance(option, Mapping):
        return _same(option, value)
    (name, arg), = option.items()
    if name == "exists":
        return bool(arg)
    if name == "anything-but":
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_excluded(e, value) for e in excluded)
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
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
    # wildcard: only '*' is special to EventBridge, so fnmatch's '[' and '?' are escaped
    return fnmatch.fnmatchcase(value, str(arg).replace("[", "[[]").replace("?", "[?]"))


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
