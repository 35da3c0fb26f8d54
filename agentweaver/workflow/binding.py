"""From agent specs (data) to ``Agent`` objects (code), for the runner and the step Lambda."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from pydantic import BaseModel

from agentweaver.agents import Agent, AgentConfig
from agentweaver.exceptions import DefinitionError
from agentweaver.workflow.definition import AgentSpec

__all__ = ["agent_from_spec", "bind_agents", "import_object"]


def import_object(path: str) -> object:
    """``package.module:name`` -> the object, with an error that names what is missing."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DefinitionError(f"cannot import {module_name!r} for {path!r}: {exc}") from None
    obj: object = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise DefinitionError(f"{module_name!r} has no {attr!r} (from {path!r})")
        obj = getattr(obj, part)
    return obj


def agent_from_spec(name: str, spec: AgentSpec) -> Agent:
    func = None
    if spec.function:
        target = import_object(spec.function)
        if isinstance(target, Agent):
            func = target.func
        elif callable(target):
            func = target
        else:
            raise DefinitionError(f"agent {name!r}: {spec.function!r} is not a function")
    config = AgentConfig(
        role=spec.role,
        model=spec.model,
        tools=list(spec.tools),
        personality=spec.personality,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        timeout=spec.timeout,
        name=name,
        description=spec.description,
        instructions=spec.instructions,
        output=spec.output,
        retry=spec.retry,
        max_tool_rounds=spec.max_tool_rounds,
        fallback_models=list(spec.fallback_models),
        output_schema=_schema(name, spec.output_schema),
        model_settings=dict(spec.model_settings),
    )
    return Agent(config, func)


def _schema(name: str, path: str | None) -> type[BaseModel] | None:
    if path is None:
        return None
    target = import_object(path)
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        raise DefinitionError(f"agent {name!r}: output_schema {path!r} is not a pydantic model")
    return target


def spec_from_agent(agent: Agent) -> AgentSpec:
    """The data form of a Python-defined agent (its function referenced by import path)."""
    cfg = agent.config
    function = None
    if agent.func is not None and "<locals>" not in agent.func.__qualname__:
        function = f"{agent.func.__module__}:{agent.func.__qualname__}"
    return AgentSpec(
        role=cfg.role,
        model=cfg.model_string,
        tools=[t if isinstance(t, str) else t.name for t in (cfg.tools or [])],
        personality=cfg.personality,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        timeout=cfg.timeout,
        description=cfg.description,
        instructions=cfg.instructions,
        output=cfg.output,
        retry=cfg.retry,
        max_tool_rounds=cfg.max_tool_rounds,
        function=function,
        fallback_models=list(cfg.fallback_models),
        model_settings=dict(cfg.model_settings),
        output_schema=(
            f"{cfg.output_schema.__module__}:{cfg.output_schema.__qualname__}"
            if cfg.output_schema is not None and "<locals>" not in cfg.output_schema.__qualname__
            else None
        ),
    )


def bind_agents(
    specs: Mapping[str, AgentSpec], provided: Mapping[str, Agent] | None = None
) -> dict[str, Agent]:
    """Agents for every spec, preferring objects the caller already has (closures, test models)."""
    given = dict(provided or {})
    return {name: given.get(name) or agent_from_spec(name, spec) for name, spec in specs.items()}
