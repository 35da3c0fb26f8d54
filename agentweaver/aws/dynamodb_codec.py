"""Records to DynamoDB items and back, the keys derived from them, and error mapping.

Separate from the store so the key formats (which the CDK stack and any data migration
must agree with) are in one short module.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import (
    AttributeDeserializationError,
    AttributeNullError,
    PynamoDBException,
)

from agentweaver.aws.dynamodb_models import ExecutionItem, LogItem, StepItem, WorkflowItem
from agentweaver.exceptions import StoreConflict, StoreError
from agentweaver.stores.encoding import dump_json, load_json
from agentweaver.stores.records import ExecutionRecord, LogRecord, StepRecord, WorkflowRecord

__all__ = [
    "EXECUTION_FIELDS",
    "MAX_JSON_BYTES",
    "compound",
    "created_key",
    "dynamo_errors",
    "execution_record",
    "failed_condition",
    "json_field",
    "log_record",
    "step_record",
    "workflow_record",
]

# A DynamoDB item holds at most 400 KB, names included; refusing one JSON value above this
# gives a message that says which value, instead of the service's "Item size has exceeded".
MAX_JSON_BYTES = 350_000
_CONDITION_FAILED = "ConditionalCheckFailedException"
_SIGN = 1 << 63
_ALL_BITS = (1 << 64) - 1

# What update_execution may change, and how: json (encoded, None removes the attribute),
# nullable (None removes it), value (None refused: the record field is not optional).
EXECUTION_FIELDS = {
    "workflow_id": "value", "workflow_name": "value", "status": "value", "input": "json",
    "output": "json", "error": "json", "created_at": "value", "started_at": "nullable",
    "ended_at": "nullable", "input_tokens": "value", "output_tokens": "value",
    "cost": "nullable", "steps": "value",
}  # fmt: skip


def failed_condition(exc: PynamoDBException) -> bool:
    return exc.cause_response_code == _CONDITION_FAILED


@contextmanager
def dynamo_errors(action: str) -> Iterator[None]:
    """pynamodb and botocore failures as ``StoreError`` saying what was being done; a lost
    condition as ``StoreConflict`` (callers that expect one catch it and answer)."""
    try:
        yield
    except PynamoDBException as exc:
        message = exc.cause_response_message or str(exc)
        if failed_condition(exc):
            raise StoreConflict(f"dynamodb store: {action}: the item changed") from exc
        if "item size" in message.lower():
            raise StoreError(
                f"dynamodb store: {action}: the item is larger than DynamoDB's 400 KB limit"
            ) from exc
        raise StoreError(f"dynamodb store: {action}: {message}") from exc
    except (BotoCoreError, ClientError, AttributeNullError, AttributeDeserializationError) as exc:
        raise StoreError(f"dynamodb store: {action}: {exc}") from exc


def json_field(value: Any, what: str) -> str | None:
    """JSON text for an item attribute; ``StoreError`` if it cannot fit in an item."""
    text = dump_json(value)
    if text is not None and len(text) > MAX_JSON_BYTES // 4:  # cheap test first: ≤4 B/char
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_JSON_BYTES:
            raise StoreError(
                f"{what}: a value of {size} bytes as JSON is too large for the DynamoDB store "
                f"(at most {MAX_JSON_BYTES} bytes per value; a DynamoDB item holds 400 KB): "
                "offload large inputs and outputs to the payload store"
            )
    return text


def compound(*parts: str) -> str:
    """An unambiguous key from several strings (``["acme","wf"]``): a separator character
    would let owner ``a#b`` + ``c`` collide with owner ``a`` + ``b#c``."""
    return json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))


def created_key(created_at: float, execution_id: str) -> str:
    """A string that sorts as ``(created_at, execution_id)``: the newest-first index key.

    The float's IEEE-754 bits as 16 hex digits (sign bit flipped, all bits flipped for
    negatives) sort exactly as the numbers do; the id after the fixed-width prefix breaks
    ties, byte by byte, as SQLite does.
    """
    (bits,) = struct.unpack(">Q", struct.pack(">d", float(created_at)))
    bits = bits ^ _ALL_BITS if bits & _SIGN else bits | _SIGN
    return f"{bits:016x}{execution_id}"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def workflow_record(i: WorkflowItem) -> WorkflowRecord:
    return WorkflowRecord(
        i.owner, i.workflow_id, i.name, json.loads(i.definition), i.description,
        int(i.version), float(i.created_at), float(i.updated_at), i.state_machine_arn,
    )  # fmt: skip


def execution_record(i: ExecutionItem) -> ExecutionRecord:
    return ExecutionRecord(
        i.owner, i.execution_id, i.workflow_id, i.workflow_name, i.status, load_json(i.input),
        load_json(i.output), load_json(i.error), float(i.created_at), _float(i.started_at),
        _float(i.ended_at), int(i.input_tokens), int(i.output_tokens), _float(i.cost),
        int(i.steps),
    )  # fmt: skip


def step_record(i: StepItem) -> StepRecord:
    return StepRecord(
        i.execution_id, i.step_id, i.node_id, i.agent, i.role, i.status, load_json(i.input),
        load_json(i.output), int(i.attempts), int(i.input_tokens), int(i.output_tokens),
        _float(i.cost), i.model, float(i.started_at), _float(i.ended_at), load_json(i.error),
        load_json(i.tool_calls) or [], int(i.seq),
    )  # fmt: skip


def log_record(i: LogItem) -> LogRecord:
    return LogRecord(
        i.execution_id, int(i.seq), float(i.time), i.level, i.message, i.agent_role,
        i.step_id, load_json(i.metadata) or {},
    )  # fmt: skip
