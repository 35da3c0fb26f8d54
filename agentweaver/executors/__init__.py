"""Executors run queued executions: in this process (``LocalExecutor``) or as Step Functions
executions (``agentweaver.aws.sfn_executor``). The API only sees the ``Executor`` protocol."""

from agentweaver.executors.base import ExecutionFinished, Executor
from agentweaver.executors.local import LocalExecutor

__all__ = ["ExecutionFinished", "Executor", "LocalExecutor"]
