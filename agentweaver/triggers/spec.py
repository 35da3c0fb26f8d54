"""What starts a workflow without anyone calling the API: an object, an event, a schedule.

Written in the workflow definition::

    triggers:
      - s3: {prefix: reports/, suffix: .pdf}      # an object lands in the inbox bucket
      - event: {source: [shop], detail-type: [OrderPlaced]}   # an EventBridge pattern
      - schedule: rate(1 day)                      # or cron(0 9 ? * MON-FRI *)
        input: {topic: daily digest}

Every event is addressed to one tenant (an S3 key begins with the owner, a custom event
carries ``detail.owner``, a schedule was made for one workflow), so a tenant's triggers
never see another tenant's objects or events (decision 0015).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentweaver.exceptions import DefinitionError
from agentweaver.triggers.patterns import validate_pattern

__all__ = ["S3Trigger", "TriggerSpec", "validate_schedule"]

_RATE = re.compile(r"^rate\((?P<n>[1-9]\d{0,5}) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)$")


class S3Trigger(BaseModel):
    """Objects created under ``<owner>/<prefix>...<suffix>`` in the platform's inbox bucket."""

    model_config = ConfigDict(extra="forbid")

    prefix: str = Field("", max_length=1024, description="key prefix after the owner's folder")
    suffix: str = Field("", max_length=1024)
    bucket: str | None = Field(None, description="only objects from this bucket")


class TriggerSpec(BaseModel):
    """Exactly one of ``s3``, ``event``, ``schedule``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    s3: S3Trigger | None = None
    event: dict[str, Any] | None = Field(None, description="an EventBridge event pattern")
    schedule: str | None = Field(None, description="rate(...) or cron(...), as EventBridge "
                                                   "Scheduler writes them")  # fmt: skip
    input: Any = Field(None, description="the execution input of a scheduled run")

    @model_validator(mode="after")
    def _exactly_one(self) -> TriggerSpec:
        kinds = [k for k in ("s3", "event", "schedule") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a trigger needs exactly one of: s3, event, schedule")
        if self.input is not None and self.schedule is None:
            raise ValueError("'input' is for schedules: an object or event is the input itself")
        return self

    @field_validator("event")
    @classmethod
    def _pattern(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                validate_pattern(value)
            except DefinitionError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                validate_schedule(value)
            except DefinitionError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def kind(self) -> str:
        return "s3" if self.s3 else "event" if self.event is not None else "schedule"


def validate_schedule(expression: str) -> None:
    """EventBridge Scheduler's ``rate(n unit)`` and six-field ``cron(...)``."""
    rate = _RATE.match(expression)
    if rate:
        singular = rate["unit"].endswith("s") is False
        if singular != (rate["n"] == "1"):
            raise DefinitionError(f"schedule {expression!r}: write rate(1 day) or rate(2 days)")
        return
    cron = _CRON.match(expression)
    if not cron:
        raise DefinitionError(
            f"schedule {expression!r}: expected rate(5 minutes) or "
            "cron(minutes hours day-of-month month day-of-week year)"
        )
    fields = cron["fields"].split()
    if len(fields) != 6:
        raise DefinitionError(f"schedule {expression!r}: cron takes six fields "
                              f"(minutes hours day-of-month month day-of-week year), "
                              f"got {len(fields)}")  # fmt: skip
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise DefinitionError(f"schedule {expression!r}: exactly one of day-of-month and "
                              "day-of-week must be '?'")  # fmt: skip
