"""An incoming event, checked at the edge: S3 object created, a custom event, a schedule.

The shapes are EventBridge's (S3 ``Object Created`` on the default bus, custom events on
the platform's bus) and the payload our EventBridge Scheduler schedules send. Anything
else is ``InvalidData`` naming what is wrong, so the handler logs it once and moves on
instead of letting EventBridge redeliver a poison event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agentweaver.exceptions import InvalidData

__all__ = ["IncomingEvent", "parse_event"]

_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$")

EventKind = Literal["s3", "event", "schedule"]


@dataclass(frozen=True)
class IncomingEvent:
    kind: EventKind
    event_id: str
    owner: str
    input: Any  # what a started execution receives
    event: Mapping[str, Any] = field(default_factory=dict)  # what patterns are matched against
    bucket: str = ""
    path: str = ""  # the object key after the owner's folder
    workflow_id: str = ""  # schedules name their workflow
    trigger: int = -1


def parse_event(raw: Any) -> IncomingEvent:
    if not isinstance(raw, Mapping):
        raise InvalidData(f"an event is a JSON object, not {type(raw).__name__}")
    if "agentweaver_schedule" in raw:
        return _schedule(raw)
    event_id = _text(raw, "id", "event")
    if not _ID.match(event_id):
        raise InvalidData(f"event id {event_id[:60]!r} is not a valid id")
    source = _text(raw, "source", "event")
    detail_type = _text(raw, "detail-type", "event")
    detail = raw.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidData(f"event {event_id}: 'detail' must be an object")
    if source == "aws.s3":
        if detail_type != "Object Created":
            raise InvalidData(
                f"event {event_id}: S3 {detail_type!r} events start nothing (only 'Object Created')"
            )
        return _object_created(raw, event_id, detail)
    owner = detail.get("owner")
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise InvalidData(
            f"event {event_id}: custom events name their tenant in detail.owner (a user or team id)"
        )
    return IncomingEvent(
        kind="event",
        event_id=event_id,
        owner=owner,
        input={
            "event_id": event_id,
            "source": source,
            "detail_type": detail_type,
            "time": raw.get("time"),
            "detail": dict(detail),
        },
        event=raw,
    )


def _object_created(
    raw: Mapping[str, Any], event_id: str, detail: Mapping[str, Any]
) -> IncomingEvent:
    bucket = detail.get("bucket")
    obj = detail.get("object")
    if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
        raise InvalidData(f"event {event_id}: S3 events carry detail.bucket and detail.object")
    name = _text(bucket, "name", f"event {event_id} bucket")
    key = _text(obj, "key", f"event {event_id} object")
    owner, slash, path = key.partition("/")
    if not slash or not path or not _OWNER.match(owner):
        raise InvalidData(
            f"event {event_id}: object {key[:200]!r} is not under a tenant's "
            "folder (<owner>/<path>)"
        )
    return IncomingEvent(
        kind="s3",
        event_id=event_id,
        owner=owner,
        input={
            "event_id": event_id,
            "bucket": name,
            "key": key,
            "path": path,
            "size": obj.get("size"),
            "etag": obj.get("etag"),
            "time": raw.get("time"),
        },
        event=raw,
        bucket=name,
        path=path,
    )


def _schedule(raw: Mapping[str, Any]) -> IncomingEvent:
    spec = raw["agentweaver_schedule"]
    if not isinstance(spec, Mapping):
        raise InvalidData("agentweaver_schedule must be an object")
    owner = _text(spec, "owner", "schedule")
    workflow_id = _text(spec, "workflow_id", "schedule")
    trigger = spec.get("trigger")
    if isinstance(trigger, bool) or not isinstance(trigger, int) or trigger < 0:
        raise InvalidData("schedule: 'trigger' is the trigger's index in the workflow")
    # Scheduler gives every *attempt* a new execution id, so a retried invocation would look
    # like a new event; the scheduled time is what one firing has in common
    scheduled = _text(raw, "time", "schedule")
    event_id = f"{workflow_id}/{trigger}/{scheduled}"
    if not _OWNER.match(owner) or not _ID.match(workflow_id) or not _ID.match(event_id):
        raise InvalidData("schedule: owner, workflow_id or time is not valid")
    return IncomingEvent(
        kind="schedule",
        event_id=event_id,
        owner=owner,
        input=None,
        event=raw,
        workflow_id=workflow_id,
        trigger=trigger,
    )


def _text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidData(f"{what}: {key!r} must be a non-empty string")
    return value
