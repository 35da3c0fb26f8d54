"""Prometheus metrics with the specification's names, on a registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from agentweaver.executors.base import ExecutionFinished

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.executions = Counter(
            "agentweaver_workflow_executions_total",
            "Total number of workflow executions",
            ["user_id", "workflow_id", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "agentweaver_workflow_execution_duration_seconds",
            "Workflow execution duration",
            ["workflow_id"],
            registry=self.registry,
        )
        self.active = Gauge(
            "agentweaver_active_executions",
            "Number of currently running executions",
            registry=self.registry,
        )
        self.api_calls = Counter(
            "agentweaver_api_calls_total",
            "Total API calls",
            ["endpoint", "method", "status_code"],
            registry=self.registry,
        )

    def finished(self, event: ExecutionFinished) -> None:
        self.executions.labels(event.owner, event.workflow_id, event.status).inc()
        self.duration.labels(event.workflow_id).observe(event.seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
