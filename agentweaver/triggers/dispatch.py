"""Match an incoming event to the tenant's workflows and start each fitting one once.

Once means once per (event id, workflow): EventBridge delivers at least once and retries,
and two deliveries may arrive together on two Lambdas, so the start goes through the
store's atomic idempotency claim, keyed on the event id. The owner comes from the event
(``events.parse_event``), so only that tenant's workflows are ever looked at.

One workflow's failure never costs another its start: each is matched and started on its
own. A matching error is that workflow's own problem (logged, skipped); a transient error
starting one (the store) is raised after the others have started, so the event is
redelivered and the idempotency claim makes the redelivery start only what is missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agentweaver.exceptions import AgentWeaverError, InvalidData, StoreError
from agentweaver.executors.base import Executor
from agentweaver.executors.start import start_execution
from agentweaver.stores.base import Store
from agentweaver.stores.records import WorkflowRecord
from agentweaver.triggers.events import IncomingEvent, parse_event
from agentweaver.triggers.patterns import matches
from agentweaver.triggers.spec import TriggerSpec
from agentweaver.workflow.definition import WorkflowDefinition

__all__ = ["TriggeredStart", "dispatch", "fits", "handle_trigger_event"]

log = logging.getLogger("agentweaver.triggers")

# EventBridge retries an event for up to 24 hours; Scheduler's own retries are shorter
KEY_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class TriggeredStart:
    workflow_id: str
    execution_id: str
    duplicate: bool


def fits(trigger: TriggerSpec, event: IncomingEvent) -> bool:
    if event.kind == "s3" and trigger.s3 is not None:
        s3 = trigger.s3
        if s3.bucket and s3.bucket != event.bucket:
            return False
        return event.path.startswith(s3.prefix) and event.path.endswith(s3.suffix)
    if event.kind == "event" and trigger.event is not None:
        return matches(trigger.event, event.event)
    return False


async def dispatch(event: IncomingEvent, store: Store, executor: Executor) -> list[TriggeredStart]:
    """Start what ``event`` triggers; a workflow that fits twice still starts once."""
    started: list[TriggeredStart] = []
    retry: Exception | None = None
    for record, input_data in _targets(event, store):
        try:
            result = await start_execution(
                store,
                executor,
                record,
                input_data,
                idempotency_key=f"trigger:{event.event_id}:{record.workflow_id}",
                key_seconds=KEY_SECONDS,
            )
        except Exception as exc:  # the next workflow still starts; the payload is not logged
            log.error(
                "%s event %s -> workflow %s: start failed (%s)",
                event.kind,
                event.event_id,
                record.workflow_id,
                type(exc).__name__,
            )
            if retry is None and _transient(exc):
                retry = exc
            continue
        log.info(
            "%s event %s -> workflow %s: execution %s%s",
            event.kind,
            event.event_id,
            record.workflow_id,
            result.execution_id,
            " (already started)" if result.duplicate else "",
        )
        started.append(TriggeredStart(record.workflow_id, result.execution_id, result.duplicate))
    if retry is not None:
        raise retry
    return started


def _transient(exc: Exception) -> bool:
    """Worth a redelivery: the store failed, or the error says a retry may succeed."""
    return isinstance(exc, StoreError) or (isinstance(exc, AgentWeaverError) and exc.retryable)


def _targets(event: IncomingEvent, store: Store) -> list[tuple[WorkflowRecord, Any]]:
    if event.kind == "schedule":
        record = store.get_workflow(event.owner, event.workflow_id)
        definition = _definition(record) if record is not None else None
        if record is None or definition is None:
            log.warning("schedule %s: workflow %s is gone", event.event_id, event.workflow_id)
            return []
        triggers = definition.triggers
        if event.trigger >= len(triggers) or triggers[event.trigger].schedule is None:
            log.warning(
                "schedule %s: workflow %s has no schedule trigger #%d (stale schedule)",
                event.event_id,
                event.workflow_id,
                event.trigger,
            )
            return []
        return [(record, triggers[event.trigger].input)]
    targets = []
    for record in store.list_workflows(event.owner):
        if _fits_any(record, event):
            targets.append((record, event.input))
    return targets


def _fits_any(record: WorkflowRecord, event: IncomingEvent) -> bool:
    """Matching errors stay with their workflow: logged by type (never the event), skipped."""
    try:
        definition = _definition(record)
        return definition is not None and any(fits(t, event) for t in definition.triggers)
    except Exception as exc:
        log.error(
            "%s event %s: matching workflow %s failed (%s); it is skipped",
            event.kind,
            event.event_id,
            record.workflow_id,
            type(exc).__name__,
        )
        return False


def _definition(record: WorkflowRecord) -> WorkflowDefinition | None:
    try:
        return WorkflowDefinition.model_validate(record.definition)
    except ValidationError as exc:  # saved by an older version with other rules: skipped, said
        log.warning(
            "workflow %s no longer validates; its triggers are skipped: %s",
            record.workflow_id,
            exc.errors()[0]["msg"],
        )
        return None


async def handle_trigger_event(raw: Any, store: Store, executor: Executor) -> dict[str, Any]:
    """The triggers function's whole job: a bad event is logged and answered, never raised,
    so EventBridge does not redeliver it again and again."""
    try:
        event = parse_event(raw)
    except InvalidData as exc:
        log.warning("rejected an event: %s", exc)
        return {"started": [], "error": str(exc)}
    started = await dispatch(event, store, executor)
    return {
        "event_id": event.event_id,
        "started": [
            {"workflow_id": s.workflow_id, "execution_id": s.execution_id,
             "duplicate": s.duplicate}
            for s in started
        ],
    }  # fmt: skip
