"""Schedule triggers as EventBridge Scheduler schedules, kept in step with saved workflows.

One schedule per ``schedule:`` trigger, created when the workflow is saved and removed
when the trigger or the workflow is: nothing polls, so nothing runs (or bills) while idle.
Each schedule invokes the triggers function with the owner, workflow and trigger index,
and the scheduler's execution id as the event id, so a retried delivery starts one run.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from agentweaver.exceptions import ValidationIssue, WorkflowValidationError
from agentweaver.stores.records import WorkflowRecord
from agentweaver.workflow.definition import WorkflowDefinition

__all__ = ["EventBridgeSchedules", "schedule_name"]


def _tenant(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:12]


def schedule_name(owner: str, workflow_id: str, index: int) -> str:
    """Scheduler names allow ``[0-9A-Za-z_.-]{1,64}``: owners (emails, subs) are hashed."""
    return f"aw-{_tenant(owner)}-{workflow_id}-{index}"[:64]


class EventBridgeSchedules:
    def __init__(
        self,
        group: str,
        role_arn: str,
        target_arn: str,
        client: Any | None = None,
        dead_letter_arn: str | None = None,
    ) -> None:
        self.group, self.role_arn, self.target_arn = group, role_arn, target_arn
        self.dead_letter_arn = dead_letter_arn  # an SQS queue for invocations that kept failing
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            # an own session: building on boto3's shared default one is not thread-safe
            self._client = boto3.session.Session().client("scheduler")
        return self._client

    def sync(self, record: WorkflowRecord) -> list[str]:
        """Create or update the workflow's schedules; delete those its triggers no longer have."""
        definition = WorkflowDefinition.model_validate(record.definition)
        wanted: dict[str, dict[str, Any]] = {}
        for index, trigger in enumerate(definition.triggers):
            if trigger.schedule is None:
                continue
            name = schedule_name(record.owner, record.workflow_id, index)
            payload = {
                "agentweaver_schedule": {"owner": record.owner,
                                         "workflow_id": record.workflow_id,
                                         "trigger": index},
                "id": "<aws.scheduler.execution-id>",
                "time": "<aws.scheduler.scheduled-time>",
            }  # fmt: skip
            wanted[name] = {
                "Name": name,
                "GroupName": self.group,
                "ScheduleExpression": trigger.schedule,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED",
                "Description": f"{definition.name} (workflow {record.workflow_id})"[:512],
                "Target": {
                    "Arn": self.target_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps(payload),
                    "RetryPolicy": {"MaximumRetryAttempts": 3,
                                    "MaximumEventAgeInSeconds": 3600},
                },
            }  # fmt: skip
            if self.dead_letter_arn:
                wanted[name]["Target"]["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        existing = set(self._names(record.owner, record.workflow_id))
        for name, request in wanted.items():
            try:
                if name in existing:
                    self.client.update_schedule(**request)
                else:
                    self.client.create_schedule(**request)
            except Exception as exc:  # the expression Scheduler refused: the caller's to fix
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code != "ValidationException":
                    raise
                index = int(name.rsplit("-", 1)[1])
                raise WorkflowValidationError([ValidationIssue(
                    f"triggers.{index}.schedule",
                    f"EventBridge Scheduler refused {request['ScheduleExpression']!r}: {exc}",
                )]) from None  # fmt: skip
        for name in existing - set(wanted):
            self.client.delete_schedule(Name=name, GroupName=self.group)
        return sorted(wanted)

    def remove(self, owner: str, workflow_id: str) -> None:
        for name in self._names(owner, workflow_id):
            self.client.delete_schedule(Name=name, GroupName=self.group)

    def _names(self, owner: str, workflow_id: str) -> list[str]:
        prefix = f"aw-{_tenant(owner)}-{workflow_id}-"
        ours = re.compile(re.escape(prefix) + r"\d+$")  # not workflow "a-b"'s when syncing "a"
        names: list[str] = []
        kwargs: dict[str, Any] = {"GroupName": self.group, "NamePrefix": prefix}
        while True:
            page = self.client.list_schedules(**kwargs)
            names += [s["Name"] for s in page.get("Schedules", []) if ours.match(s["Name"])]
            token = page.get("NextToken")
            if not token:
                return names
            kwargs["NextToken"] = token
