"""Usage: tokens, cost, executions and API calls per day, per model and per workflow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from agentweaver.api.auth import CurrentPrincipal

router = APIRouter(tags=["usage"])

MAX_DAYS = 366


def _day(value: str | None, default: date, name: str) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date like 2026-11-24, got {value!r}") from None


@router.get("/usage")
def get_usage(
    principal: CurrentPrincipal,
    request: Request,
    start: Annotated[str | None, Query(max_length=10, description="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(max_length=10, description="last day, YYYY-MM-DD")] = None,
) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    last = _day(end, today, "end")
    first = _day(start, last - timedelta(days=29), "start")
    if first > last:
        raise HTTPException(400, "start is after end")
    if (last - first).days >= MAX_DAYS:
        raise HTTPException(400, f"a usage range spans at most {MAX_DAYS} days")
    records = request.app.state.services.store.get_usage(
        principal.owner, first.isoformat(), last.isoformat()
    )
    days, by_model, by_workflow, totals = [], {}, {}, {}  # type: ignore[var-annotated]
    for record in sorted(records, key=lambda r: r.day):
        day_totals: dict[str, float] = {}
        for name, value in record.metrics.items():
            kind, _, rest = name.partition(":")
            if kind in ("model", "workflow") and ":" in rest:
                key, _, metric = rest.rpartition(":")
                target = by_model if kind == "model" else by_workflow
                bucket = target.setdefault(key, {})
                bucket[metric] = bucket.get(metric, 0.0) + value
            else:
                day_totals[name] = value
                totals[name] = totals.get(name, 0.0) + value
        days.append({"day": record.day, "metrics": day_totals})
    return {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "totals": totals,
        "days": days,
        "by_model": by_model,
        "by_workflow": by_workflow,
    }
