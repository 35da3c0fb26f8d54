"""GET /catalog: what the builder offers: model aliases, providers with keys, tools."""

from __future__ import annotations

import pytest
from support.api import Api


def test_catalog_lists_models_providers_and_tools(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    body = api.get("/catalog").json()
    models = {m["name"]: m for m in body["models"]}
    assert models["claude"]["provider"] == "anthropic"
    assert not models["claude"]["configured"]
    assert models["gpt"]["configured"]  # the environment's key counts
    assert models["test"]["configured"]  # needs no key
    providers = {p["name"]: p for p in body["providers"]}
    assert providers["ollama"]["needs_key"] is False
    assert "function" not in providers
    tools = {t["name"]: t for t in body["tools"]}
    assert {"web_search", "read_file", "sql_query"} <= set(tools)
    assert tools["web_search"]["description"]
    assert body["model_override"] == "test"


def test_a_stored_provider_key_configures_its_models(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert (
        api.put("/me/provider-keys/anthropic", json={"key": "sk-ant-0123456789"}).status_code == 200
    )
    models = {m["name"]: m for m in api.get("/catalog").json()["models"]}
    assert models["claude"]["configured"]


def test_catalog_needs_credentials(api: Api) -> None:
    assert api.client.get("/catalog").status_code == 401
