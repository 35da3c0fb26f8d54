"""The error tree: names are a wire contract with Step Functions, so pin them down."""

from __future__ import annotations

import inspect

import pytest

from agentweaver import exceptions
from agentweaver.exceptions import (
    AgentWeaverError,
    BudgetExceeded,
    ModelRateLimited,
    StepFailed,
    ValidationIssue,
    WorkflowValidationError,
    error_from_name,
    error_names,
    retryable_error_names,
)

#: every error class the module defines: renaming one breaks compiled state machines
CLASSES = {
    name: obj
    for name, obj in vars(exceptions).items()
    if inspect.isclass(obj) and issubclass(obj, AgentWeaverError)
}

EXPECTED_NAMES = {
    "AgentWeaverError",
    "BudgetExceeded",
    "ConfigurationError",
    "ContextLengthExceeded",
    "DefinitionError",
    "ExecutionCancelled",
    "ExecutionError",
    "InvalidData",
    "ModelAuthError",
    "ModelError",
    "ModelInvalidRequest",
    "ModelNotConfigured",
    "ModelRateLimited",
    "ModelTimeout",
    "ModelUnavailable",
    "NoRouteMatched",
    "OutputParseError",
    "StepFailed",
    "StepTimeout",
    "StoreError",
    "StoreConflict",
    "AuthError",
    "InvalidToken",
    "JwksUnavailable",
    "KeyVaultError",
    "ToolError",
    "ToolNotFound",
    "ToolTimeout",
    "WorkflowValidationError",
}

EXPECTED_RETRYABLE = [
    "ModelRateLimited",
    "ModelTimeout",
    "ModelUnavailable",
    "OutputParseError",
    "StepTimeout",
    "ToolTimeout",
]


def test_class_names_are_pinned() -> None:
    assert set(CLASSES) == EXPECTED_NAMES
    assert {n for n in exceptions.__all__ if n in CLASSES} == EXPECTED_NAMES


def test_error_names_includes_every_class() -> None:
    names = error_names()
    for name, cls in CLASSES.items():
        assert names[name] is cls
    assert all(issubclass(cls, AgentWeaverError) for cls in names.values())


def test_retryable_error_names_exactly_the_retryable_classes() -> None:
    retryable = retryable_error_names()
    assert retryable == sorted(retryable)
    assert retryable == sorted(name for name, cls in error_names().items() if cls.retryable)
    assert [n for n in retryable if n in CLASSES] == EXPECTED_RETRYABLE


def test_retryable_flags() -> None:
    assert not AgentWeaverError.retryable
    assert not BudgetExceeded.retryable
    assert not exceptions.ModelAuthError.retryable
    assert not exceptions.ContextLengthExceeded.retryable
    assert ModelRateLimited("x").retryable


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_error_from_name_round_trip(name: str) -> None:
    error = error_from_name(name, "something broke")
    assert type(error).__name__ == name
    assert type(error) is CLASSES[name]
    assert str(error) == "something broke"
    again = error_from_name(error.to_dict()["type"], error.to_dict()["message"])
    assert type(again) is type(error)
    assert str(again) == str(error)


def test_error_from_name_round_trips_a_real_validation_error() -> None:
    original = WorkflowValidationError([ValidationIssue("flow", "bad", 3)], source="wf.yaml")
    data = original.to_dict()
    rebuilt = error_from_name(data["type"], data["message"])
    assert isinstance(rebuilt, WorkflowValidationError)
    assert str(rebuilt) == str(original)


def test_error_from_unknown_name_is_step_failed() -> None:
    error = error_from_name("KeyError", "'missing'")
    assert type(error) is StepFailed
    assert str(error) == "'missing'"
    assert type(error_from_name("ValidationIssue", "x")) is StepFailed


def test_to_dict() -> None:
    assert ModelRateLimited("slow down", retry_after=3).to_dict() == {
        "type": "ModelRateLimited",
        "message": "slow down",
    }
    assert exceptions.ToolNotFound("no tool").to_dict() == {
        "type": "ToolNotFound",
        "message": "no tool",
    }


def test_validation_error_one_issue() -> None:
    error = WorkflowValidationError([ValidationIssue("agents.writer.model", "unknown alias")])
    assert str(error) == "invalid workflow: agents.writer.model: unknown alias"
    assert error.issues == [ValidationIssue("agents.writer.model", "unknown alias")]
    assert error.source is None


def test_validation_error_with_line_and_source() -> None:
    error = WorkflowValidationError(
        [ValidationIssue("flow.sequence[1]", "unknown agent 'x'", line=12)], source="team.yaml"
    )
    assert str(error) == "team.yaml: invalid workflow: line 12: flow.sequence[1]: unknown agent 'x'"


def test_validation_error_many_issues() -> None:
    issues = [
        ValidationIssue("name", "is empty", line=1),
        ValidationIssue("", "no flow and no mode"),
        ValidationIssue("agents.a.temperature", "too hot", line=7),
    ]
    error = WorkflowValidationError(issues, source="wf.yaml")
    assert str(error) == (
        "wf.yaml: invalid workflow (3 problems):\n"
        "  - line 1: name: is empty\n"
        "  - <root>: no flow and no mode\n"
        "  - line 7: agents.a.temperature: too hot"
    )
    assert error.to_dict() == {
        "type": "WorkflowValidationError",
        "message": str(error),
        "issues": [
            {"path": "name", "message": "is empty", "line": 1},
            {"path": "", "message": "no flow and no mode", "line": None},
            {"path": "agents.a.temperature", "message": "too hot", "line": 7},
        ],
    }
    assert isinstance(error, exceptions.DefinitionError)


def test_validation_error_issues_are_copied() -> None:
    issues = [ValidationIssue("a", "b")]
    error = WorkflowValidationError(issues)
    issues.append(ValidationIssue("c", "d"))
    assert len(error.issues) == 1


def test_model_rate_limited_retry_after() -> None:
    assert ModelRateLimited("429").retry_after is None
    error = ModelRateLimited("429", retry_after=2.5)
    assert error.retry_after == 2.5
    assert isinstance(error, exceptions.ModelError)
    assert isinstance(error, exceptions.ExecutionError)


def test_budget_exceeded_attributes() -> None:
    error = BudgetExceeded("over budget", limit="max_usd", spent=1.5, allowed=1.0)
    assert str(error) == "over budget"
    assert (error.limit, error.spent, error.allowed) == ("max_usd", 1.5, 1.0)
    bare = BudgetExceeded("x")
    assert (bare.limit, bare.spent, bare.allowed) == ("", 0, 0)
    assert not error.retryable


def test_hierarchy() -> None:
    assert issubclass(exceptions.ModelNotConfigured, exceptions.ConfigurationError)
    assert issubclass(exceptions.ContextLengthExceeded, exceptions.ModelInvalidRequest)
    assert issubclass(exceptions.ToolTimeout, exceptions.ToolError)
    assert issubclass(WorkflowValidationError, exceptions.DefinitionError)
    for cls in CLASSES.values():
        assert issubclass(cls, Exception)
