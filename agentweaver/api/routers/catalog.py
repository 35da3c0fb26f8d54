"""What a workflow can use: model aliases and providers (and whether each has a key), tools.

The console's builder offers these in its model and tool pickers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from agentweaver.api.auth import CurrentPrincipal

router = APIRouter(tags=["catalog"])


class ModelChoice(BaseModel):
    name: str
    target: str
    provider: str
    configured: bool


class ProviderChoice(BaseModel):
    name: str
    needs_key: bool
    configured: bool


class ToolChoice(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class Catalog(BaseModel):
    models: list[ModelChoice]
    providers: list[ProviderChoice]
    tools: list[ToolChoice]
    model_override: str | None


@router.get("/catalog", response_model=Catalog)
def get_catalog(principal: CurrentPrincipal, request: Request) -> Catalog:
    """Model aliases with their targets, providers with whether a key is set, and tools."""
    from agentweaver.models.keys import EnvKeys
    from agentweaver.models.registry import ALIASES, PROVIDERS, resolve_alias
    from agentweaver.tools.base import ToolRegistry

    stored = {r.provider for r in request.app.state.services.store.list_provider_keys(
        principal.owner)}  # fmt: skip
    env = EnvKeys()

    def configured(provider: str) -> bool:
        info = PROVIDERS.get(provider)
        if info is None:
            return False
        if not info.env_vars or provider in stored:
            return True
        return bool(env.get(provider, info.env_vars))

    models = []
    for alias in ALIASES:
        target = resolve_alias(alias)
        provider = target.partition(":")[0]
        models.append(ModelChoice(name=alias, target=target, provider=provider,
                                  configured=configured(provider)))  # fmt: skip
    providers = [
        ProviderChoice(name=name, needs_key=bool(info.env_vars), configured=configured(name))
        for name, info in PROVIDERS.items()
        if name != "function"
    ]
    tools = [ToolChoice(name=t.name, description=t.description, parameters=t.parameters)
             for t in ToolRegistry.get_tools(list(ToolRegistry.names()))]  # fmt: skip
    override = getattr(request.app.state.services.executor, "model_override", None)
    name = getattr(override, "name", override)
    return Catalog(models=models, providers=providers, tools=tools,
                   model_override=str(name) if name else None)  # fmt: skip
