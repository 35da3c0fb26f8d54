"""Workflows: create, list, read, update (optimistic locking), delete, compile, execute."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from pydantic import ValidationError

from agentweaver.api.auth import CurrentPrincipal
from agentweaver.api.schemas import (
    ExecuteRequest,
    ExecutionAccepted,
    WorkflowPublic,
    WorkflowUpdate,
)
from agentweaver.exceptions import (
    AgentWeaverError,
    StoreError,
    ValidationIssue,
    WorkflowValidationError,
)
from agentweaver.executors.start import start_execution
from agentweaver.runtime.user_code import check_code
from agentweaver.stores.records import WorkflowRecord
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import Workflow, build_workflow

router = APIRouter(prefix="/workflows", tags=["workflows"])

def _services(request: Request) -> Any:
    return request.app.state.services


def _check(definition: WorkflowDefinition, request: Request) -> Workflow:
    """The IR, or 422 with every problem. A definition is a tenant's data: it may name only
    functions of the deployment's own modules (agents as code), never any importable path."""
    issues = check_code(definition, _services(request).code_modules)
    if issues:
        raise WorkflowValidationError(issues)
    try:
        return build_workflow(definition)
    except ValidationError as exc:  # a model built while resolving the definition refused it
        raise WorkflowValidationError(
            [ValidationIssue(".".join(str(p) for p in e["loc"]) or "definition", e["msg"])
             for e in exc.errors()]
        ) from None  # fmt: skip


def _get(request: Request, owner: str, workflow_id: str) -> WorkflowRecord:
    record = _services(request).store.get_workflow(owner, workflow_id)
    if record is None:
        raise HTTPException(404, f"workflow {workflow_id!r} not found")
    return record  # type: ignore[no-any-return]


@router.post("/", status_code=201, response_model=WorkflowPublic)
async def create_workflow(
    definition: WorkflowDefinition, principal: CurrentPrincipal, request: Request
) -> WorkflowPublic:
    _check(definition, request)
    record = WorkflowRecord.first_version(principal.owner, definition)
    services = _services(request)
    record = await services.executor.prepare(record)
    await _sync_schedules(services, record)
    saved = services.store.save_workflow(record, expected_version=0)
    return WorkflowPublic.of(saved)


@router.post("/validate", tags=["workflows"])
def validate_workflow(
    definition: WorkflowDefinition, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    """Check a definition without saving it (the console's live validation)."""
    workflow = _check(definition, request)
    return {"valid": True, "agents": sorted(workflow.agents), "steps": len(workflow.agent_steps())}


@router.get("/", response_model=list[WorkflowPublic])
def list_workflows(
    principal: CurrentPrincipal,
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="name contains")] = None,
) -> list[WorkflowPublic]:
    records = _services(request).store.list_workflows(principal.owner)
    if q:
        needle = q.lower()
        records = [
            r for r in records if needle in r.name.lower() or needle in r.description.lower()
        ]
    return [WorkflowPublic.of(r) for r in records]


@router.get("/{workflow_id}", response_model=WorkflowPublic)
def get_workflow(workflow_id: str, principal: CurrentPrincipal, request: Request) -> WorkflowPublic:
    return WorkflowPublic.of(_get(request, principal.owner, workflow_id))


@router.put("/{workflow_id}", response_model=WorkflowPublic)
async def update_workflow(
    workflow_id: str, body: WorkflowUpdate, principal: CurrentPrincipal, request: Request
) -> WorkflowPublic:
    current = _get(request, principal.owner, workflow_id)
    _check(body.definition, request)
    if body.version != current.version:
        raise HTTPException(
            409,
            f"workflow {workflow_id!r} is at version {current.version}, not {body.version}: "
            "reload it and apply your change again",
        )
    record = WorkflowRecord(
        owner=principal.owner,
        workflow_id=workflow_id,
        name=body.definition.name,
        description=body.definition.description,
        definition=body.definition.model_dump(mode="json", exclude_none=True),
        version=current.version + 1,
        created_at=current.created_at,
        updated_at=time.time(),
    )
    services = _services(request)
    record = await services.executor.prepare(record)
    await _sync_schedules(services, record)
    saved = services.store.save_workflow(record, expected_version=current.version)
    return WorkflowPublic.of(saved)


@router.delete("/{workflow_id}", status_code=204)
async def delete_workflow(
    workflow_id: str, principal: CurrentPrincipal, request: Request
) -> Response:
    services = _services(request)
    _get(request, principal.owner, workflow_id)
    if services.schedules is not None:  # first: a failure here leaves the workflow to retry
        await _schedules_call(services.schedules.remove, principal.owner, workflow_id)
    if not services.store.delete_workflow(principal.owner, workflow_id):
        raise HTTPException(404, f"workflow {workflow_id!r} not found")
    return Response(status_code=204)


async def _sync_schedules(services: Any, record: WorkflowRecord) -> None:
    """Before the save lands: a failure answers 503 and leaves the old version in place."""
    if services.schedules is not None:
        await _schedules_call(services.schedules.sync, record)


async def _schedules_call(call: Any, *args: Any) -> None:
    try:
        await asyncio.to_thread(call, *args)
    except AgentWeaverError:
        raise
    except Exception as exc:  # the scheduler service refused or is unreachable
        raise StoreError(f"the workflow's schedules could not be updated "
                         f"({type(exc).__name__}); try again") from exc  # fmt: skip


@router.get("/{workflow_id}/asl")
def get_asl(workflow_id: str, principal: CurrentPrincipal, request: Request) -> dict[str, Any]:
    """The workflow compiled to Amazon States Language (what runs on Step Functions)."""
    from agentweaver.compiler import compile_workflow

    record = _get(request, principal.owner, workflow_id)
    ir = _check(WorkflowDefinition.model_validate(record.definition), request)
    options = dict(_services(request).compile_options)
    return compile_workflow(ir, workflow_ref=f"{workflow_id}@{record.version}", **options)


@router.post("/{workflow_id}/execute", status_code=202, response_model=ExecutionAccepted)
async def execute_workflow(
    workflow_id: str,
    principal: CurrentPrincipal,
    request: Request,
    body: ExecuteRequest | None = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ExecutionAccepted:
    services = _services(request)
    record = _get(request, principal.owner, workflow_id)
    key = f"execute:{workflow_id}:{idempotency_key}" if idempotency_key else None
    started = await start_execution(
        services.store, services.executor, record,
        body.input_data if body is not None else None, idempotency_key=key,
    )  # fmt: skip
    return ExecutionAccepted(execution_id=started.execution_id, status=started.status)
