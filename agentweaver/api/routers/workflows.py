"""Workflows: create, list, read, update (optimistic locking), delete, compile, execute."""

from __future__ import annotations

import time
import uuid
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
from agentweaver.exceptions import ValidationIssue, WorkflowValidationError
from agentweaver.stores.records import ExecutionRecord, WorkflowRecord
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import Workflow, build_workflow

router = APIRouter(prefix="/workflows", tags=["workflows"])

IDEMPOTENCY_SECONDS = 24 * 3600


def _services(request: Request) -> Any:
    return request.app.state.services


def _check(definition: WorkflowDefinition) -> Workflow:
    """The IR, or 422 with every problem; code-importing fields are refused over the API."""
    issues = [
        ValidationIssue(f"agents.{name}.function", "functions are not accepted over the API: "
                        "package your agent code with the deployment and reference the agent")
        for name, spec in definition.agents.items() if spec.function
    ]  # fmt: skip
    search = definition.tool_settings.get("web_search", {})
    if "function" in search:
        issues.append(ValidationIssue("tool_settings.web_search.function",
                                      "functions are not accepted over the API"))  # fmt: skip
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
    _check(definition)
    now = time.time()
    record = WorkflowRecord(
        owner=principal.owner,
        workflow_id=uuid.uuid4().hex[:16],
        name=definition.name,
        description=definition.description,
        definition=definition.model_dump(mode="json", exclude_none=True),
        version=1,
        created_at=now,
        updated_at=now,
    )
    services = _services(request)
    record = await services.executor.prepare(record)
    saved = services.store.save_workflow(record, expected_version=0)
    return WorkflowPublic.of(saved)


@router.post("/validate", tags=["workflows"])
def validate_workflow(
    definition: WorkflowDefinition, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Check a definition without saving it (the console's live validation)."""
    workflow = _check(definition)
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
    _check(body.definition)
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
    saved = services.store.save_workflow(record, expected_version=current.version)
    return WorkflowPublic.of(saved)


@router.delete("/{workflow_id}", status_code=204)
def delete_workflow(workflow_id: str, principal: CurrentPrincipal, request: Request) -> Response:
    if not _services(request).store.delete_workflow(principal.owner, workflow_id):
        raise HTTPException(404, f"workflow {workflow_id!r} not found")
    return Response(status_code=204)


@router.get("/{workflow_id}/asl")
def get_asl(workflow_id: str, principal: CurrentPrincipal, request: Request) -> dict[str, Any]:
    """The workflow compiled to Amazon States Language (what runs on Step Functions)."""
    from agentweaver.compiler import compile_workflow

    record = _get(request, principal.owner, workflow_id)
    ir = _check(WorkflowDefinition.model_validate(record.definition))
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
    execution_id = uuid.uuid4().hex
    if idempotency_key:
        winner = services.store.claim_idempotency_key(
            principal.owner, f"execute:{workflow_id}:{idempotency_key}", execution_id,
            time.time() + IDEMPOTENCY_SECONDS,
        )  # fmt: skip
        if winner != execution_id:  # a retried request: the first one's execution
            existing = services.store.get_execution(principal.owner, winner)
            status = existing.status if existing is not None else "queued"
            return ExecutionAccepted(execution_id=winner, status=status)
    now = time.time()
    execution = ExecutionRecord(
        owner=principal.owner,
        execution_id=execution_id,
        workflow_id=workflow_id,
        workflow_name=record.name,
        status="queued",
        input=body.input_data if body is not None else None,
        created_at=now,
    )
    services.store.create_execution(execution)
    await services.executor.submit(execution, record)
    return ExecutionAccepted(execution_id=execution_id, status="queued")
