"""Workflow definitions, validation, the IR and the embedded runner."""

from agentweaver.policies import Budget, RetryPolicy
from agentweaver.workflow.conditions import Condition
from agentweaver.workflow.definition import (
    AgentNode,
    AgentSpec,
    ExecutionMode,
    ForeachNode,
    LoopNode,
    ParallelNode,
    RouteCase,
    RouteNode,
    RouteSpec,
    SequenceNode,
    WorkflowDefinition,
)
from agentweaver.workflow.ir import Workflow, build_workflow
from agentweaver.workflow.loader import load_definition, load_workflow, parse_definition
from agentweaver.workflow.result import Event, WorkflowResult
from agentweaver.workflow.runner import ExecutionHandle, LocalRunner
from agentweaver.workflow.shorthand import AgentWorkflow

__all__ = [
    "AgentNode",
    "AgentSpec",
    "AgentWorkflow",
    "Budget",
    "Condition",
    "Event",
    "ExecutionHandle",
    "ExecutionMode",
    "ForeachNode",
    "LocalRunner",
    "LoopNode",
    "ParallelNode",
    "RetryPolicy",
    "RouteCase",
    "RouteNode",
    "RouteSpec",
    "SequenceNode",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowResult",
    "build_workflow",
    "load_definition",
    "load_workflow",
    "parse_definition",
]
