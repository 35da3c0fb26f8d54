"""``DynamoDBStore`` details the shared contract does not cover, on moto.

Table layout (what the CDK stack must create to match), TTL on logs and idempotency claims,
item-size limits reported as ``StoreError``, service errors mapped, compound keys that cannot
collide across tenants, and the index sort key. The behaviour itself is in
``test_store_contract.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("moto")
pytest.importorskip("pynamodb")

import boto3
from moto import mock_aws
from support.moto_dynamodb import REGION, fake_aws_env, moto_dynamodb_store

from agentweaver.aws.dynamodb_codec import MAX_JSON_BYTES, compound, created_key
from agentweaver.aws.dynamodb_store import LOG_RETENTION_SECONDS, DynamoDBStore
from agentweaver.exceptions import StoreError
from agentweaver.stores import ExecutionRecord, StepRecord, WorkflowRecord

PREFIX = "aw-test"
TABLES = [
    "workflows", "executions", "steps", "logs", "usage", "api-keys", "provider-keys",
    "idempotency",
]  # fmt: skip


@pytest.fixture
def store() -> Iterator[DynamoDBStore]:
    with moto_dynamodb_store(PREFIX) as s:
        yield s


@pytest.fixture
def client(store: DynamoDBStore) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def raw_item(client: Any, table: str, **key: str | int) -> dict[str, Any]:
    typed = {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in key.items()}
    item: dict[str, Any] = client.get_item(TableName=f"{PREFIX}-{table}", Key=typed)["Item"]
    return item


def execution(owner: str = "alice", execution_id: str = "e1", **kw: Any) -> ExecutionRecord:
    base: dict[str, Any] = {"workflow_id": "wf", "workflow_name": "WF", "created_at": 100.0}
    base.update(kw)
    return ExecutionRecord(owner=owner, execution_id=execution_id, **base)


# --- tables ----------------------------------------------------------------------------------


def test_tables_are_on_demand_with_tenant_first_keys(store: DynamoDBStore, client: Any) -> None:
    names = sorted(client.list_tables()["TableNames"])
    assert names == sorted(f"{PREFIX}-{t}" for t in TABLES)
    keys: dict[str, list[str]] = {}
    indexes: dict[str, dict[str, list[str]]] = {}
    for name in names:
        table = client.describe_table(TableName=name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        short = name.removeprefix(f"{PREFIX}-")
        keys[short] = [k["AttributeName"] for k in table["KeySchema"]]
        indexes[short] = {
            i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
            for i in table.get("GlobalSecondaryIndexes", [])
        }
    assert keys == {
        "workflows": ["owner", "workflow_id"], "executions": ["owner", "execution_id"],
        "steps": ["execution_id", "step_id"], "logs": ["execution_id", "seq"],
        "usage": ["owner", "day"], "api-keys": ["key_hash"],
        "provider-keys": ["owner", "provider"], "idempotency": ["claim"],
    }  # fmt: skip
    assert indexes["executions"] == {
        "by_created": ["owner", "created_key"],
        "by_workflow": ["owner_workflow", "created_key"],
        "by_status": ["owner_status", "created_key"],
    }
    assert indexes["api-keys"] == {"by_owner": ["owner", "key_id"]}


def test_ttl_is_enabled_on_logs_and_claims(store: DynamoDBStore, client: Any) -> None:
    for table in ("logs", "idempotency"):
        ttl = client.describe_time_to_live(TableName=f"{PREFIX}-{table}")
        assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_create_tables_twice_is_harmless(store: DynamoDBStore) -> None:
    store.save_workflow(WorkflowRecord("alice", "wf", "WF", {}))
    DynamoDBStore(table_prefix=PREFIX, create_tables=True)
    assert store.get_workflow("alice", "wf") is not None


def test_one_connection_serves_every_table(store: DynamoDBStore) -> None:
    connections = {id(m._get_connection().connection) for m in store.models.tables()}
    assert len(connections) == 1


def test_region_and_host_reach_the_models() -> None:
    with fake_aws_env():
        s = DynamoDBStore("p", region="eu-west-1", host="http://127.0.0.1:8000")
    meta = s.models.executions.Meta
    assert (meta.table_name, meta.region, meta.host) == ("p-executions", "eu-west-1",
                                                         "http://127.0.0.1:8000")  # fmt: skip


# --- TTL -------------------------------------------------------------------------------------


def test_log_lines_and_their_counter_expire_in_about_90_days(
    store: DynamoDBStore, client: Any
) -> None:
    before = time.time()
    store.append_log("e1", "INFO", "hello")
    after = time.time()
    for seq in (0, 1):  # the counter item and the line
        expires = int(raw_item(client, "logs", execution_id="e1", seq=seq)["expires_at"]["N"])
        assert before + LOG_RETENTION_SECONDS <= expires <= after + LOG_RETENTION_SECONDS + 1
    assert LOG_RETENTION_SECONDS == 90 * 86400


def test_idempotency_claims_carry_a_ttl(store: DynamoDBStore, client: Any) -> None:
    expires_at = time.time() + 600.25
    store.claim_idempotency_key("alice", "k", "e1", expires_at)
    item = raw_item(client, "idempotency", claim=compound("alice", "k"))
    assert int(item["expires_at"]["N"]) == math.ceil(expires_at)
    assert float(item["valid_until"]["N"]) == pytest.approx(expires_at)


# --- size limits and errors ------------------------------------------------------------------


def test_a_value_too_large_for_an_item_is_a_store_error(store: DynamoDBStore) -> None:
    big = "x" * (MAX_JSON_BYTES + 10)
    with pytest.raises(StoreError, match="too large for the DynamoDB store"):
        store.save_step(StepRecord("e1", "s1", "n", "a", "r", "succeeded", output=big))
    with pytest.raises(StoreError, match="too large"):
        store.create_execution(execution(input={"text": big}))
    with pytest.raises(StoreError, match="too large"):
        store.save_workflow(WorkflowRecord("alice", "wf", "WF", {"prompt": big}))
    store.create_execution(execution())
    with pytest.raises(StoreError, match="too large"):
        store.update_execution("alice", "e1", status="succeeded", output=big)
    got = store.get_execution("alice", "e1")
    assert got is not None
    assert (got.status, got.output) == ("queued", None)
    assert store.get_step("e1", "s1") is None


def test_multibyte_text_is_measured_in_bytes(store: DynamoDBStore) -> None:
    wide = "日" * (MAX_JSON_BYTES // 3 + 10)  # few characters, too many UTF-8 bytes
    with pytest.raises(StoreError, match="too large"):
        store.save_step(StepRecord("e1", "s1", "n", "a", "r", "succeeded", output=wide))


def test_an_item_over_400_kb_in_total_is_a_store_error(store: DynamoDBStore) -> None:
    half = "y" * 250_000  # each value fits; together they do not
    with pytest.raises(StoreError, match="400 KB"):
        store.save_step(StepRecord("e1", "s1", "n", "a", "r", "ok", input=half, output=half))


def test_missing_tables_are_a_store_error_not_a_botocore_one() -> None:
    with fake_aws_env(), mock_aws():
        s = DynamoDBStore(table_prefix="never-created")
        with pytest.raises(StoreError, match="get execution") as info:
            s.get_execution("alice", "e1")
        assert type(info.value) is StoreError
        with pytest.raises(StoreError, match="append log"):
            s.append_log("e1", "INFO", "x")
        with pytest.raises(StoreError, match="add usage"):
            s.add_usage("alice", "2024-05-01", {"n": 1})


def test_a_required_field_cannot_be_set_to_none(store: DynamoDBStore) -> None:
    store.create_execution(execution())
    with pytest.raises(StoreError, match="'status' cannot be None"):
        store.update_execution("alice", "e1", status=None)


# --- keys ------------------------------------------------------------------------------------


def test_execution_items_carry_tenant_first_index_keys(store: DynamoDBStore, client: Any) -> None:
    store.create_execution(execution(status="running", created_at=5.5))
    item = raw_item(client, "executions", owner="alice", execution_id="e1")
    assert item["owner_workflow"] == {"S": '["alice","wf"]'}
    assert item["owner_status"] == {"S": '["alice","running"]'}
    assert item["created_key"] == {"S": created_key(5.5, "e1")}
    store.update_execution("alice", "e1", status="succeeded", workflow_id="wf2", created_at=6.0)
    item = raw_item(client, "executions", owner="alice", execution_id="e1")
    assert item["owner_workflow"] == {"S": '["alice","wf2"]'}
    assert item["owner_status"] == {"S": '["alice","succeeded"]'}
    assert item["created_key"] == {"S": created_key(6.0, "e1")}


@pytest.mark.parametrize(
    ("owner", "workflow", "other_owner", "other_workflow"),
    [("a#b", "c", "a", "b#c"), ('a","b', "c", "a", 'b","c'), ("a|b", "c", "a", "b|c")],
)
def test_compound_keys_cannot_collide_across_tenants(
    store: DynamoDBStore, owner: str, workflow: str, other_owner: str, other_workflow: str
) -> None:
    store.create_execution(execution(owner, "mine", workflow_id=workflow))
    store.create_execution(execution(other_owner, "theirs", workflow_id=other_workflow))
    items, _ = store.page_executions(other_owner, workflow_id=other_workflow)
    assert [e.execution_id for e in items] == ["theirs"]
    items, _ = store.page_executions(owner, workflow_id=workflow)
    assert [e.execution_id for e in items] == ["mine"]
    assert compound(owner, workflow) != compound(other_owner, other_workflow)


def test_created_key_sorts_like_created_at_then_id() -> None:
    rows = [
        (-5.0, "a"), (-0.5, "b"), (0.0, "c"), (1e-300, "d"), (0.25, "e"), (1.0, "a"),
        (1.0, "b"), (1.0, "ba"), (1700000000.123456, "x"), (1700000000.123457, "a"),
        (1e300, "z"),
    ]  # fmt: skip
    keys = [created_key(t, i) for t, i in rows]
    assert sorted(keys) == keys
    assert len({len(k) - len(i) for k, (_, i) in zip(keys, rows, strict=True)}) == 1


def test_more_metrics_than_one_update_holds(store: DynamoDBStore) -> None:
    metrics = {f"model:m{i}:cost_usd": float(i) for i in range(250)}
    store.add_usage("alice", "2024-05-01", metrics)
    store.add_usage("alice", "2024-05-01", metrics)
    (usage,) = store.get_usage("alice", "2024-05-01", "2024-05-01")
    assert usage.metrics == {k: 2 * v for k, v in metrics.items()}


def test_usage_reads_page_through_more_than_one_query_page(store: DynamoDBStore) -> None:
    wide = {f"m{i}-{'p' * 60_000}": 1.0 for i in range(5)}  # ~300 KB of metric names a day
    days = [f"2024-05-{d:02d}" for d in range(1, 6)]
    for day in days:
        store.add_usage("alice", day, wide)
    found = store.get_usage("alice", "2024-01-01", "2024-12-31")
    assert [u.day for u in found] == days  # 1.5 MB: a query returns at most 1 MB per page
    assert all(u.metrics == wide for u in found)
