"""Making an execution's record terminal: one function for every executor.

The local runner calls it when a run ends; the agent-step function's ``finish`` mode calls
it from the state machine's last state. The totals come from the step records, so both
executors report tokens, cost and usage the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from agentweaver.stores.base import Store
from agentweaver.stores.records import StepRecord

__all__ = ["Totals", "record_finish"]


class Totals:
    """Tokens, cost (None when any step's is unknown) and step count over step records."""

    __slots__ = ("by_model", "cost", "input_tokens", "output_tokens", "steps")

    def __init__(self, steps: Sequence[StepRecord]) -> None:
        self.by_model: dict[str, dict[str, float]] = {}
        for s in steps:
            if not s.model:
                continue
            m = self.by_model.setdefault(
                s.model, {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "steps": 0}
            )
            m["input_tokens"] += s.input_tokens
            m["output_tokens"] += s.output_tokens
            m["cost_usd"] += s.cost or 0.0
            m["steps"] += 1
        self.input_tokens = sum(s.input_tokens for s in steps)
        self.output_tokens = sum(s.output_tokens for s in steps)
        costs = [s.cost for s in steps]
        self.cost: float | None = (
            None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)
        )
        self.steps = len(steps)


def record_finish(
    store: Store,
    owner: str,
    execution_id: str,
    *,
    status: str,
    output: Any,
    error: dict[str, Any] | None,
    ended_at: float,
    seconds: float,
    spent: Totals,
    workflow_id: str = "",
) -> None:
    """Status, output/error and totals on the record, a log line, and the day's usage.

    Usage metrics are flat names per owner and day: totals (``cost_usd``), and the same per
    model (``model:<model>:cost_usd``) and per workflow (``workflow:<id>:cost_usd``), so one
    atomic add per run keeps every breakdown the analytics need.
    """
    store.update_execution(
        owner,
        execution_id,
        status=status,
        output=output,
        error=error,
        ended_at=ended_at,
        input_tokens=spent.input_tokens,
        output_tokens=spent.output_tokens,
        cost=spent.cost,
        steps=spent.steps,
    )
    level = "INFO" if status == "succeeded" else "ERROR"
    reason = f": {error['type']}: {error['message']}" if error else ""
    store.append_log(execution_id, level, f"execution {status}{reason}")
    day = datetime.fromtimestamp(ended_at, UTC).strftime("%Y-%m-%d")
    totals: dict[str, float] = {
        "executions": 1,
        f"executions_{status}": 1,
        "input_tokens": spent.input_tokens,
        "output_tokens": spent.output_tokens,
        "cost_usd": spent.cost or 0.0,
        "steps": spent.steps,
        "execution_seconds": seconds,
    }
    metrics = dict(totals)
    if workflow_id:
        metrics.update({f"workflow:{workflow_id}:{k}": v for k, v in totals.items()})
    for model, per in spent.by_model.items():
        metrics.update({f"model:{model}:{k}": v for k, v in per.items()})
    store.add_usage(owner, day, metrics)
