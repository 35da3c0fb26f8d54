"""Execution stores: one contract, a SQLite backend here, DynamoDB in ``agentweaver.aws``."""

from agentweaver.stores.base import Store
from agentweaver.stores.records import (
    ExecutionRecord,
    ExecutionStatus,
    LogRecord,
    StepRecord,
    UsageRecord,
    WorkflowRecord,
)

__all__ = [
    "ExecutionRecord",
    "ExecutionStatus",
    "LogRecord",
    "StepRecord",
    "Store",
    "UsageRecord",
    "WorkflowRecord",
]
