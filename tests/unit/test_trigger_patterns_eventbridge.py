"""Event patterns held to EventBridge's documented rules: what it refuses, how it matches.

Sources: AWS "Comparison operators for use in event patterns" / "Content filtering in
Amazon EventBridge event patterns", and github.com/aws/event-ruler (README, rule compiler).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from agentweaver.exceptions import DefinitionError
from agentweaver.triggers.patterns import MAX_DEPTH, matches, validate_pattern
from agentweaver.workflow.definition import WorkflowDefinition


def _refused(pattern: Any, message: str, path: str = "event.") -> None:
    with pytest.raises(DefinitionError, match=re.escape(message)) as caught:
        validate_pattern(pattern)
    assert str(caught.value).startswith(path)


@pytest.mark.parametrize(
    ("operator", "message"),
    [
        ({}, "exactly one of 'prefix' or 'suffix'"),
        ({"prefix": "a", "suffix": "b"}, "exactly one of 'prefix' or 'suffix'"),
        ({"contains": "a"}, "exactly one of 'prefix' or 'suffix'"),
        ({"prefix": ""}, "non-empty string"),
        ({"prefix": 1}, "non-empty string"),
        (["a", 1], "only strings or only numbers"),
        (["a", {"prefix": "b"}], "only strings or only numbers"),
        ([], "only strings or only numbers"),
        ([None], "only strings or only numbers"),
        (True, "only strings or only numbers"),
    ],
)
def test_anything_but_takes_what_eventbridge_takes(operator: Any, message: str) -> None:
    _refused({"state": [{"anything-but": operator}]}, message, "event.state: ")


@pytest.mark.parametrize("operator", ["x", 3, ["a", "b"], [1, 2.5], {"prefix": "a"},
                                      {"suffix": "b"}])  # fmt: skip
def test_valid_anything_but_forms_are_kept(operator: Any) -> None:
    validate_pattern({"state": [{"anything-but": operator}]})


def test_anything_but_suffix_excludes_by_the_end() -> None:
    pattern = {"file": [{"anything-but": {"suffix": ".png"}}]}
    assert matches(pattern, {"file": "a.pdf"})
    assert not matches(pattern, {"file": "a.png"})


@pytest.mark.parametrize(
    ("numeric", "message"),
    [
        (["=", 1, "=", 2], "lower bound ('>' or '>=') then an upper bound"),
        (["<", 5, ">", 1], "lower bound ('>' or '>=') then an upper bound"),
        ([">", 1, ">", 2], "lower bound ('>' or '>=') then an upper bound"),
        ([">", 5, "<", 5], "lower bound 5 must be below its upper bound 5"),
        ([">=", 10, "<=", 1], "lower bound 10 must be below"),
        ([">", 5.0e9 + 1], "outside -5.0e9..5.0e9"),
        (["<", -6e9], "outside -5.0e9..5.0e9"),
        (["=", float("nan")], "outside -5.0e9..5.0e9"),
        (["=", float("inf")], "outside -5.0e9..5.0e9"),
        ([1, 2], "numeric operator 1"),
    ],
)
def test_numeric_ranges_are_refused_as_eventbridge_refuses(numeric: list[Any],
                                                           message: str) -> None:  # fmt: skip
    _refused({"n": [{"numeric": numeric}]}, message)


def test_numeric_limits_are_inclusive() -> None:
    validate_pattern({"n": [{"numeric": [">=", -5.0e9, "<=", 5.0e9]}]})
    assert matches({"n": [{"numeric": [">=", 0, "<", 10]}]}, {"n": 0})


ORDER = {"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 5}],
         "batches": [[{"sku": "c"}], [{"sku": "d"}]], "note": "x"}  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"items": {"sku": ["a"]}}, True),  # arrays of objects are crushed
        ({"items": {"sku": ["b"], "qty": [5]}}, True),
        ({"items": {"sku": ["a"], "qty": [5]}}, False),  # two elements never combine
        ({"items": {"sku": ["z"]}}, False),
        ({"batches": {"sku": ["d"]}}, True),  # arrays of arrays too
        ({"note": {"sku": ["a"]}}, False),  # a string has no fields
        ({"note": {"sku": [{"exists": False}]}}, True),
        ({"items": [{"anything-but": "x"}]}, False),  # objects are not leaf values
    ],
)
def test_a_nested_pattern_matches_objects_inside_event_arrays(pattern: dict[str, Any],
                                                              expected: bool) -> None:  # fmt: skip
    validate_pattern(pattern)
    assert matches(pattern, ORDER) is expected


EXISTS_EVENT = {"object": {"a": 1}, "null": None, "empty": [], "list": ["x"], "text": ""}


@pytest.mark.parametrize(
    ("field", "present"),
    [
        ("object", False),  # exists looks at leaf values only (an object is not one)
        ("null", True),  # null is a leaf value
        ("empty", False),  # an empty array adds no leaf value
        ("list", True),
        ("text", True),
        ("missing", False),
    ],
)
def test_exists_looks_at_leaf_values_only(field: str, present: bool) -> None:
    assert matches({field: [{"exists": True}]}, EXISTS_EVENT) is present
    assert matches({field: [{"exists": False}]}, EXISTS_EVENT) is not present


@pytest.mark.parametrize(
    ("wildcard", "value", "expected"),
    [
        ("a\\*b", "a*b", True),  # an escaped star is a literal star
        ("a\\*b", "axyzb", False),
        ("a\\\\b", "a\\b", True),  # an escaped backslash is one backslash
        ("*.png", "dir/x.png", True),
        ("dir/*/x*.png", "dir/a/b/xy.png", True),
        ("dir/*/x*.png", "dir/x.png", False),
        ("ab*ba", "aba", False),  # the ends do not overlap
        ("a*a*a*a*a*a*a*b", "a" * 5000, False),  # no backtracking blow-up
        ("[ab]?", "[ab]?", True),  # only '*' is special
        ("exact", "exact", True),
        ("*", "", True),
    ],
)
def test_wildcards_follow_eventbridge(wildcard: str, value: str, expected: bool) -> None:
    pattern = {"f": [{"wildcard": wildcard}]}
    validate_pattern(pattern)
    assert matches(pattern, {"f": value}) is expected


@pytest.mark.parametrize(
    ("wildcard", "message"),
    [("a**b", "consecutive '*' at position 1"), ("a\\b", "an invalid escape at position 1"),
     ("a\\", "an invalid escape at position 1")],
)  # fmt: skip
def test_bad_wildcards_are_refused(wildcard: str, message: str) -> None:
    _refused({"f": [{"wildcard": wildcard}]}, f"event.f: 'wildcard' has {message}")


def _nested(levels: int) -> dict[str, Any]:
    pattern: dict[str, Any] = {"a": ["x"]}
    for _ in range(levels - 1):
        pattern = {"a": pattern}
    return pattern


def test_deep_patterns_are_refused_naming_the_path() -> None:
    validate_pattern(_nested(MAX_DEPTH))
    deep = "event" + ".a" * MAX_DEPTH
    _refused(_nested(MAX_DEPTH + 1), f"{deep}: patterns nest at most {MAX_DEPTH} levels deep")
    _refused({"$or": [_nested(MAX_DEPTH), {"b": ["y"]}]}, "event.$or[0]" + ".a" * 9)
    with pytest.raises(ValidationError, match="nest at most"):  # a definition is refused too
        WorkflowDefinition.model_validate({"name": "t", "agents": {"a": {"role": "A"}},
                                           "triggers": [{"event": _nested(900)}]})  # fmt: skip


def test_large_patterns_are_refused() -> None:
    _refused({"source": [f"s{i:05}" for i in range(1000)]}, "at most 4096 are allowed", "event:")
