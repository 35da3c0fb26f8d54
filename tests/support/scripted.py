"""Scripted agents that behave the same on every executor.

Each agent's answer is a function of its name and its input only, and its failures a
function of (execution id, step id, attempt): never of timing or call order, so the local
runner and the compiled state machine must produce identical records. The answer is a small
JSON object with the fields generated workflows route and loop on (``k``, ``n``, ``done``)
and a list to fan out over (``items``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentweaver.agents import Agent, AgentConfig, AgentResult
from agentweaver.exceptions import ModelInvalidRequest, ModelUnavailable
from agentweaver.models.messages import ModelMessage, ModelResponse, UserMessage
from agentweaver.models.test import FunctionModel, RequestInfo
from agentweaver.tools.context import ToolContext

__all__ = ["Behaviour", "ScriptedAgent", "answer_for"]


@dataclass(frozen=True)
class Behaviour:
    """``flaky``: the first attempts that fail (retryable); ``broken``: fails for good;
    ``retries``: the agent's retry policy in the generated definition."""

    flaky: int = 0
    broken: bool = False
    retries: int = 0
    size: int = 0  # pad the answer to this many bytes (payload offloading)


def answer_for(name: str, prompt: str, size: int = 0) -> dict[str, Any]:
    digest = hashlib.sha256(f"{name}|{prompt}".encode()).hexdigest()
    n = int(digest[:4], 16) % 10
    out: dict[str, Any] = {
        "by": name,
        "h": digest[:8],
        "n": n,
        "k": int(digest[4:6], 16) % 3,
        "done": n >= 5,
        "items": [{"i": i, "t": digest[8 + i : 12 + i]} for i in range(int(digest[6], 16) % 4)],
    }
    if size:
        out["pad"] = "x" * max(0, size - len(json.dumps(out)))
    return out


def _prompt(messages: list[ModelMessage]) -> str:
    return next((m.content for m in reversed(messages) if isinstance(m, UserMessage)), "")


@dataclass
class _Attempts:
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, execution_id: str, step_id: str) -> int:
        with self.lock:  # moto runs Map iterations in threads
            key = (execution_id, step_id)
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


class ScriptedAgent(Agent):
    def __init__(self, name: str, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.attempts = _Attempts()

        def reply(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
            prompt = _prompt(messages)
            choices = info.params.choices
            if choices:  # a router: a case by hash, or none of them
                options = [*sorted(choices), "none"]
                digest = hashlib.sha256(f"{name}|{prompt}".encode()).digest()
                return ModelResponse(json.dumps(options[digest[0] % len(options)]))
            return ModelResponse(json.dumps(answer_for(name, prompt, self.behaviour.size)))

        config = AgentConfig(
            role=name.title(),
            model=FunctionModel(reply, f"scripted-{name}"),
            name=name,
            output="json",
        )
        super().__init__(config)

    async def execute(
        self,
        input_data: Any,
        context: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> AgentResult:
        tool_context: ToolContext | None = kwargs.get("tool_context")
        assert tool_context is not None, "scripted agents run through execute_step"
        attempt = self.attempts.next(tool_context.execution_id, tool_context.step_id)
        b = self.behaviour
        if b.broken:
            raise ModelInvalidRequest(f"{self.name} refuses {tool_context.step_id}")
        if attempt <= b.flaky:
            raise ModelUnavailable(f"{self.name} unavailable on attempt {attempt}")
        return await super().execute(input_data, context, **kwargs)
