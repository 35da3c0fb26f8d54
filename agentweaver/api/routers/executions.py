"""Executions: status with step records, logs, listing, cancel, live events (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from agentweaver.api.auth import CurrentPrincipal
from agentweaver.api.schemas import (
    ExecutionAccepted,
    ExecutionPage,
    ExecutionPublic,
    LogPublic,
    LogsPublic,
    StepPublic,
)
from agentweaver.stores.records import TERMINAL, ExecutionRecord

router = APIRouter(prefix="/executions", tags=["executions"])

Status = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
Level = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def _store(request: Request) -> Any:
    return request.app.state.services.store


def _owned(request: Request, owner: str, execution_id: str) -> ExecutionRecord:
    """The execution if it is this owner's: steps and logs are keyed by execution only."""
    record = _store(request).get_execution(owner, execution_id)
    if record is None:
        raise HTTPException(404, f"execution {execution_id!r} not found")
    return record  # type: ignore[no-any-return]


@router.get("", response_model=ExecutionPage)
def list_executions(
    principal: CurrentPrincipal,
    request: Request,
    workflow_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ExecutionPage:
    items, next_cursor = _store(request).page_executions(
        principal.owner, workflow_id=workflow_id, status=status, limit=limit, cursor=cursor
    )
    return ExecutionPage(items=[ExecutionPublic.of(r) for r in items], next_cursor=next_cursor)


@router.get("/{execution_id}", response_model=ExecutionPublic)
def get_execution(
    execution_id: str, principal: CurrentPrincipal, request: Request
) -> ExecutionPublic:
    record = _owned(request, principal.owner, execution_id)
    steps = sorted(_store(request).list_steps(execution_id), key=lambda s: (s.seq, s.started_at))
    return ExecutionPublic.of(record, steps)


@router.get("/{execution_id}/logs", response_model=LogsPublic)
def get_logs(
    execution_id: str,
    principal: CurrentPrincipal,
    request: Request,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    level: Level | None = None,
) -> LogsPublic:
    _owned(request, principal.owner, execution_id)
    records = _store(request).list_logs(execution_id, after=after, limit=limit)
    next_after = records[-1].seq if records else after
    if level is not None:
        floor = _LEVELS.index(level)
        records = [r for r in records if r.level in _LEVELS and _LEVELS.index(r.level) >= floor]
    return LogsPublic(logs=[LogPublic.of(r) for r in records], next_after=next_after)


@router.post("/{execution_id}/cancel", status_code=202, response_model=ExecutionAccepted)
async def cancel_execution(
    execution_id: str, principal: CurrentPrincipal, request: Request
) -> ExecutionAccepted:
    record = _owned(request, principal.owner, execution_id)
    if record.status in TERMINAL:
        raise HTTPException(409, f"execution {execution_id!r} already {record.status}")
    await request.app.state.services.executor.cancel(principal.owner, execution_id)
    record = _owned(request, principal.owner, execution_id)
    return ExecutionAccepted(execution_id=execution_id, status=record.status)


@router.get("/{execution_id}/events")
async def execution_events(
    execution_id: str,
    principal: CurrentPrincipal,
    request: Request,
    interval: Annotated[float, Query(ge=0.05, le=10)] = 0.5,
) -> StreamingResponse:
    """Server-sent events: ``step`` when a step record changes, ``log`` per log line,
    ``execution`` when the status changes; the stream ends when the execution does."""
    _owned(request, principal.owner, execution_id)
    store = _store(request)

    async def stream() -> AsyncIterator[str]:
        seen: dict[str, tuple[Any, ...]] = {}
        after, last_status = 0, ""
        while True:
            record = store.get_execution(principal.owner, execution_id)
            if record is None:
                return
            for step in store.list_steps(execution_id):
                key = (step.status, step.attempts, step.ended_at)
                if seen.get(step.step_id) != key:
                    seen[step.step_id] = key
                    yield _event("step", StepPublic.of(step).model_dump(mode="json"))
            for log in store.list_logs(execution_id, after=after, limit=500):
                after = log.seq
                yield _event("log", LogPublic.of(log).model_dump(mode="json"))
            if record.status != last_status:
                last_status = record.status
                yield _event("execution", ExecutionPublic.of(record).model_dump(mode="json"))
            if record.status in TERMINAL or await request.is_disconnected():
                return
            await asyncio.sleep(interval)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
