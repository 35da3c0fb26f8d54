"""The DynamoDB tables of ``DynamoDBStore`` as pynamodb models.

Every partition key begins with the tenant (``owner``), except where the lookup key is itself
unguessable (an API key's hash) or hangs off an execution id, which the API only accepts after
checking that the execution is the caller's.

The models here carry no table names: pynamodb keeps the table, region and endpoint on the
class, and a process may hold stores with different prefixes or endpoints (tests do), so
``bind_models`` makes subclasses per store. pynamodb copies indexes onto each subclass, so a
bound index queries its own table.

JSON-ish fields are JSON strings, not DynamoDB maps: floats would become Decimals, and a map
cannot hold what JSON can (empty keys in old SDKs, deep nesting past 32 levels).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

__all__ = [
    "ApiKeyItem",
    "ExecutionItem",
    "IdempotencyItem",
    "LogCounterItem",
    "LogItem",
    "Models",
    "ProviderKeyItem",
    "StepItem",
    "UsageItem",
    "WorkflowItem",
    "bind_models",
]

BILLING_MODE = "PAY_PER_REQUEST"


class WorkflowItem(Model):
    owner = UnicodeAttribute(hash_key=True)
    workflow_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    definition = UnicodeAttribute()  # JSON
    description = UnicodeAttribute(default="")
    # optimistic locking by condition expression, not VersionAttribute: the contract has the
    # caller choose the next version (the API bumps it), pynamodb's attribute would bump it too
    version = NumberAttribute()
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    state_machine_arn = UnicodeAttribute(null=True)


class _ByCreated(GlobalSecondaryIndex["ExecutionItem"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    """An owner's executions newest first: ``created_key`` sorts as (created_at, id)."""

    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByWorkflow(GlobalSecondaryIndex["ExecutionItem"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    class Meta:
        index_name = "by_workflow"
        projection = AllProjection()

    owner_workflow = UnicodeAttribute(hash_key=True)  # compound: ["owner", "workflow id"]
    created_key = UnicodeAttribute(range_key=True)


class _ByStatus(GlobalSecondaryIndex["ExecutionItem"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    owner_status = UnicodeAttribute(hash_key=True)  # compound: ["owner", "status"]
    created_key = UnicodeAttribute(range_key=True)


class ExecutionItem(Model):
    owner = UnicodeAttribute(hash_key=True)
    execution_id = UnicodeAttribute(range_key=True)
    workflow_id = UnicodeAttribute()
    workflow_name = UnicodeAttribute()
    status = UnicodeAttribute()
    input = UnicodeAttribute(null=True)  # JSON
    output = UnicodeAttribute(null=True)  # JSON
    error = UnicodeAttribute(null=True)  # JSON
    created_at = NumberAttribute()
    started_at = NumberAttribute(null=True)
    ended_at = NumberAttribute(null=True)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost = NumberAttribute(null=True)
    steps = NumberAttribute(default=0)
    # index keys, derived from the fields above on every write
    created_key = UnicodeAttribute()
    owner_workflow = UnicodeAttribute()
    owner_status = UnicodeAttribute()

    by_created = _ByCreated()
    by_workflow = _ByWorkflow()
    by_status = _ByStatus()


class StepItem(Model):
    execution_id = UnicodeAttribute(hash_key=True)
    step_id = UnicodeAttribute(range_key=True)
    node_id = UnicodeAttribute()
    agent = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()
    input = UnicodeAttribute(null=True)  # JSON
    output = UnicodeAttribute(null=True)  # JSON
    attempts = NumberAttribute(default=1)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost = NumberAttribute(null=True)
    model = UnicodeAttribute(default="")
    started_at = NumberAttribute(default=0)
    ended_at = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)  # JSON
    tool_calls = UnicodeAttribute(null=True)  # JSON
    seq = NumberAttribute(default=0)


class LogItem(Model):
    execution_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)  # from 1; 0 is the execution's counter item
    time = NumberAttribute()
    level = UnicodeAttribute()
    message = UnicodeAttribute()
    agent_role = UnicodeAttribute(null=True)
    step_id = UnicodeAttribute(null=True)
    metadata = UnicodeAttribute(null=True)  # JSON
    expires_at = TTLAttribute(null=True)


class LogCounterItem(Model):
    """``seq = 0`` of each execution in the logs table: the last seq handed out."""

    execution_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    next_seq = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class UsageItem(Model):
    """One owner's day; each metric is a top-level number ``m:<metric>`` (``ADD`` works only
    on top-level attributes), read back raw since pynamodb drops undeclared attributes."""

    owner = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)


class _ByOwner(GlobalSecondaryIndex["ApiKeyItem"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeyItem(Model):
    key_hash = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    prefix = UnicodeAttribute(default="")
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = NumberAttribute()
    last_used_at = NumberAttribute(null=True)

    by_owner = _ByOwner()


class ProviderKeyItem(Model):
    owner = UnicodeAttribute(hash_key=True)
    provider = UnicodeAttribute(range_key=True)
    ciphertext = UnicodeAttribute()
    hint = UnicodeAttribute(default="")
    updated_at = NumberAttribute()


class IdempotencyItem(Model):
    claim = UnicodeAttribute(hash_key=True)  # compound: ["owner", "key"]
    owner = UnicodeAttribute()
    execution_id = UnicodeAttribute()
    valid_until = NumberAttribute()  # exact expiry, what a claim is checked against
    expires_at = TTLAttribute()  # whole seconds, rounded up: when DynamoDB may delete it


@dataclass(frozen=True)
class Models:
    """One store's models, bound to its tables."""

    workflows: type[WorkflowItem]
    executions: type[ExecutionItem]
    steps: type[StepItem]
    logs: type[LogItem]
    log_counters: type[LogCounterItem]
    usage: type[UsageItem]
    api_keys: type[ApiKeyItem]
    provider_keys: type[ProviderKeyItem]
    idempotency: type[IdempotencyItem]

    def tables(self) -> list[type[Model]]:
        """One model per table (the log counters share the logs table)."""
        return [
            self.workflows, self.executions, self.steps, self.logs, self.usage,
            self.api_keys, self.provider_keys, self.idempotency,
        ]  # fmt: skip


TABLES = {
    "workflows": WorkflowItem,
    "executions": ExecutionItem,
    "steps": StepItem,
    "logs": LogItem,
    "log_counters": LogCounterItem,
    "usage": UsageItem,
    "api_keys": ApiKeyItem,
    "provider_keys": ProviderKeyItem,
    "idempotency": IdempotencyItem,
}
_TABLE_OF = {"log_counters": "logs"}


def table_name(prefix: str, kind: str) -> str:
    """``<prefix>-<kind>`` (``agentweaver-executions``): what the CDK stack names the tables."""
    return f"{prefix}-{_TABLE_OF.get(kind, kind).replace('_', '-')}"


def _subclass(base: type[Model], body: dict[str, Any]) -> type[Model]:
    def fill(namespace: dict[str, Any]) -> None:
        namespace.update(body)

    return types.new_class(base.__name__, (base,), {}, fill)


def bind_models(prefix: str, region: str | None, host: str | None) -> Models:
    """Subclasses of the models above whose ``Meta`` names this store's tables, sharing one
    connection.

    pynamodb gives every model class its own connection, and each builds a botocore client
    that loads the DynamoDB service model again: about 0.2 s apiece, 1.5 s for the nine
    models, on every Lambda cold start. One shared connection (clients are thread-safe)
    pays it once per store, on first use.
    """
    shared = Connection(region=region, host=host)
    tables_added: set[str] = set()
    bound: dict[str, Any] = {}
    for kind, base in TABLES.items():
        meta = type(
            "Meta",
            (),
            {"table_name": table_name(prefix, kind), "region": region, "host": host,
             "billing_mode": BILLING_MODE},
        )  # fmt: skip
        model = _subclass(base, {"Meta": meta, "__module__": __name__})
        table = model._get_connection()  # cheap: the schema comes from the model, no client yet
        if table.table_name not in tables_added:  # the log counters share the logs table
            shared.add_meta_table(table.get_meta_table())
            tables_added.add(table.table_name)
        table.connection = shared
        bound[kind] = model
    return Models(**bound)
