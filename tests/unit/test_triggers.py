"""Trigger definitions, EventBridge pattern matching and incoming event parsing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest
from pydantic import ValidationError

from agentweaver.exceptions import DefinitionError, InvalidData, StoreError
from agentweaver.executors.base import Executor
from agentweaver.stores.records import ExecutionRecord, WorkflowRecord
from agentweaver.stores.sqlite import SQLiteStore
from agentweaver.triggers import dispatch as dispatch_module
from agentweaver.triggers.dispatch import TriggeredStart, dispatch, fits
from agentweaver.triggers.events import parse_event
from agentweaver.triggers.patterns import matches, validate_pattern
from agentweaver.triggers.spec import TriggerSpec
from agentweaver.workflow.definition import WorkflowDefinition

ORDER = {
    "id": "e-1",
    "source": "shop",
    "detail-type": "OrderPlaced",
    "time": "2026-11-24T10:00:00Z",
    "detail": {"owner": "team-a", "total": 120.5, "tags": ["new", "gift"], "region": "EU-West",
               "customer": {"tier": "gold", "email": "a@example.com"}, "note": None},
}  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["shop"]}, True),
        ({"source": ["other", "shop"]}, True),
        ({"source": ["other"]}, False),
        ({"detail": {"tags": ["gift"]}}, True),  # an event array matches when any element does
        ({"detail": {"customer": {"tier": ["gold"]}}}, True),
        ({"detail": {"customer": {"tier": ["silver"]}}}, False),
        ({"detail-type": [{"prefix": "Order"}]}, True),
        ({"detail-type": [{"suffix": "Shipped"}]}, False),
        ({"detail": {"region": [{"equals-ignore-case": "eu-west"}]}}, True),
        ({"detail": {"customer": {"email": [{"wildcard": "*@example.com"}]}}}, True),
        ({"detail": {"customer": {"email": [{"wildcard": "?@example.com"}]}}}, False),
        ({"source": [{"anything-but": ["test", "dev"]}]}, True),
        ({"source": [{"anything-but": {"prefix": "sh"}}]}, False),
        ({"detail": {"total": [{"numeric": [">", 100, "<=", 200]}]}}, True),
        ({"detail": {"total": [{"numeric": [">=", 200]}]}}, False),
        ({"detail": {"total": [120.5]}}, True),
        ({"detail": {"total": ["120.5"]}}, False),  # a string is not the number
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"detail": {"missing": [{"exists": True}]}}, False),
        ({"detail": {"total": [{"exists": False}]}}, False),
        ({"detail": {"note": [None]}}, True),
        ({"detail": {"missing": ["x"]}}, False),
        ({"$or": [{"source": ["nope"]}, {"detail": {"tags": ["new"]}}]}, True),
        ({"$or": [{"source": ["nope"]}, {"detail": {"tags": ["old"]}}]}, False),
        ({"source": ["shop"], "detail-type": ["Refund"]}, False),  # every field must fit
    ],
)
def test_patterns_match_as_eventbridge_does(pattern: dict[str, Any], expected: bool) -> None:
    validate_pattern(pattern)
    assert matches(pattern, ORDER) is expected


def test_booleans_are_not_numbers() -> None:
    assert matches({"flag": [True]}, {"flag": True})
    assert not matches({"flag": [1]}, {"flag": True})
    assert not matches({"n": [{"numeric": [">", 0]}]}, {"n": True})


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({}, "non-empty mapping"),
        ({"source": "shop"}, "write ['shop']"),
        ({"source": []}, "empty list"),
        ({"source": [{"cidr": "10.0.0.0/8"}]}, "unsupported operator 'cidr'"),
        ({"source": [{"prefix": 1}]}, "'prefix' takes a string"),
        ({"n": [{"numeric": [">", "1"]}]}, "not a number"),
        ({"n": [{"numeric": ["~", 1]}]}, "numeric operator '~'"),
        ({"n": [{"exists": "yes"}]}, "true or false"),
        ({"$or": [{"a": ["b"]}]}, "at least two"),
        ({"a": {"b": {"c": "d"}}}, "event.a.b.c"),
    ],
)
def test_bad_patterns_are_refused_naming_the_path(pattern: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_pattern(pattern)


def _definition(triggers: list[Any]) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(
        {"name": "t", "agents": {"a": {"role": "A"}}, "triggers": triggers}
    )


def test_a_definition_carries_its_triggers() -> None:
    definition = _definition([
        {"s3": {"prefix": "reports/", "suffix": ".pdf"}},
        {"event": {"source": ["shop"]}},
        {"schedule": "cron(0 9 ? * MON-FRI *)", "input": {"topic": "digest"}},
        {"schedule": "rate(1 hour)"},
    ])  # fmt: skip
    assert [t.kind for t in definition.triggers] == ["s3", "event", "schedule", "schedule"]
    again = WorkflowDefinition.model_validate(definition.model_dump(mode="json", exclude_none=True))
    assert again.triggers == definition.triggers


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({}, "exactly one of: s3, event, schedule"),
        ({"s3": {}, "schedule": "rate(1 day)"}, "exactly one of"),
        ({"s3": {"prefx": "a/"}}, "prefx"),
        ({"event": {"source": "shop"}}, "values in a pattern are lists"),
        ({"schedule": "every day"}, "expected rate(5 minutes) or cron("),
        ({"schedule": "rate(2 hour)"}, "rate(1 day) or rate(2 days)"),
        ({"schedule": "rate(1 hours)"}, "rate(1 day) or rate(2 days)"),
        ({"schedule": "cron(0 9 * * *)"}, "six fields"),
        ({"schedule": "cron(0 9 * * MON *)"}, "exactly one of day-of-month and day-of-week"),
        ({"event": {"source": ["x"]}, "input": 1}, "'input' is for schedules"),
    ],
)
def test_bad_triggers_are_refused_at_definition(trigger: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _definition([trigger])
    assert message in str(caught.value)


def _s3(key: str, bucket: str = "inbox", event_id: str = "s3-1") -> dict[str, Any]:
    return {
        "id": event_id,
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-11-24T10:00:00Z",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 12, "etag": "abc"}},
    }


def test_an_object_created_event_is_addressed_to_the_owner_folder() -> None:
    event = parse_event(_s3("team-a/reports/q3.pdf"))
    assert (event.kind, event.owner, event.path, event.bucket) == (
        "s3", "team-a", "reports/q3.pdf", "inbox"
    )  # fmt: skip
    assert event.input == {"event_id": "s3-1", "bucket": "inbox", "key": "team-a/reports/q3.pdf",
                           "path": "reports/q3.pdf", "size": 12, "etag": "abc",
                           "time": "2026-11-24T10:00:00Z"}  # fmt: skip
    pdfs = TriggerSpec.model_validate({"s3": {"prefix": "reports/", "suffix": ".pdf"}})
    assert fits(pdfs, event)
    assert not fits(pdfs, parse_event(_s3("team-a/reports/q3.csv")))
    assert not fits(pdfs, parse_event(_s3("team-a/inbox/q3.pdf")))
    other_bucket = TriggerSpec.model_validate({"s3": {"bucket": "elsewhere"}})
    assert not fits(other_bucket, event)
    assert not fits(TriggerSpec.model_validate({"event": {"source": ["aws.s3"]}}), event)


def test_a_custom_event_names_its_tenant() -> None:
    event = parse_event(ORDER)
    assert (event.kind, event.owner, event.event_id) == ("event", "team-a", "e-1")
    assert event.input["detail"]["total"] == 120.5
    assert fits(TriggerSpec.model_validate({"event": {"detail-type": ["OrderPlaced"]}}), event)
    assert not fits(TriggerSpec.model_validate({"s3": {}}), event)


def test_a_schedule_names_its_workflow() -> None:
    event = parse_event({"agentweaver_schedule": {"owner": "o", "workflow_id": "w1", "trigger": 2},
                         "id": "sched-exec-1", "time": "2026-11-24T09:00:00Z"})  # fmt: skip
    assert (event.kind, event.owner, event.workflow_id, event.trigger) == ("schedule", "o", "w1", 2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("text", "a JSON object"),
        ({"source": "shop", "detail-type": "X", "detail": {}}, "'id' must be"),
        ({**ORDER, "detail": "x"}, "'detail' must be an object"),
        ({**ORDER, "detail": {"total": 1}}, "detail.owner"),
        ({**ORDER, "detail": {"owner": "../etc"}}, "detail.owner"),
        ({**ORDER, "id": "bad id with spaces"}, "not a valid id"),
        ({**_s3("team-a/x"), "detail-type": "Object Deleted"}, "only 'Object Created'"),
        (_s3("no-folder.pdf"), "tenant's folder"),
        ({**_s3("a/b"), "detail": {"bucket": {"name": "x"}}}, "detail.object"),
        ({"agentweaver_schedule": {"owner": "o", "workflow_id": "w", "trigger": "1"}, "id": "i"},
         "trigger's index"),
        ({"agentweaver_schedule": "x"}, "must be an object"),
    ],
)
def test_malformed_events_are_invalid_data(raw: Any, message: str) -> None:
    with pytest.raises(InvalidData, match=message.replace("(", r"\(")):
        parse_event(raw)


class _Executor:
    """Records what it was asked to run; ``failures`` make a workflow's submit raise."""

    def __init__(self, failures: dict[str, Exception] | None = None) -> None:
        self.failures = failures or {}
        self.submitted: list[str] = []

    async def submit(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        if workflow.workflow_id in self.failures:
            raise self.failures[workflow.workflow_id]
        self.submitted.append(workflow.workflow_id)


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    with SQLiteStore() as s:
        yield s


def _save(store: SQLiteStore, workflow_id: str, pattern: Any, *, updated_at: float) -> None:
    """Straight into the store, unvalidated: a definition saved by an older version."""
    definition = {"name": workflow_id, "agents": {"a": {"role": "A"}},
                  "triggers": [{"event": pattern}]}  # fmt: skip
    store.save_workflow(WorkflowRecord(owner="team-a", workflow_id=workflow_id, name=workflow_id,
                                       definition=definition, updated_at=updated_at))  # fmt: skip


def _save_pair(store: SQLiteStore, broken: Any, good: Any) -> None:
    """Listed newest first, so "broken" is always reached before "good"."""
    _save(store, "broken", broken, updated_at=2.0)
    _save(store, "good", good, updated_at=1.0)


async def _dispatch(store: SQLiteStore, executor: _Executor) -> list[TriggeredStart]:
    return await dispatch(parse_event(ORDER), store, cast(Executor, executor))


async def test_a_workflow_whose_matching_raises_does_not_stop_the_others(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _save_pair(store, {"source": ["shop"], "detail-type": ["Explodes"]}, {"source": ["shop"]})
    real = dispatch_module.matches

    def flaky(pattern: Any, event: Any) -> bool:
        if "detail-type" in pattern:
            raise KeyError("prefix")
        return real(pattern, event)

    monkeypatch.setattr(dispatch_module, "matches", flaky)
    executor = _Executor()
    with caplog.at_level(logging.ERROR, "agentweaver.triggers"):
        started = await _dispatch(store, executor)
    assert [s.workflow_id for s in started] == ["good"]
    assert executor.submitted == ["good"]
    logged = caplog.text
    assert "matching workflow broken failed (KeyError)" in logged
    assert "a@example.com" not in logged  # never the payload
    assert "gold" not in logged


async def test_a_stored_pattern_the_rules_now_refuse_is_skipped(store: SQLiteStore) -> None:
    # accepted by an older version and a KeyError in its matcher: now skipped with a warning
    _save_pair(store, {"source": [{"anything-but": {}}]}, {"source": ["shop"]})
    executor = _Executor()
    started = await _dispatch(store, executor)
    assert [s.workflow_id for s in started] == ["good"]


async def test_a_transient_start_failure_is_raised_after_the_others_start(
    store: SQLiteStore,
) -> None:
    _save_pair(store, {"source": ["shop"]}, {"source": ["shop"]})
    executor = _Executor({"broken": StoreError("throttled")})
    with pytest.raises(StoreError, match="throttled"):
        await _dispatch(store, executor)
    assert executor.submitted == ["good"]
    # the redelivery starts what is missing and only that
    executor.failures.clear()
    again = await _dispatch(store, executor)
    assert {(s.workflow_id, s.duplicate) for s in again} == {("broken", False), ("good", True)}
    assert executor.submitted == ["good", "broken"]


async def test_a_non_transient_start_failure_is_logged_not_raised(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    _save_pair(store, {"source": ["shop"]}, {"source": ["shop"]})
    executor = _Executor({"broken": RuntimeError("bug")})
    with caplog.at_level(logging.ERROR, "agentweaver.triggers"):
        started = await _dispatch(store, executor)
    assert [s.workflow_id for s in started] == ["good"]
    assert "workflow broken: start failed (RuntimeError)" in caplog.text
