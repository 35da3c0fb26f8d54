"""Conditions: every operator, strict typing, missing paths, globs and combinators."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agentweaver.workflow.conditions import (
    MISSING,
    Condition,
    glob_match,
    resolve_path,
    validate_path,
)


def cond(**data: Any) -> Condition:
    return Condition.model_validate(data)


DATA = {
    "n": 5,
    "f": 2.5,
    "s": "hello world",
    "b": True,
    "zero": 0,
    "none": None,
    "empty": "",
    "user": {"name": "Ada", "tags": ["x", "y"]},
    "items": [{"id": 1}, {"id": 2, "ok": False}],
    "matrix": [[1, 2], [3, 4]],
}


# -- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.n", 5),
        ("$.user.name", "Ada"),
        ("$.user.tags[1]", "y"),
        ("$.items[0].id", 1),
        ("$.items[1].ok", False),
        ("$.matrix[1][0]", 3),
        ("$.none", None),
    ],
)
def test_resolve_path(path: str, expected: Any) -> None:
    assert resolve_path(DATA, path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "$.nope",
        "$.user.nope",
        "$.items[2]",  # index past the end
        "$.n.deeper",  # a field of a number
        "$.s[0]",  # strings are not indexable by paths
        "$.user[0]",  # an index into a mapping
        "$.items.id",  # a field of a list
    ],
)
def test_resolve_missing_path(path: str) -> None:
    assert resolve_path(DATA, path) is MISSING


@pytest.mark.parametrize("path", ["$", "$.a", "$.a.b", "$.items[0]", "$.a_b-c[10].d"])
def test_valid_paths(path: str) -> None:
    assert validate_path(path) == path


@pytest.mark.parametrize("path", ["", "a", "a.b", "$.", "$..a", "$.a b", "$[x]", "$.1a", "$[-1]"])
def test_invalid_paths(path: str) -> None:
    with pytest.raises(ValueError, match="bad path"):
        validate_path(path)


def test_bad_path_in_condition_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"bad path 'user\.name'"):
        cond(path="user.name", equals="Ada")


# -- comparison operators --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"path": "$.n", "equals": 5}, True),
        ({"path": "$.n", "equals": 5.0}, True),  # numbers compare as numbers
        ({"path": "$.n", "equals": 6}, False),
        ({"path": "$.s", "equals": "hello world"}, True),
        ({"path": "$.s", "equals": "hello"}, False),
        ({"path": "$.b", "equals": True}, True),
        ({"path": "$.none", "equals": None}, True),
        ({"path": "$.zero", "equals": None}, False),
        ({"path": "$.n", "not_equals": 6}, True),
        ({"path": "$.n", "not_equals": 5}, False),
        ({"path": "$.s", "not_equals": "x"}, True),
        ({"path": "$.n", "gt": 4}, True),
        ({"path": "$.n", "gt": 5}, False),
        ({"path": "$.n", "gte": 5}, True),
        ({"path": "$.n", "gte": 5.5}, False),
        ({"path": "$.f", "lt": 3}, True),
        ({"path": "$.f", "lt": 2.5}, False),
        ({"path": "$.f", "lte": 2.5}, True),
        ({"path": "$.f", "lte": 2}, False),
        ({"path": "$.s", "gt": "hello"}, True),  # strings compare lexicographically
        ({"path": "$.s", "lt": "a"}, False),
        ({"path": "$.s", "gte": "hello world"}, True),
        ({"path": "$.s", "lte": "hello world"}, True),
        ({"path": "$.s", "contains": "lo wo"}, True),
        ({"path": "$.s", "contains": "bye"}, False),
        ({"path": "$.empty", "contains": ""}, True),
    ],
)
def test_comparison_operators(data: dict[str, Any], expected: bool) -> None:
    assert cond(**data).evaluate(DATA) is expected


@pytest.mark.parametrize(
    ("value", "data"),
    [
        (1, {"equals": "1"}),
        ("1", {"equals": 1}),
        (True, {"equals": 1}),
        (1, {"equals": True}),
        (0, {"equals": False}),
        (False, {"equals": 0}),
        (None, {"equals": ""}),
        ("", {"equals": None}),
        ("5", {"gt": 4}),  # a numeric string is not a number
        (5, {"gt": "4"}),  # and a number is not a string
        (True, {"gte": 0}),  # a boolean is not a number
        ([1], {"contains": "1"}),  # contains is for strings
        (5, {"matches": "5"}),  # matches is for strings
    ],
)
def test_types_are_strict(value: Any, data: dict[str, Any]) -> None:
    assert cond(path="$", **data).evaluate(value) is False


@pytest.mark.parametrize(("value", "expected"), [(1, True), ("1", True), (True, True), (2, False)])
def test_not_equals_is_strict_too(value: Any, expected: bool) -> None:
    # 1 vs "1" and True vs 1 are different values, so they are "not equal"
    assert cond(path="$", not_equals=2).evaluate(value) is expected


@pytest.mark.parametrize(
    "data",
    [
        {"equals": 1},
        {"equals": None},
        {"not_equals": 1},
        {"gt": 0},
        {"gte": 0},
        {"lt": 0},
        {"lte": 0},
        {"contains": ""},
        {"matches": "*"},
        {"is_null": True},
        {"is_null": False},
    ],
)
def test_missing_path_makes_every_comparison_false(data: dict[str, Any]) -> None:
    assert cond(path="$.absent", **data).evaluate(DATA) is False


def test_equals_rejects_lists_and_objects() -> None:
    with pytest.raises(ValidationError, match="not a list or object"):
        cond(path="$", equals=[1])
    with pytest.raises(ValidationError, match="not a list or object"):
        cond(path="$", not_equals={"a": 1})


# -- exists / is_null ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "exists"),
    [("$.n", True), ("$.none", True), ("$.zero", True), ("$.absent", False), ("$.items[5]", False)],
)
def test_exists(path: str, exists: bool) -> None:
    assert cond(path=path, exists=True).evaluate(DATA) is exists
    assert cond(path=path, exists=False).evaluate(DATA) is not exists


@pytest.mark.parametrize(
    ("path", "null"), [("$.none", True), ("$.zero", False), ("$.empty", False)]
)
def test_is_null(path: str, null: bool) -> None:
    assert cond(path=path, is_null=True).evaluate(DATA) is null
    assert cond(path=path, is_null=False).evaluate(DATA) is not null


# -- matches: ASL StringMatches glob --------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "anything at all", True),
        ("hello*", "hello world", True),
        ("*world", "hello world", True),
        ("h*o*d", "hello world", True),
        ("hello", "hello world", False),  # the whole string must match
        ("*x*", "hello world", False),
        ("a.c", "abc", False),  # '.' is literal, not a regex wildcard
        ("a?c", "abc", False),  # '?' is literal
        ("a[b]c", "abc", False),  # brackets are literal
        ("a[b]c", "a[b]c", True),
        (r"5\*", "5*", True),  # an escaped star is a literal star
        (r"5\*", "55", False),
        (r"\*", "x", False),
        (r"a\*b*", "a*bcd", True),
        (r"a\*b*", "axbcd", False),
        ("line*", "line one\nline two", True),  # '*' also spans newlines
    ],
)
def test_glob_match(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected
    assert cond(path="$", matches=pattern).evaluate(text) is expected


def test_matches_from_yaml_keeps_the_escape() -> None:
    import yaml

    data = yaml.safe_load(r"{path: $.price, matches: '5\*'}")
    condition = Condition.model_validate(data)
    assert condition.evaluate({"price": "5*"}) is True
    assert condition.evaluate({"price": "50"}) is False


# -- combinators -----------------------------------------------------------------------------


def test_all_any_not() -> None:
    ok = {"path": "$.n", "equals": 5}
    bad = {"path": "$.n", "equals": 6}
    assert cond(all=[ok, ok]).evaluate(DATA) is True
    assert cond(all=[ok, bad]).evaluate(DATA) is False
    assert cond(any=[bad, ok]).evaluate(DATA) is True
    assert cond(any=[bad, bad]).evaluate(DATA) is False
    assert Condition.model_validate({"not": ok}).evaluate(DATA) is False
    assert Condition.model_validate({"not": bad}).evaluate(DATA) is True


def test_nested_combinators() -> None:
    condition = Condition.model_validate(
        {
            "all": [
                {"path": "$.user.name", "matches": "A*"},
                {
                    "any": [
                        {"path": "$.items[1].ok", "equals": True},
                        {"not": {"path": "$.user.tags[0]", "equals": "y"}},
                    ]
                },
                {"not": {"path": "$.missing", "exists": True}},
            ]
        }
    )
    assert condition.evaluate(DATA) is True
    assert condition.evaluate({**DATA, "user": {"name": "Bob", "tags": ["x"]}}) is False
    assert condition.evaluate({**DATA, "user": {"name": "Ada", "tags": ["y"]}}) is False
    assert condition.evaluate({**DATA, "missing": 1}) is False


def test_not_of_a_missing_comparison_is_true() -> None:
    # a comparison on a missing path is false, so its negation holds
    assert Condition.model_validate({"not": {"path": "$.absent", "equals": 1}}).evaluate({})


def test_array_index_paths_in_conditions() -> None:
    assert cond(path="$.items[1].id", equals=2).evaluate(DATA)
    assert cond(path="$.matrix[0][1]", gte=2).evaluate(DATA)
    assert not cond(path="$.items[9].id", equals=2).evaluate(DATA)
    assert cond(path="$[0]", equals="a").evaluate(["a", "b"])


# -- one operator, exactly -------------------------------------------------------------------


def test_two_operators_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"exactly one operator .*; found equals, gt"):
        cond(path="$.n", equals=1, gt=2)


def test_no_operator_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"exactly one operator .*; found none"):
        cond(path="$.n")


def test_empty_all_any_are_rejected() -> None:
    with pytest.raises(ValidationError, match="'all' needs at least one condition"):
        cond(all=[])
    with pytest.raises(ValidationError, match="'any' needs at least one condition"):
        cond(any=[])


def test_unknown_operator_is_an_unknown_field() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        cond(path="$.n", greater_than=1)


def test_operator_names_the_one_in_use() -> None:
    assert cond(path="$", equals=None).operator == "equals"
    assert cond(path="$", exists=False).operator == "exists"
    assert Condition.model_validate({"not": {"path": "$", "exists": True}}).operator == "not"


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
def test_ordering_operand_cannot_be_a_boolean(op: str) -> None:
    # `gt: true` must not quietly become `gt: 1.0`
    with pytest.raises(ValidationError, match="not a boolean"):
        cond(path="$", **{op: True})


def test_ordering_operand_keeps_its_type() -> None:
    assert cond(path="$", gt="5").gt == "5"
    assert cond(path="$", gt=5).evaluate(6) is True
    assert cond(path="$", gt="5").evaluate(6) is False
