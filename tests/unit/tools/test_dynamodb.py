"""dynamodb_query under moto: key reads on the configured table only, limits, refusals."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("moto")
pytest.importorskip("boto3")

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools import ToolContext

ORDERS = [
    ("ada", "2026-01-05", "shipped", 30),
    ("ada", "2026-02-11", "open", 12),
    ("ada", "2026-03-20", "open", 7),
    ("grace", "2026-01-09", "shipped", 99),
]


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="orders",
            KeySchema=[
                {"AttributeName": "customer", "KeyType": "HASH"},
                {"AttributeName": "day", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "customer", "AttributeType": "S"},
                {"AttributeName": "day", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(
            TableName="secrets",
            KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for customer, day, status, amount in ORDERS:
            item = {"customer": {"S": customer}, "day": {"S": day}, "status": {"S": status},
                    "amount": {"N": str(amount)}, "card": {"S": "4111-1111"}}  # fmt: skip
            client.put_item(TableName="orders", Item=item)
        client.put_item(TableName="secrets", Item={"customer": {"S": "ada"}, "pin": {"S": "1"}})
        yield client


def ctx(**settings: Any) -> ToolContext:
    return ToolContext(settings={"dynamodb_query": {"table": "orders", **settings}})


async def call(arguments: dict[str, Any], context: ToolContext | None = None) -> Any:
    from agentweaver.aws.dynamodb_tool import dynamodb_query

    return await dynamodb_query.call(arguments, context or ctx())


def days(result: dict[str, Any]) -> list[str]:
    return [item["day"] for item in result["items"]]


async def test_query_by_partition_and_sort_conditions(dynamo: Any) -> None:
    everything = await call({"partition_value": "ada"})
    assert days(everything) == ["2026-01-05", "2026-02-11", "2026-03-20"]
    assert everything["items"][0]["amount"] == 30
    assert "truncated" not in everything
    q = await call({"partition_value": "ada", "sort_op": "begins_with", "sort_value": "2026-02"})
    assert days(q) == ["2026-02-11"]
    between = {"sort_op": "between", "sort_value": "2026-02", "sort_value_to": "2026-12"}
    assert days(await call({"partition_value": "ada", **between, "descending": True})) == [
        "2026-03-20",
        "2026-02-11",
    ]
    exact = await call({"partition_value": "ada", "sort_op": "=", "sort_value": "2026-01-05"})
    assert exact["count"] == 1  # GetItem on the full key


async def test_limit_and_max_items_set_truncated(dynamo: Any) -> None:
    limited = await call({"partition_value": "ada", "limit": 2})
    assert limited["count"] == 2
    assert limited["truncated"] is True
    exact = await call({"partition_value": "ada", "limit": 3})
    assert exact["count"] == 3
    assert "truncated" not in exact  # exactly the limit: nothing was cut
    capped = await call({"partition_value": "ada", "limit": 50}, ctx(max_items=1))
    assert capped["count"] == 1
    assert capped["truncated"] is True


async def test_index_and_attribute_settings(dynamo: Any) -> None:
    settings = ctx(allowed_indexes=["by_status"], attributes=["customer", "day"])
    result = await call({"partition_value": "open", "index": "by_status"}, settings)
    assert sorted(days(result)) == ["2026-02-11", "2026-03-20"]
    assert all(set(item) == {"customer", "day"} for item in result["items"])  # no card numbers
    with pytest.raises(ToolError, match="not allowed"):
        await call({"partition_value": "x", "index": "other"}, settings)
    with pytest.raises(ToolError, match="indexes: by_status"):
        await call({"partition_value": "x", "index": "nope"})


async def test_the_model_cannot_pick_the_table_or_write(dynamo: Any) -> None:
    from agentweaver.aws.dynamodb_tool import TOOLS

    (item,) = TOOLS
    assert "table" not in item.parameters["properties"]
    before = dynamo.scan(TableName="orders")["Items"]
    with pytest.raises(Exception, match="validation error"):  # pydantic: not a sort_op
        await call({"partition_value": "ada", "sort_op": "DELETE"})
    with pytest.raises(ToolError, match="no sort key"):
        await call(
            {"partition_value": "ada", "sort_op": "<", "sort_value": "b"}, ctx(table="secrets")
        )
    assert dynamo.scan(TableName="orders")["Items"] == before


async def test_configuration_errors(dynamo: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"tool_settings\.dynamodb_query\.table"):
        await call({"partition_value": "ada"}, ToolContext())
    with pytest.raises(ConfigurationError, match="does not exist"):
        await call({"partition_value": "ada"}, ctx(table="missing"))


def test_importing_the_tool_does_not_import_boto3() -> None:
    code = "import sys, agentweaver.aws.dynamodb_tool; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
