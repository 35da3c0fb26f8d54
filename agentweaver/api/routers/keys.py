"""The caller's keys: provider keys (write-only, masked) and platform API keys."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from agentweaver.api.auth import CurrentPrincipal

router = APIRouter(prefix="/me", tags=["keys"])

PROVIDERS = ("anthropic", "openai", "google", "bedrock", "openai-compatible", "ollama")
Provider = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,31}$")]


class ProviderKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=8, max_length=4096, repr=False)


class ProviderKeyPublic(BaseModel):
    provider: str
    hint: str
    updated_at: float


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)


class ApiKeyPublic(BaseModel):
    key_id: str
    name: str
    prefix: str
    created_at: float
    last_used_at: float | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the secret: shown once, store it now")


def _vault(request: Request) -> Any:
    vault = request.app.state.services.vault
    if vault is None:
        raise HTTPException(503, "provider keys are not available: no key vault is configured")
    return vault


@router.put("/provider-keys/{provider}", response_model=ProviderKeyPublic)
def put_provider_key(
    provider: Provider, body: ProviderKeyIn, principal: CurrentPrincipal, request: Request
) -> ProviderKeyPublic:
    from agentweaver.keys.vault import store_provider_key

    if provider not in PROVIDERS:
        raise HTTPException(404, f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    store = request.app.state.services.store
    record = store_provider_key(
        store, _vault(request), principal.owner, provider, body.key.strip(), time.time()
    )
    return ProviderKeyPublic(provider=provider, hint=record.hint, updated_at=record.updated_at)


@router.get("/provider-keys", response_model=list[ProviderKeyPublic])
def list_provider_keys(principal: CurrentPrincipal, request: Request) -> list[ProviderKeyPublic]:
    records = request.app.state.services.store.list_provider_keys(principal.owner)
    return [ProviderKeyPublic(provider=r.provider, hint=r.hint, updated_at=r.updated_at)
            for r in records]  # fmt: skip


@router.get("/provider-keys/{provider}", response_model=ProviderKeyPublic)
def get_provider_key(
    provider: Provider, principal: CurrentPrincipal, request: Request
) -> ProviderKeyPublic:
    record = request.app.state.services.store.get_provider_key(principal.owner, provider)
    if record is None:
        raise HTTPException(404, f"no {provider} key is set")
    return ProviderKeyPublic(provider=provider, hint=record.hint, updated_at=record.updated_at)


@router.delete("/provider-keys/{provider}", status_code=204)
def delete_provider_key(
    provider: Provider, principal: CurrentPrincipal, request: Request
) -> Response:
    if not request.app.state.services.store.delete_provider_key(principal.owner, provider):
        raise HTTPException(404, f"no {provider} key is set")
    return Response(status_code=204)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    body: ApiKeyCreate, principal: CurrentPrincipal, request: Request
) -> ApiKeyCreated:
    from agentweaver.security.api_keys import new_api_key

    secret, record = new_api_key(principal.owner, body.name, ["*"])
    request.app.state.services.store.save_api_key(record)
    return ApiKeyCreated(key=secret, key_id=record.key_id, name=record.name, prefix=record.prefix,
                         created_at=record.created_at, last_used_at=None)  # fmt: skip


@router.get("/api-keys", response_model=list[ApiKeyPublic])
def list_api_keys(principal: CurrentPrincipal, request: Request) -> list[ApiKeyPublic]:
    records = request.app.state.services.store.list_api_keys(principal.owner)
    return [ApiKeyPublic(key_id=r.key_id, name=r.name, prefix=r.prefix, created_at=r.created_at,
                         last_used_at=r.last_used_at) for r in records]  # fmt: skip


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(key_id: str, principal: CurrentPrincipal, request: Request) -> Response:
    if not request.app.state.services.store.delete_api_key(principal.owner, key_id):
        raise HTTPException(404, f"API key {key_id!r} not found")
    return Response(status_code=204)
