"""Powertools for AWS Lambda in our functions: JSON logs, EMF metrics, X-Ray traces.

The core logs with the standard library (``agentweaver.*`` loggers) and reports numbers
through a plain callback, so it never imports Powertools; this module gives those logs
Powertools' structured format with the request id and turns the callback into CloudWatch
metrics (namespace ``AgentWeaver``, what the monitoring construct's alarms read). Events
are never logged: they carry tenants' inputs and outputs.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["NAMESPACE", "LambdaObservability"]

NAMESPACE = "AgentWeaver"
Handler = Callable[[Any, Any], Any]


class LambdaObservability:
    """One per function module: ``wrap`` the handler, pass ``metric`` to the core."""

    def __init__(self, service: str, *, configure_logs: bool | None = None) -> None:
        """``configure_logs``: route the ``agentweaver`` loggers through Powertools' JSON
        handler; by default only inside Lambda, where nothing else owns them."""
        from aws_lambda_powertools import Logger, Metrics, Tracer
        from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

        # the deployment names each function's service (the alarms' dimension) per stage
        service = os.environ.get("POWERTOOLS_SERVICE_NAME") or service
        level = os.environ.get("LOG_LEVEL") or os.environ.get("POWERTOOLS_LOG_LEVEL") or "INFO"
        self.logger = Logger(service=service, level=level)
        if configure_logs is None:
            configure_logs = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
        if configure_logs:
            logging.getLogger("agentweaver")  # registered, so the copy finds it
            copy_config_to_registered_loggers(source_logger=self.logger, include={"agentweaver"})
        namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
        self.metrics = Metrics(namespace=namespace, service=service)
        self.tracer = Tracer(service=service)  # off outside Lambda, on with X-Ray active
        self._lock = threading.Lock()

    def metric(self, name: str, value: float, unit: str = "Count") -> None:
        with self._lock:
            self.metrics.add_metric(name=name, unit=unit, value=value)

    def flush(self) -> None:
        """Print the EMF document for what was added (nothing when nothing was)."""
        with self._lock:
            if self.metrics.metric_set:
                self.metrics.flush_metrics()

    def wrap(self, handler: Handler) -> Handler:
        # neither responses nor error messages go to X-Ray: they carry tenants' data
        traced = self.tracer.capture_lambda_handler(
            handler, capture_response=False, capture_error=False
        )

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            request_id = getattr(context, "aws_request_id", None)
            self.logger.append_keys(request_id=request_id)
            try:
                return traced(event, context)
            finally:
                self.flush()

        return run
