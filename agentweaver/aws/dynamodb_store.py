"""``DynamoDBStore``: the ``Store`` contract on DynamoDB tables, with pynamodb.

Writes go through at once (no write-behind as in SQLite: a Lambda may be frozen right after
it returns). Reads of one item or one partition are strongly consistent, so a caller reads
its own writes as with SQLite; the listings that go through a global secondary index
(``page_executions``, ``list_executions``, ``list_api_keys``) are eventually consistent, as
every GSI is. Conditional writes carry the contract's atomic parts (optimistic locking,
idempotency claims, "exists" answers), and ``ADD`` the counters (usage, log sequence).

Tables (``<prefix>-workflows``, ...) are created by the CDK stack in production;
``create_tables`` exists for tests and local endpoints. pynamodb and botocore errors become
``StoreError`` (``StoreConflict`` for a lost condition), never a raw botocore traceback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex

from agentweaver.aws.dynamodb_codec import (
    EXECUTION_FIELDS,
    compound,
    created_key,
    dynamo_errors,
    execution_record,
    json_field,
    log_record,
    step_record,
    workflow_record,
)
from agentweaver.aws.dynamodb_keys import KeyTables
from agentweaver.aws.dynamodb_models import BILLING_MODE, ExecutionItem, bind_models
from agentweaver.exceptions import StoreConflict, StoreError
from agentweaver.stores.encoding import clamp_limit, decode_cursor, encode_cursor
from agentweaver.stores.records import (
    ExecutionRecord,
    LogRecord,
    StepRecord,
    UsageRecord,
    WorkflowRecord,
)

__all__ = ["LOG_RETENTION_SECONDS", "DynamoDBStore"]

LOG_RETENTION_SECONDS = 90 * 86400  # logs carry a TTL: DynamoDB deletes them after ~90 days
_USAGE_PREFIX = "m:"  # metric attributes: never collide with the key attributes
_ADDS_PER_UPDATE = 100  # an update expression is limited to 4 KB
_UNFINISHED = ("queued", "running")


class DynamoDBStore(KeyTables):
    """The ``Store`` contract on the ``<table_prefix>-*`` tables.

    ``region`` and ``host`` (an endpoint URL, for DynamoDB Local or LocalStack) default to
    what botocore resolves from the environment (``AWS_REGION``, ``AWS_ENDPOINT_URL``).
    """

    def __init__(
        self,
        table_prefix: str = "agentweaver",
        region: str | None = None,
        host: str | None = None,
        create_tables: bool = False,
    ) -> None:
        self.table_prefix = table_prefix
        self.models = bind_models(table_prefix, region, host)
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        """Create the missing tables, on-demand billing, TTL on; for tests and local endpoints."""
        for model in self.models.tables():
            with dynamo_errors(f"create table {model.Meta.table_name}"):
                model.create_table(wait=True, billing_mode=BILLING_MODE)

    def close(self) -> None:
        """Nothing to release: botocore pools its connections per client."""

    # workflows

    def save_workflow(
        self, record: WorkflowRecord, *, expected_version: int | None = None
    ) -> WorkflowRecord:
        """Insert or replace in one conditional ``UpdateItem``.

        An update rather than a put so a record without ``created_at`` keeps the stored one
        (``if_not_exists``) without a read first.
        """
        w = self.models.workflows
        now = time.time()
        updated = record.updated_at or now
        definition = json_field(record.definition, f"workflow {record.workflow_id!r}") or "null"
        created = w.created_at | now if record.created_at == 0 else record.created_at
        actions: list[Action] = [
            w.name.set(record.name), w.definition.set(definition),
            w.description.set(record.description), w.version.set(record.version),
            w.created_at.set(created), w.updated_at.set(updated),
        ]  # fmt: skip
        arn = record.state_machine_arn
        actions.append(
            w.state_machine_arn.remove() if arn is None else w.state_machine_arn.set(arn)
        )
        condition: Condition | None = None
        if expected_version == 0:
            condition = w.workflow_id.does_not_exist()
        elif expected_version is not None:
            condition = w.version == expected_version
        item = w(record.owner, record.workflow_id)
        try:
            with dynamo_errors(f"save workflow {record.workflow_id!r}"):
                item.update(actions=actions, condition=condition)
        except StoreConflict:
            current = self.get_workflow(record.owner, record.workflow_id)
            raise _version_conflict(
                record.workflow_id, 0 if current is None else current.version, expected_version
            ) from None
        return replace(record, created_at=float(item.created_at), updated_at=updated)

    def get_workflow(self, owner: str, workflow_id: str) -> WorkflowRecord | None:
        w = self.models.workflows
        with dynamo_errors(f"get workflow {workflow_id!r}"):
            try:
                return workflow_record(w.get(owner, workflow_id, consistent_read=True))
            except w.DoesNotExist:
                return None

    def list_workflows(self, owner: str) -> list[WorkflowRecord]:
        """Most recently updated first (sorted here: an owner has tens of workflows, not
        millions, and an index on ``updated_at`` would cost a write on every save)."""
        with dynamo_errors("list workflows"):
            records = [
                workflow_record(i) for i in self.models.workflows.query(owner, consistent_read=True)
            ]
        return sorted(records, key=lambda r: (-r.updated_at, r.workflow_id))

    def delete_workflow(self, owner: str, workflow_id: str) -> bool:
        w = self.models.workflows
        return self._delete(w(owner, workflow_id), w.workflow_id.exists(), "delete workflow")

    def _delete(self, item: Any, exists: Condition, action: str) -> bool:
        """Delete if present: one conditional ``DeleteItem`` says whether it was."""
        try:
            with dynamo_errors(action):
                item.delete(condition=exists)
        except StoreConflict:
            return False
        return True

    # executions

    def create_execution(self, record: ExecutionRecord) -> None:
        """Insert; an id this owner already has is a ``StoreConflict``.

        Unlike SQLite, the same id under another owner is not detected (that would take a
        transaction with a registry item): execution ids are random UUIDs the platform makes.
        """
        r, e = record, self.models.executions
        created = r.created_at or time.time()
        what = f"execution {r.execution_id!r}"
        item = e(
            r.owner, r.execution_id, workflow_id=r.workflow_id, workflow_name=r.workflow_name,
            status=str(r.status), input=json_field(r.input, what),
            output=json_field(r.output, what), error=json_field(r.error, what),
            created_at=created, started_at=r.started_at, ended_at=r.ended_at,
            input_tokens=r.input_tokens, output_tokens=r.output_tokens, cost=r.cost,
            steps=r.steps, created_key=created_key(created, r.execution_id),
            owner_workflow=compound(r.owner, r.workflow_id),
            owner_status=compound(r.owner, str(r.status)),
        )  # fmt: skip
        try:
            with dynamo_errors(f"create {what}"):
                item.save(condition=e.execution_id.does_not_exist())
        except StoreConflict:
            raise StoreConflict(f"{what} already exists") from None

    def update_execution(self, owner: str, execution_id: str, **changes: Any) -> bool:
        """One ``UpdateItem`` conditioned on the item existing: the answer is exact."""
        e = self.models.executions
        actions = _execution_actions(e, owner, execution_id, changes)
        item = e(owner, execution_id)
        if not actions:
            return self.get_execution(owner, execution_id) is not None
        try:
            with dynamo_errors(f"update execution {execution_id!r}"):
                item.update(actions=actions, condition=e.execution_id.exists())
        except StoreConflict:
            return False
        return True

    def get_execution(self, owner: str, execution_id: str) -> ExecutionRecord | None:
        e = self.models.executions
        with dynamo_errors(f"get execution {execution_id!r}"):
            try:
                return execution_record(e.get(owner, execution_id, consistent_read=True))
            except e.DoesNotExist:
                return None

    def list_executions(
        self,
        owner: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[ExecutionRecord]:
        """Newest first; ``before`` excludes ``created_at >= before``."""
        # every key of an execution created at ``before`` sorts after the bare time prefix
        bound = None if before is None else created_key(before, "")
        items = self._newest(owner, workflow_id, status, bound, clamp_limit(limit))
        return [execution_record(i) for i in items]

    def page_executions(
        self,
        owner: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[ExecutionRecord], str | None]:
        """Newest first; the cursor is the position of the page's last item.

        Not the query's ``LastEvaluatedKey``: with a status filter a query page can stop
        between two matching items, and the key of a GSI also leaks its layout. The
        position (``created_at``, id) is exactly the index's sort key, so continuing is a
        ``created_key < position`` key condition, and the cursor is the same as SQLite's.
        """
        bound = None if cursor is None else created_key(*decode_cursor(cursor))
        size = clamp_limit(limit)
        items = [execution_record(i) for i in self._newest(owner, workflow_id, status, bound,
                                                           size + 1)]  # fmt: skip
        if len(items) <= size:
            return items, None
        last = items[size - 1]
        return items[:size], encode_cursor(last.created_at, last.execution_id)

    def _newest(
        self, owner: str, workflow_id: str | None, status: str | None, bound: str | None, n: int
    ) -> list[ExecutionItem]:
        """Up to ``n`` items newest first, below ``bound`` (a ``created_key``) if given.

        By workflow (status filtered), else by status, else all: each GSI's hash key is
        compound with the owner, so no query can reach another tenant's partition.
        """
        e = self.models.executions
        index: GlobalSecondaryIndex[ExecutionItem] = e.by_created
        hash_key, where = owner, None
        if workflow_id is not None:
            index, hash_key = e.by_workflow, compound(owner, workflow_id)
            where = None if status is None else e.status == str(status)
        elif status is not None:
            index, hash_key = e.by_status, compound(owner, str(status))
        below = None if bound is None else e.created_key < bound
        with dynamo_errors("list executions"):
            return list(
                index.query(
                    hash_key, range_key_condition=below, filter_condition=where,
                    scan_index_forward=False, limit=n,
                    page_size=n if where is None else max(n, 100),
                )
            )  # fmt: skip

    def list_unfinished(self, limit: int = 1000) -> list[ExecutionRecord]:
        """Queued/running executions of every owner, oldest first.

        A filtered ``Scan`` of the whole table: an admin/recovery path (an executor
        restarting), never a request's. It reads every execution, so it is slow and costly
        on a big table; with more than ``limit`` matches, which ones come back is arbitrary.
        """
        e = self.models.executions
        if limit <= 0:
            return []
        with dynamo_errors("list unfinished executions"):
            matches = e.scan(e.status.is_in(*_UNFINISHED), limit=int(limit), page_size=1000)
            items = list(matches)  # page_size: items read per request, before the filter
        records = [execution_record(i) for i in items]
        return sorted(records, key=lambda r: (r.created_at, r.execution_id))

    # steps

    def save_step(self, record: StepRecord) -> None:
        """Put by (execution_id, step_id): the latest attempt replaces the earlier ones."""
        r, s = record, self.models.steps
        what = f"step {r.step_id!r}"
        item = s(
            r.execution_id, r.step_id, node_id=r.node_id, agent=r.agent, role=r.role,
            status=str(r.status), input=json_field(r.input, what),
            output=json_field(r.output, what), attempts=r.attempts,
            input_tokens=r.input_tokens, output_tokens=r.output_tokens, cost=r.cost,
            model=r.model, started_at=r.started_at, ended_at=r.ended_at,
            error=json_field(r.error, what),
            tool_calls=json_field(r.tool_calls, what) if r.tool_calls else None, seq=r.seq,
        )  # fmt: skip
        with dynamo_errors(f"save {what}"):
            item.save()

    def get_step(self, execution_id: str, step_id: str) -> StepRecord | None:
        s = self.models.steps
        with dynamo_errors(f"get step {step_id!r}"):
            try:
                return step_record(s.get(execution_id, step_id, consistent_read=True))
            except s.DoesNotExist:
                return None

    def list_steps(self, execution_id: str) -> list[StepRecord]:
        """In the order the runner reached them (``seq``), then start time."""
        with dynamo_errors("list steps"):
            items = list(self.models.steps.query(execution_id, consistent_read=True))
        records = [step_record(i) for i in items]
        return sorted(records, key=lambda r: (r.seq, r.started_at, r.step_id))

    # logs

    def append_log(
        self,
        execution_id: str,
        level: str,
        message: str,
        *,
        agent_role: str | None = None,
        step_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Take the next seq from the execution's counter item (``ADD``, atomic across
        writers), then put the line; two writes, no read and no retry loop under contention.
        A put that fails after the ``ADD`` leaves a gap: seqs increase, not always by one."""
        counter_model, log_model = self.models.log_counters, self.models.logs
        now = time.time()
        expires = datetime.fromtimestamp(math.ceil(now + LOG_RETENTION_SECONDS), UTC)
        meta = json_field(dict(metadata), "log metadata") if metadata else None
        counter = counter_model(execution_id, 0)
        with dynamo_errors(f"append log to {execution_id!r}"):
            counter.update(
                actions=[counter_model.next_seq.add(1), counter_model.expires_at.set(expires)]
            )
            log_model(
                execution_id, int(counter.next_seq), time=now, level=level, message=message,
                agent_role=agent_role, step_id=step_id, metadata=meta, expires_at=expires,
            ).save()  # fmt: skip

    def list_logs(self, execution_id: str, *, after: int = 0, limit: int = 1000) -> list[LogRecord]:
        """Lines with ``seq > after``, oldest first (the counter item is seq 0, never listed)."""
        log_model = self.models.logs
        size = max(1, min(int(limit), 10_000))
        with dynamo_errors(f"list logs of {execution_id!r}"):
            items = log_model.query(
                execution_id, log_model.seq > max(int(after), 0), consistent_read=True,
                limit=size, page_size=size,
            )  # fmt: skip
            return [log_record(i) for i in items]

    # usage

    def add_usage(self, owner: str, day: str, metrics: Mapping[str, float]) -> None:
        """``ADD`` every metric in one ``UpdateItem`` (atomic; more than 100 metrics take
        one update per 100). Names go through expression attribute names, so any text works."""
        adds: list[Action] = [
            Path([_USAGE_PREFIX + str(k)]).add(float(v)) for k, v in metrics.items()
        ]
        usage = self.models.usage
        for start in range(0, len(adds), _ADDS_PER_UPDATE):
            with dynamo_errors(f"add usage of {day}"):
                usage(owner, day).update(actions=adds[start : start + _ADDS_PER_UPDATE])

    def get_usage(self, owner: str, start_day: str, end_day: str) -> list[UsageRecord]:
        """Read raw (pynamodb would drop the metric attributes, which no model declares)."""
        usage = self.models.usage
        connection = usage._get_connection()
        days: list[UsageRecord] = []
        start_key: dict[str, Any] | None = None
        while True:
            with dynamo_errors("get usage"):
                page = connection.query(
                    owner, usage.day.between(start_day, end_day), consistent_read=True,
                    exclusive_start_key=start_key,
                )  # fmt: skip
            for raw in page.get("Items", []):
                metrics = {
                    name.removeprefix(_USAGE_PREFIX): float(value["N"])
                    for name, value in raw.items()
                    if name.startswith(_USAGE_PREFIX) and "N" in value
                }
                if metrics:
                    days.append(UsageRecord(owner, raw["day"]["S"], metrics))
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return days


def _execution_actions(
    e: type[ExecutionItem], owner: str, execution_id: str, changes: Mapping[str, Any]
) -> list[Action]:
    """``SET``/``REMOVE`` actions for ``changes``, with the index keys they move."""
    actions: list[Action] = []
    for name in changes:
        if name not in EXECUTION_FIELDS:
            raise StoreError(f"update_execution: {name!r} is not an updatable field")
    for name, value in changes.items():
        kind = EXECUTION_FIELDS[name]
        if value is None and kind != "nullable" and kind != "json":
            raise StoreError(f"update_execution: {name!r} cannot be None")
        if kind == "json":
            value = json_field(value, f"execution {execution_id!r}")
        elif name in ("status", "workflow_id", "workflow_name"):
            value = str(value)
        actions.append(getattr(e, name).set(value))
        if name == "status":
            actions.append(e.owner_status.set(compound(owner, value)))
        elif name == "workflow_id":
            actions.append(e.owner_workflow.set(compound(owner, value)))
        elif name == "created_at":
            actions.append(e.created_key.set(created_key(value, execution_id)))
    return actions


def _version_conflict(workflow_id: str, current: int, expected: int | None) -> StoreConflict:
    if expected == 0:
        return StoreConflict(f"workflow {workflow_id!r} already exists")
    if current == 0:
        return StoreConflict(
            f"workflow {workflow_id!r} does not exist (expected version {expected})"
        )
    return StoreConflict(f"workflow {workflow_id!r} is at version {current}, not {expected}")
