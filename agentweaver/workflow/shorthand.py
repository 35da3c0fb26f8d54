"""The spec's ``AgentWorkflow``: a list of ``Agent`` objects and a mode, run in one call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentweaver.agents import Agent, agents_by_name
from agentweaver.policies import Budget, RetryPolicy
from agentweaver.workflow.binding import spec_from_agent
from agentweaver.workflow.definition import ExecutionMode, FlowNode, WorkflowDefinition
from agentweaver.workflow.ir import Workflow, build_workflow

if TYPE_CHECKING:
    from agentweaver.stores.base import Store
    from agentweaver.workflow.result import WorkflowResult
    from agentweaver.workflow.runner import LocalRunner

__all__ = ["AgentWorkflow", "ExecutionMode"]


class AgentWorkflow:
    """Agents woven by ``mode`` (or an explicit ``flow``), validated when constructed.

    ``error_handling`` takes the spec's ``"retry_3_times"`` (also ``"fail"``, ``"continue"``);
    ``max_parallel`` bounds parallel branches. The definition it builds (``.definition``) is
    the same data a YAML file gives, so it can be saved, compiled and run anywhere.
    """

    def __init__(
        self,
        agents: Sequence[Agent],
        mode: ExecutionMode | str = ExecutionMode.SEQUENTIAL,
        error_handling: str = "retry_3_times",
        max_parallel: int = 5,
        *,
        name: str = "workflow",
        description: str = "",
        flow: FlowNode | Mapping[str, Any] | None = None,
        budget: Budget | Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        tool_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.agents = list(agents)
        self.mode = ExecutionMode(mode)
        self.error_handling = error_handling
        self.max_parallel = max_parallel
        self.agent_objects = agents_by_name(self.agents)
        data: dict[str, Any] = {
            "name": name,
            "description": description,
            "agents": {n: spec_from_agent(a) for n, a in self.agent_objects.items()},
            "mode": self.mode,
            "max_parallel": max_parallel,
            "error_handling": error_handling,
        }
        if flow is not None:
            data["flow"] = flow
        if budget is not None:
            data["budget"] = budget
        if retry is not None:
            data["retry"] = retry
        if tool_settings is not None:
            data["tool_settings"] = {k: dict(v) for k, v in tool_settings.items()}
        from pydantic import ValidationError

        from agentweaver.exceptions import WorkflowValidationError
        from agentweaver.workflow.loader import issues_from_pydantic

        try:
            self.definition = WorkflowDefinition.model_validate(data)
        except ValidationError as exc:
            raise WorkflowValidationError(issues_from_pydantic(exc), name) from None
        carried = {
            t.name for a in self.agents for t in (a.config.tools or []) if not isinstance(t, str)
        }
        self.workflow: Workflow = build_workflow(self.definition, name, carried)

    async def run(
        self,
        input_data: Any = None,
        context: Mapping[str, Any] | None = None,
        *,
        runner: LocalRunner | None = None,
        store: Store | None = None,
    ) -> WorkflowResult:
        """Run on the embedded runner (a fresh one unless you pass yours)."""
        from agentweaver.workflow.runner import LocalRunner

        active = runner or LocalRunner(store)
        return await active.run(self, input_data, context=context)
