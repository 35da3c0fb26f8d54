"""``StepFunctionsExecutor``: one state machine per workflow version, executions named by id.

``prepare`` (called when a workflow is saved) compiles the version and creates its state
machine; ``submit`` starts it with the execution id as the execution name, so a retried
start cannot run twice (``ExecutionAlreadyExists`` is success). Status is the store's: the
machine's last Task records the end, and ``functions/execution_events`` records aborts and
timeouts. boto3 calls run in a thread so the API's event loop never blocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from agentweaver.exceptions import ConfigurationError, StoreError
from agentweaver.stores.base import Store
from agentweaver.stores.records import ExecutionRecord, WorkflowRecord

__all__ = ["StepFunctionsExecutor", "state_machine_name"]


def state_machine_name(prefix: str, owner: str, workflow_id: str, version: int) -> str:
    """A valid, unique name (<= 80 chars of [A-Za-z0-9-_]); the owner is hashed, not shown."""
    tenant = hashlib.sha256(owner.encode()).hexdigest()[:10]
    return f"{prefix}-{tenant}-{workflow_id}-v{version}"[:80]


class StepFunctionsExecutor:
    def __init__(
        self,
        store: Store,
        *,
        function_arn: str,
        role_arn: str,
        prefix: str = "agentweaver",
        client: Any = None,
    ) -> None:
        if not function_arn or not role_arn:
            raise ConfigurationError("the Step Functions executor needs a function and a role ARN")
        self.store = store
        self.function_arn = function_arn
        self.role_arn = role_arn
        self.prefix = prefix
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            # an own session: building on boto3's shared default one is not thread-safe
            self._client = boto3.session.Session().client("stepfunctions")
        return self._client

    async def start(self) -> None:
        return None  # nothing to recover: Step Functions keeps running without us

    async def close(self) -> None:
        return None

    def active(self) -> int:
        return 0  # counted by CloudWatch on AWS

    def describe(self) -> dict[str, Any]:
        return {"executor": "stepfunctions"}

    async def prepare(self, workflow: WorkflowRecord) -> WorkflowRecord:
        return await asyncio.to_thread(self._prepare, workflow)

    def _prepare(self, workflow: WorkflowRecord) -> WorkflowRecord:
        from agentweaver.compiler import compile_workflow
        from agentweaver.workflow.definition import WorkflowDefinition
        from agentweaver.workflow.ir import build_workflow

        ir = build_workflow(WorkflowDefinition.model_validate(workflow.definition))
        asl = compile_workflow(
            ir,
            function_arn=self.function_arn,
            workflow_ref=f"{workflow.workflow_id}@{workflow.version}",
        )
        name = state_machine_name(
            self.prefix, workflow.owner, workflow.workflow_id, workflow.version
        )
        try:
            created = self.client.create_state_machine(
                name=name, definition=json.dumps(asl), roleArn=self.role_arn, type="STANDARD"
            )
            arn = created["stateMachineArn"]
        except self.client.exceptions.StateMachineAlreadyExists:
            account_arn = self.function_arn.split(":function:")[0].replace(":lambda:", ":states:")
            arn = f"{account_arn}:stateMachine:{name}"
            self.client.update_state_machine(stateMachineArn=arn, definition=json.dumps(asl))
        workflow.state_machine_arn = arn
        return workflow

    async def submit(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        await asyncio.to_thread(self._submit, execution, workflow)

    def _submit(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        if not workflow.state_machine_arn:
            workflow = self._prepare(workflow)
            self.store.save_workflow(workflow)
        payload = {"execution_id": execution.execution_id, "owner": execution.owner,
                   "value": execution.input}  # fmt: skip
        try:
            self.client.start_execution(
                stateMachineArn=workflow.state_machine_arn,
                name=execution.execution_id,
                input=json.dumps(payload),
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            pass  # the same execution started twice: one run
        except Exception as exc:
            self.store.update_execution(
                execution.owner, execution.execution_id, status="failed", ended_at=time.time(),
                error={"type": "StoreError", "message": "the execution could not be started"},
            )  # fmt: skip
            raise StoreError(f"could not start the execution: {type(exc).__name__}") from exc
        self.store.update_execution(
            execution.owner, execution.execution_id, status="running", started_at=time.time()
        )

    async def cancel(self, owner: str, execution_id: str) -> bool:
        return await asyncio.to_thread(self._cancel, owner, execution_id)

    def _cancel(self, owner: str, execution_id: str) -> bool:
        record = self.store.get_execution(owner, execution_id)
        if record is None:
            return False
        workflow = self.store.get_workflow(owner, record.workflow_id)
        if workflow is None or not workflow.state_machine_arn:
            return False
        arn = workflow.state_machine_arn.replace(":stateMachine:", ":execution:")
        try:
            self.client.stop_execution(executionArn=f"{arn}:{execution_id}",
                                       cause="cancelled through the API")  # fmt: skip
        except self.client.exceptions.ExecutionDoesNotExist:
            return False
        self.store.update_execution(
            owner, execution_id, status="cancelled", ended_at=time.time(),
            error={"type": "ExecutionCancelled", "message": "cancelled through the API"},
        )  # fmt: skip
        return True
