"""``CoordinatorAgent``: picks who gets a task (skill match or a router model) and says why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentweaver.exceptions import DefinitionError
from agentweaver.models.base import Model
from agentweaver.models.messages import (
    ModelMessage,
    ModelRequestParameters,
    ModelSettings,
    SystemMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.registry import infer_model

if TYPE_CHECKING:  # runtime import would tie this module to agent.py's import graph
    from agentweaver.agents import Agent

from agentweaver.messaging.hub import CommunicationHub, Message
from agentweaver.messaging.skills import match_answer, skill_score, skill_tokens, task_text

__all__ = ["CoordinatorAgent", "RoutingDecision"]


_ROUTER_PROMPT = (
    "You are a coordinator choosing the best agent for a task. Reply with the name of exactly "
    "one agent from this list and nothing else:\n{agents}"
)


@dataclass
class RoutingDecision:
    """Why a task went where it went; ``fallback`` says why a model's answer was not used."""

    chosen: str
    strategy: Literal["skills", "model"]
    scores: dict[str, float]
    raw_answer: str | None = None
    fallback: str | None = None


def _skills_of(agent: Agent) -> tuple[str, str, list[str]]:
    tools = [t if isinstance(t, str) else t.name for t in agent.config.tools or []]
    return agent.config.role, agent.config.description or agent.instructions, tools


class CoordinatorAgent:
    """Distributes tasks to the hub's agents (the spec's coordinator)."""

    def __init__(
        self,
        communication_hub: CommunicationHub,
        *,
        router_model: Model | str | None = None,
        strategy: Literal["skills", "model"] = "skills",
    ) -> None:
        if strategy == "model" and router_model is None:
            raise DefinitionError("strategy='model' needs a router_model")
        self.hub = communication_hub
        self.task_queue: list[Any] = []
        self.strategy: Literal["skills", "model"] = (
            "model" if router_model is not None else strategy
        )
        self._router = router_model
        self.last_decision: RoutingDecision | None = None
        self.usage = Usage()  # what the router model spent, apart from the agents' usage

    @property
    def router_model(self) -> Model | None:
        """The router model, built on first use so a coordinator can be defined without keys."""
        if isinstance(self._router, str):
            self._router = infer_model(self._router)
        return self._router

    def _candidates(self, available_agents: Sequence[Agent] | None) -> list[Agent]:
        agents = list(self.hub.agents.values() if available_agents is None else available_agents)
        if not agents:
            raise DefinitionError("no agents to distribute the task to; register some first")
        return agents

    def _analyze_task_complexity(self, task: Any) -> dict[str, Any]:
        text = task_text(task)
        return {"task": task, "text": text, "words": sorted(skill_tokens(text))}

    def _calculate_skill_match(self, task_analysis: Mapping[str, Any], agent: Agent) -> float:
        role, description, tools = _skills_of(agent)
        return skill_score(task_analysis["text"], role=role, description=description, tools=tools)

    def _select_best_agent(
        self, task_analysis: Mapping[str, Any], agents: Sequence[Agent]
    ) -> Agent:
        scores = {a.name: self._calculate_skill_match(task_analysis, a) for a in agents}
        chosen = max(agents, key=lambda a: scores[a.name])
        self.last_decision = RoutingDecision(chosen.name, "skills", scores)
        return chosen

    async def select_agent(
        self, task: Any, available_agents: Sequence[Agent] | None = None
    ) -> Agent:
        """The agent for ``task`` by this coordinator's strategy; ``last_decision`` says why."""
        agents = self._candidates(available_agents)
        analysis = self._analyze_task_complexity(task)
        by_skills = self._select_best_agent(analysis, agents)
        decision, model = self.last_decision, self.router_model
        if self.strategy == "skills" or model is None or decision is None:
            return by_skills
        choices = {}
        for item in agents:
            role, description, tools = _skills_of(item)
            choices[item.name] = f"{role}: {description}; tools: {', '.join(tools) or 'none'}"
        listing = "\n".join(f"- {name}: {text}" for name, text in choices.items())
        messages: list[ModelMessage] = [
            SystemMessage(_ROUTER_PROMPT.format(agents=listing)),
            UserMessage(analysis["text"]),
        ]
        response = await model.request(
            messages, ModelSettings(temperature=0), ModelRequestParameters(choices=choices)
        )
        self.usage = self.usage + response.usage
        decision.raw_answer = response.text
        by_name = {a.name: a for a in agents}
        key = match_answer(response.text, {a.name: (a.name, a.config.role) for a in agents})
        chosen = by_name.get(key) if key else None
        if chosen is None:
            decision.fallback = f"model answer {response.text[:80]!r} names no agent; used skills"
            return by_skills
        decision.chosen, decision.strategy = chosen.name, "model"
        return chosen

    async def distribute_task(
        self, task: Any, available_agents: Sequence[Agent] | None = None
    ) -> Agent:
        """Send ``task`` to the best agent as a request from ``"coordinator"``; don't wait."""
        selected = await self.select_agent(task, available_agents)
        message = Message("coordinator", selected.config.role, task, requires_response=True)
        await self.hub.send_message(message)
        return selected

    async def route(
        self,
        task: Any,
        available_agents: Sequence[Agent] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the spec's API, passed to hub.request
    ) -> tuple[Agent, Message]:
        """Like ``distribute_task`` but wait for the agent's reply and return it too."""
        selected = await self.select_agent(task, available_agents)
        reply = await self.hub.request("coordinator", selected.config.role, task, timeout)
        return selected, reply

    async def distribute_all(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[tuple[Agent, Message]]:
        """Route every task in ``task_queue`` in order, emptying it."""
        done = []
        while self.task_queue:
            done.append(await self.route(self.task_queue.pop(0), timeout=timeout))
        return done
