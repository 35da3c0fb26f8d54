"""The triggers Lambda under moto: S3 and custom events start the fitting workflow's execution
(its compiled ASL executed by moto, the agent-step handler in-process), duplicates start one,
bad events are logged and answered; schedule triggers become EventBridge Scheduler schedules.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import pytest
from moto.core.botocore_stubber import BotocoreStubber
from support.moto_sfn import REGION, StepFunctionsHarness, load_handler, step_functions

from agentweaver.aws.dynamodb_store import DynamoDBStore
from agentweaver.aws.lambda_env import StoreWorkflows
from agentweaver.aws.schedules import EventBridgeSchedules
from agentweaver.aws.sfn_executor import StepFunctionsExecutor
from agentweaver.models.test import TestModel
from agentweaver.runtime.payloads import DirectoryPayloads
from agentweaver.runtime.serverless import StepEnvironment
from agentweaver.stores.records import WorkflowRecord

OWNER = "team-a"
INBOX = "aw-test-inbox"


def _definition(name: str, triggers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "agents": {"reader": {"role": "Reader"}, "writer": {"role": "Writer"}},
        "flow": {"sequence": ["reader", "writer"]},
        "triggers": triggers,
    }


class Platform:
    def __init__(self, sfn: StepFunctionsHarness, store: DynamoDBStore, handler: ModuleType):
        self.sfn, self.store, self.handler = sfn, store, handler
        self.executor = StepFunctionsExecutor(
            store, function_arn=sfn.function_arn, role_arn=sfn.role_arn, prefix="aw-test",
            client=sfn.sfn,
        )  # fmt: skip
        handler.SERVICES = (store, self.executor)

    def save(self, workflow_id: str, definition: dict[str, Any], owner: str = OWNER) -> None:
        record = WorkflowRecord(owner, workflow_id, definition["name"], definition,
                                created_at=time.time(), updated_at=time.time())  # fmt: skip
        self.store.save_workflow(self.executor._prepare(record), expected_version=0)

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler.handler(json.loads(json.dumps(event)), None)
        return result

    def executions(self, owner: str = OWNER) -> list[Any]:
        return self.store.list_executions(owner)

    def finished(self, execution_id: str, owner: str = OWNER, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            record = self.store.get_execution(owner, execution_id)
            if record is not None and record.status in ("succeeded", "failed"):
                return record
            assert time.monotonic() < deadline, record
            time.sleep(0.02)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    lock = threading.Lock()
    real = BotocoreStubber.__call__

    def dynamodb_one_at_a_time(self: BotocoreStubber, event_name: str, *a: Any, **kw: Any) -> Any:
        # real DynamoDB applies each request atomically; moto's conditional put does not
        if ".dynamodb." not in event_name:
            return real(self, event_name, *a, **kw)
        with lock:
            return real(self, event_name, *a, **kw)

    with step_functions() as sfn, mock.patch.object(BotocoreStubber, "__call__",
                                                    dynamodb_one_at_a_time):  # fmt: skip
        store = DynamoDBStore(table_prefix="aw-test", region=REGION, create_tables=True)
        sfn.use(StepEnvironment(workflows=StoreWorkflows(store), store=store,
                                payloads=DirectoryPayloads(tmp_path / "payloads"),
                                model_override=TestModel()))  # fmt: skip
        yield Platform(sfn, store, load_handler("triggers"))
        store.close()


def s3_event(key: str, event_id: str = "11111111-aaaa") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-24T10:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{INBOX}"],
        "detail": {
            "version": "0",
            "bucket": {"name": INBOX},
            "object": {"key": key, "size": 5, "etag": "e1"},
            "request-id": "r",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


def order_event(total: float, event_id: str, owner: str = OWNER) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "OrderPlaced",
        "source": "shop",
        "account": "123456789012",
        "time": "2026-11-24T10:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"owner": owner, "total": total},
    }


def test_an_uploaded_object_starts_the_fitting_workflow(platform: Platform) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=INBOX)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=INBOX, Key=f"{OWNER}/reports/q3.pdf", Body=b"hello"
    )
    platform.save("pdfs", _definition("pdfs", [{"s3": {"prefix": "reports/", "suffix": ".pdf"}}]))
    platform.save("csvs", _definition("csvs", [{"s3": {"suffix": ".csv"}}]))
    result = platform.deliver(s3_event(f"{OWNER}/reports/q3.pdf"))
    [started] = result["started"]
    assert started["workflow_id"] == "pdfs"
    record = platform.finished(started["execution_id"])
    assert record.status == "succeeded"
    assert record.input["key"] == f"{OWNER}/reports/q3.pdf"
    assert record.input["bucket"] == INBOX
    steps = platform.store.list_steps(started["execution_id"])
    assert [s.step_id for s in steps] == ["reader", "writer"]


def test_a_custom_event_starts_the_workflow_its_pattern_fits(platform: Platform) -> None:
    pattern = {"source": ["shop"], "detail": {"total": [{"numeric": [">=", 100]}]}}
    platform.save("big-orders", _definition("big", [{"event": pattern}]))
    assert platform.deliver(order_event(20, "small-1"))["started"] == []
    [started] = platform.deliver(order_event(250, "big-1"))["started"]
    record = platform.finished(started["execution_id"])
    assert record.status == "succeeded"
    assert record.input["detail"]["total"] == 250


def test_the_same_event_twice_starts_one_execution(platform: Platform) -> None:
    platform.save("big-orders", _definition("big", [{"event": {"source": ["shop"]}}]))
    first = platform.deliver(order_event(250, "dup-1"))["started"][0]
    again = platform.deliver(order_event(250, "dup-1"))["started"][0]
    assert again == {**first, "duplicate": True}
    platform.finished(first["execution_id"])
    assert len(platform.executions()) == 1


def test_concurrent_deliveries_of_one_event_start_one_execution(platform: Platform) -> None:
    platform.save("big-orders", _definition("big", [{"event": {"source": ["shop"]}}]))
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: platform.deliver(order_event(250, "burst-1")), range(6)))
    ids = {r["started"][0]["execution_id"] for r in results}
    assert len(ids) == 1
    assert sum(not r["started"][0]["duplicate"] for r in results) == 1
    platform.finished(ids.pop())
    assert len(platform.executions()) == 1
    arns = platform.sfn.sfn.list_executions(
        stateMachineArn=platform.store.get_workflow(OWNER, "big-orders").state_machine_arn
    )["executions"]
    assert len(arns) == 1


def test_tenants_never_see_each_others_events(platform: Platform) -> None:
    platform.save("theirs", _definition("theirs", [{"event": {"source": ["shop"]}},
                                                   {"s3": {}}]), owner="team-b")  # fmt: skip
    assert platform.deliver(order_event(250, "t-1", owner=OWNER))["started"] == []
    assert platform.deliver(s3_event(f"{OWNER}/anything.txt"))["started"] == []
    assert platform.executions("team-b") == []


def test_a_malformed_event_is_logged_and_answered_not_raised(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    platform.save("all", _definition("all", [{"event": {"source": ["shop"]}}]))
    with caplog.at_level(logging.WARNING, logger="agentweaver.triggers"):
        result = platform.deliver({"id": "x-1", "source": "shop", "detail-type": "OrderPlaced",
                                   "detail": {"total": 1}})  # no owner  # fmt: skip
        garbage = platform.deliver({"hello": "world"})
    assert result["started"] == []
    assert "detail.owner" in result["error"]
    assert "'id' must be" in garbage["error"]
    assert [r.message for r in caplog.records if "rejected an event" in r.message] == [
        f"rejected an event: {result['error']}", f"rejected an event: {garbage['error']}"
    ]  # fmt: skip
    assert platform.executions() == []


def test_schedule_triggers_become_schedules_that_start_runs(platform: Platform) -> None:
    scheduler = boto3.client("scheduler", region_name=REGION)
    scheduler.create_schedule_group(Name="aw-test")
    schedules = EventBridgeSchedules(
        "aw-test", role_arn=platform.sfn.role_arn,
        target_arn=platform.sfn.function_arn.replace("agent-step", "triggers"), client=scheduler,
        dead_letter_arn="arn:aws:sqs:us-east-1:123456789012:aw-test-triggers-dlq",
    )  # fmt: skip
    definition = _definition("digest", [
        {"schedule": "cron(0 9 ? * MON-FRI *)", "input": {"topic": "daily digest"}},
        {"event": {"source": ["shop"]}},
        {"schedule": "rate(1 hour)"},
    ])  # fmt: skip
    platform.save("digest", definition)
    record = platform.store.get_workflow(OWNER, "digest")
    names = schedules.sync(record)
    listed = scheduler.list_schedules(GroupName="aw-test")["Schedules"]
    assert sorted(s["Name"] for s in listed) == names
    assert len(names) == 2
    first = scheduler.get_schedule(Name=names[0], GroupName="aw-test")
    assert first["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert first["Target"]["RoleArn"] == platform.sfn.role_arn
    assert first["Target"]["DeadLetterConfig"]["Arn"].endswith(":aw-test-triggers-dlq")
    # what Scheduler sends when it fires: its context attributes filled in
    template = first["Target"]["Input"].replace("<aws.scheduler.scheduled-time>",
                                                "2026-11-25T09:00:00Z")  # fmt: skip
    payload = template.replace("<aws.scheduler.execution-id>", "attempt-1")
    [started] = platform.deliver(json.loads(payload))["started"]
    assert platform.finished(started["execution_id"]).input == {"topic": "daily digest"}
    # Scheduler's retry of the same firing has a new execution id: still the same run
    retry = template.replace("<aws.scheduler.execution-id>", "attempt-2")
    assert platform.deliver(json.loads(retry))["started"][0] == {**started, "duplicate": True}
    # an edit that drops a schedule removes it; deleting the workflow removes the rest
    record.definition = _definition("digest", [{"schedule": "rate(1 hour)"}])
    assert len(schedules.sync(record)) == 1
    assert len(scheduler.list_schedules(GroupName="aw-test")["Schedules"]) == 1
    schedules.remove(OWNER, "digest")
    assert scheduler.list_schedules(GroupName="aw-test")["Schedules"] == []
