"""Put an event: the workflows whose ``event`` triggers fit it start (the embedded and
scripted counterpart of putting an event on the platform's EventBridge bus)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from agentweaver.api.auth import CurrentPrincipal
from agentweaver.triggers.dispatch import dispatch
from agentweaver.triggers.events import IncomingEvent

router = APIRouter(tags=["events"])


class EventPut(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._/-]+$")
    detail_type: Annotated[str, Field(alias="detail-type", min_length=1, max_length=128)]
    detail: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="repeat an id to deliver the same event again: it starts nothing new",
    )


class TriggeredPublic(BaseModel):
    workflow_id: str
    execution_id: str
    duplicate: bool


class EventAccepted(BaseModel):
    event_id: str
    started: list[TriggeredPublic]


@router.post("/events", status_code=202, response_model=EventAccepted)
async def put_event(body: EventPut, principal: CurrentPrincipal, request: Request) -> EventAccepted:
    services = request.app.state.services
    event_id = body.id or uuid.uuid4().hex
    # the tenant is the caller, whatever the body says
    detail = {**body.detail, "owner": principal.owner}
    raw = {"id": event_id, "source": body.source, "detail-type": body.detail_type, "detail": detail}
    event = IncomingEvent(
        kind="event",
        event_id=event_id,
        owner=principal.owner,
        input={
            "event_id": event_id,
            "source": body.source,
            "detail_type": body.detail_type,
            "time": None,
            "detail": detail,
        },
        event=raw,
    )
    started = await dispatch(event, services.store, services.executor)
    return EventAccepted(
        event_id=event_id,
        started=[
            TriggeredPublic(
                workflow_id=s.workflow_id, execution_id=s.execution_id, duplicate=s.duplicate
            )
            for s in started
        ],
    )
