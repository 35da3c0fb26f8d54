"""``dynamodb_query``: read items of one configured DynamoDB table by key (Query/GetItem only).

Why only these two calls: a Scan reads the whole table (cost, and every tenant's items when a
table is shared) and PartiQL can write. The model gives key values, never the table: the
table, region, endpoint, allowed indexes, returned attributes and the item limit come from
``tool_settings.dynamodb_query``. Key attribute names are read from DescribeTable, so the
model does not have to guess them. boto3 is imported only when the tool runs.
"""

from __future__ import annotations

import asyncio
import decimal
import os
import threading
from collections.abc import Mapping
from typing import Any, Literal

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools.base import Tool, tool
from agentweaver.tools.context import ToolContext

__all__ = ["TOOLS", "dynamodb_query"]

_NAME = "dynamodb_query"
_CONDITIONS = {
    "=": "#sk = :sk",
    "<": "#sk < :sk",
    "<=": "#sk <= :sk",
    ">": "#sk > :sk",
    ">=": "#sk >= :sk",
    "begins_with": "begins_with(#sk, :sk)",
    "between": "#sk BETWEEN :sk AND :sk2",
}
_ENV = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")
_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()

SortOp = Literal["=", "<", "<=", ">", ">=", "begins_with", "between"]
Scalar = str | int | float


def _client(region: str | None, endpoint: str | None, timeout: float) -> Any:
    """A shared client per endpoint and account: building one costs ~0.1 s."""
    key = (region, endpoint, timeout, *(os.environ.get(name, "") for name in _ENV))
    with _clients_lock:
        if key not in _clients:
            import boto3  # lazily: `import agentweaver` stays SDK-free
            from botocore.config import Config

            config = Config(
                connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2}
            )
            session = boto3.session.Session()
            _clients[key] = session.client(
                "dynamodb", region_name=region, endpoint_url=endpoint, config=config
            )
        return _clients[key]


def _setting_list(raw: Mapping[str, Any], key: str) -> list[str] | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"tool_settings.dynamodb_query.{key} must be a list of names")
    return list(value)


def _key_names(description: Mapping[str, Any], index: str | None) -> tuple[str, str | None]:
    """The partition and sort key attribute names of the table or of one of its indexes."""
    schema = description["KeySchema"]
    if index is not None:
        indexes = [
            *description.get("GlobalSecondaryIndexes", []),
            *description.get("LocalSecondaryIndexes", []),
        ]
        found = [i for i in indexes if i["IndexName"] == index]
        if not found:
            names = ", ".join(sorted(i["IndexName"] for i in indexes)) or "none"
            raise ToolError(f"the table has no index {index!r} (indexes: {names})")
        schema = found[0]["KeySchema"]
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys.get("RANGE")


def _value(value: Scalar) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    # DynamoDB numbers are decimals; boto3 refuses a float
    plain = decimal.Decimal(str(value)) if isinstance(value, float) else value
    serialized: dict[str, Any] = TypeSerializer().serialize(plain)
    return serialized


def _plain(value: Any) -> Any:
    """A JSON-able form of a deserialized attribute value."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3 Binary
        return "0x" + value.value.hex()
    return value


def _read(
    raw: Mapping[str, Any],
    partition_value: Scalar,
    sort_op: SortOp | None,
    sort_values: tuple[Scalar | None, Scalar | None],
    index: str | None,
    limit: int,
    descending: bool,
) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer
    from botocore.exceptions import BotoCoreError, ClientError

    table = raw["table"]
    timeout = float(raw.get("timeout", 10))
    client = _client(raw.get("region"), raw.get("endpoint_url"), timeout)
    attributes = _setting_list(raw, "attributes")
    try:
        pk, sk = _key_names(client.describe_table(TableName=table)["Table"], index)
        if sort_op is not None and sk is None:
            raise ToolError(f"{index or table} has no sort key: leave sort_op out")
        names = {"#pk": pk, **({"#sk": sk} if sk else {})}
        params: dict[str, Any] = {"TableName": table}
        if attributes:
            params["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(attributes)))
            names.update({f"#a{i}": a for i, a in enumerate(attributes)})
        exact = sk is None or sort_op == "="
        if index is None and exact:  # the whole primary key: one GetItem
            key = {pk: _value(partition_value)}
            if sk is not None:
                key[sk] = _value(_required(sort_values[0], "sort_value"))
            if attributes:
                params["ExpressionAttributeNames"] = {k: v for k, v in names.items() if "#a" in k}
            found = client.get_item(Key=key, **params).get("Item")
            items, more = ([found] if found else []), False
        else:
            values = {":pk": _value(partition_value)}
            condition = "#pk = :pk"
            if sort_op is not None:
                condition += " AND " + _CONDITIONS[sort_op]
                values[":sk"] = _value(_required(sort_values[0], "sort_value"))
                if sort_op == "between":
                    values[":sk2"] = _value(_required(sort_values[1], "sort_value_to"))
            else:
                names.pop("#sk", None)
            if index is not None:
                params["IndexName"] = index
            response = client.query(
                KeyConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                Limit=limit + 1,  # one more than shown: was anything cut?
                ScanIndexForward=not descending,
                **params,
            )
            items = response.get("Items", [])
            more = len(items) > limit or "LastEvaluatedKey" in response
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ResourceNotFoundException":
            raise ConfigurationError(
                f"tool_settings.dynamodb_query.table {table!r} does not exist here"
            ) from None
        raise ToolError(f"DynamoDB refused the request: {error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise ToolError(f"DynamoDB could not be reached: {type(exc).__name__}") from None
    deserialize = TypeDeserializer().deserialize
    shown = [{k: _plain(deserialize(v)) for k, v in item.items()} for item in items[:limit]]
    result: dict[str, Any] = {"items": shown, "count": len(shown)}
    if more:
        result["truncated"] = True
    return result


def _required(value: Scalar | None, name: str) -> Scalar:
    if value is None:
        raise ToolError(f"{name} is needed for this sort_op")
    return value


@tool(register=False)
async def dynamodb_query(
    partition_value: Scalar,
    ctx: ToolContext,
    sort_op: SortOp | None = None,
    sort_value: Scalar | None = None,
    sort_value_to: Scalar | None = None,
    index: str | None = None,
    limit: int | None = None,
    descending: bool = False,
) -> dict[str, Any]:
    """Read items from the configured DynamoDB table by key: the items whose partition key
    equals partition_value, optionally narrowed by a sort-key condition (sort_op with
    sort_value, plus sort_value_to for "between"), on the table or a secondary index. Returns
    {"items": [...], "count": n} and "truncated": true when more items may exist. Key names
    are looked up for you; whole-table scans are not possible.

    Only Query and GetItem are ever called, on the table the settings name, so the model can
    neither write nor read another table.
    """
    raw = ctx.settings_for(_NAME)
    if not isinstance(raw.get("table"), str) or not raw["table"]:
        raise ConfigurationError(
            "dynamodb_query has no table: set tool_settings.dynamodb_query.table "
            "(and region or endpoint_url if needed); the model cannot fix this"
        )
    allowed = _setting_list(raw, "allowed_indexes")
    if index is not None and allowed is not None and index not in allowed:
        raise ToolError(f"index {index!r} is not allowed (allowed: {', '.join(allowed) or 'none'})")
    max_items = raw.get("max_items", 100)
    if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
        raise ConfigurationError("tool_settings.dynamodb_query.max_items must be a positive int")
    count = max_items if limit is None else max(1, min(limit, max_items))
    sorts = (sort_value, sort_value_to)
    return await asyncio.to_thread(
        _read, raw, partition_value, sort_op, sorts, index, count, descending
    )


TOOLS: list[Tool] = [dynamodb_query]
