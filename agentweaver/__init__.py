"""AgentWeaver: multi-agent LLM workflows, embedded on a laptop or serverless on AWS.

The names in ``__all__`` are the public API (the spec's names first). They load on first
use (PEP 562), so ``import agentweaver`` costs almost nothing, a Lambda cold start pays only
for what its code touches, and no vendor SDK is ever imported until a provider is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentweaver.agents import Agent, AgentConfig, AgentResult, agent
    from agentweaver.exceptions import AgentWeaverError
    from agentweaver.messaging import CommunicationHub, CoordinatorAgent, Message
    from agentweaver.models import FunctionModel, Model, ModelType, TestModel, Usage
    from agentweaver.policies import Budget, RetryPolicy
    from agentweaver.tools import Tool, ToolRegistry, tool
    from agentweaver.workflow import (
        AgentNode,
        AgentSpec,
        AgentWorkflow,
        Condition,
        Event,
        ExecutionMode,
        ForeachNode,
        LocalRunner,
        LoopNode,
        ParallelNode,
        RouteCase,
        RouteNode,
        RouteSpec,
        SequenceNode,
        Workflow,
        WorkflowDefinition,
        WorkflowResult,
        load_workflow,
    )

__version__ = "0.1.0"

_WHERE = {
    "agent": "agentweaver.agents",
    "Agent": "agentweaver.agents",
    "AgentConfig": "agentweaver.agents",
    "AgentResult": "agentweaver.agents",
    "ModelType": "agentweaver.models",
    "Model": "agentweaver.models",
    "TestModel": "agentweaver.models",
    "FunctionModel": "agentweaver.models",
    "Usage": "agentweaver.models",
    "AgentWorkflow": "agentweaver.workflow",
    "ExecutionMode": "agentweaver.workflow",
    "WorkflowResult": "agentweaver.workflow",
    "WorkflowDefinition": "agentweaver.workflow",
    "AgentSpec": "agentweaver.workflow",
    "LoopNode": "agentweaver.workflow",
    "RouteCase": "agentweaver.workflow",
    "RouteSpec": "agentweaver.workflow",
    "RouteNode": "agentweaver.workflow",
    "ForeachNode": "agentweaver.workflow",
    "ParallelNode": "agentweaver.workflow",
    "SequenceNode": "agentweaver.workflow",
    "AgentNode": "agentweaver.workflow",
    "Condition": "agentweaver.workflow",
    "Event": "agentweaver.workflow",
    "LocalRunner": "agentweaver.workflow",
    "Workflow": "agentweaver.workflow",
    "load_workflow": "agentweaver.workflow",
    "Budget": "agentweaver.policies",
    "RetryPolicy": "agentweaver.policies",
    "CommunicationHub": "agentweaver.messaging",
    "Message": "agentweaver.messaging",
    "CoordinatorAgent": "agentweaver.messaging",
    "Tool": "agentweaver.tools",
    "ToolRegistry": "agentweaver.tools",
    "tool": "agentweaver.tools",
    "AgentWeaverError": "agentweaver.exceptions",
}

__all__ = [
    "Agent",
    "AgentConfig",
    "AgentNode",
    "AgentResult",
    "AgentSpec",
    "AgentWeaverError",
    "AgentWorkflow",
    "Budget",
    "CommunicationHub",
    "Condition",
    "CoordinatorAgent",
    "Event",
    "ExecutionMode",
    "ForeachNode",
    "FunctionModel",
    "LocalRunner",
    "LoopNode",
    "Message",
    "Model",
    "ModelType",
    "ParallelNode",
    "RetryPolicy",
    "RouteCase",
    "RouteNode",
    "RouteSpec",
    "SequenceNode",
    "TestModel",
    "Tool",
    "ToolRegistry",
    "Usage",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowResult",
    "agent",
    "load_workflow",
    "tool",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'agentweaver' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
