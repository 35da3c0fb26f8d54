"""The Store contract every backend implements (SQLite embedded, DynamoDB on AWS).

Synchronous on purpose: SQLite calls take microseconds and pynamodb is synchronous, so an
async facade would only add a thread hop per call on the hot path. Every method that takes
an ``owner`` confines itself to that owner's items; another owner's id behaves as missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from agentweaver.stores.records import (
    ApiKeyRecord,
    ExecutionRecord,
    LogRecord,
    ProviderKeyRecord,
    StepRecord,
    UsageRecord,
    WorkflowRecord,
)

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    # workflows; ``expected_version`` makes the save conditional (``StoreConflict`` otherwise;
    # ``0`` means "must not exist yet")
    def save_workflow(
        self, record: WorkflowRecord, *, expected_version: int | None = None
    ) -> WorkflowRecord: ...
    def get_workflow(self, owner: str, workflow_id: str) -> WorkflowRecord | None: ...
    def list_workflows(self, owner: str) -> list[WorkflowRecord]: ...
    def delete_workflow(self, owner: str, workflow_id: str) -> bool: ...

    # executions
    def create_execution(self, record: ExecutionRecord) -> None: ...
    def update_execution(self, owner: str, execution_id: str, **changes: Any) -> bool: ...
    def get_execution(self, owner: str, execution_id: str) -> ExecutionRecord | None: ...
    def list_executions(
        self,
        owner: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[ExecutionRecord]: ...
    def page_executions(
        self,
        owner: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[ExecutionRecord], str | None]:
        """Newest first; the opaque cursor continues a listing (``InvalidData`` if forged)."""
        ...

    def list_unfinished(self, limit: int = 1000) -> list[ExecutionRecord]:
        """Every owner's queued/running executions: what an executor recovers on restart."""
        ...

    # steps (upserted by (execution_id, step_id): the latest attempt wins)
    def save_step(self, record: StepRecord) -> None: ...
    def get_step(self, execution_id: str, step_id: str) -> StepRecord | None: ...
    def list_steps(self, execution_id: str) -> list[StepRecord]: ...

    # logs (seq assigned by the store, increasing per execution)
    def append_log(
        self,
        execution_id: str,
        level: str,
        message: str,
        *,
        agent_role: str | None = None,
        step_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None: ...
    def list_logs(
        self, execution_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[LogRecord]: ...

    # usage (atomic add per owner per UTC day)
    def add_usage(self, owner: str, day: str, metrics: Mapping[str, float]) -> None: ...
    def get_usage(self, owner: str, start_day: str, end_day: str) -> list[UsageRecord]: ...

    # platform API keys (looked up by the hash of the presented secret)
    def save_api_key(self, record: ApiKeyRecord) -> None: ...
    def get_api_key(self, key_hash: str) -> ApiKeyRecord | None: ...
    def list_api_keys(self, owner: str) -> list[ApiKeyRecord]: ...
    def delete_api_key(self, owner: str, key_id: str) -> bool: ...
    def touch_api_key(self, key_hash: str, when: float) -> None: ...

    # provider keys (ciphertext only)
    def put_provider_key(self, record: ProviderKeyRecord) -> None: ...
    def get_provider_key(self, owner: str, provider: str) -> ProviderKeyRecord | None: ...
    def list_provider_keys(self, owner: str) -> list[ProviderKeyRecord]: ...
    def delete_provider_key(self, owner: str, provider: str) -> bool: ...

    # idempotency: the first claim of (owner, key) wins; later claims get its execution id
    def claim_idempotency_key(
        self, owner: str, key: str, execution_id: str, expires_at: float
    ) -> str: ...

    def release_idempotency_key(self, owner: str, key: str, execution_id: str) -> bool:
        """Drop the claim if ``execution_id`` still holds it (its start failed, so a retry
        must be free to start); ``False`` when another claim holds the key."""
        ...

    def close(self) -> None: ...
