"""Model strings: aliases (``claude``), explicit ``provider:model``, and what they resolve to.

Parsing a string never needs a key or an SDK, so ``agentweaver validate`` works anywhere;
building the model does, and fails with a message that says exactly what to install or set.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from agentweaver.exceptions import ModelNotConfigured
from agentweaver.models.base import Model
from agentweaver.models.keys import EnvKeys, KeySource

__all__ = [
    "ALIASES",
    "PROVIDERS",
    "ModelType",
    "ProviderInfo",
    "infer_model",
    "parse_model_string",
    "register_model",
    "resolve_alias",
]


class ModelType(Enum):
    """The spec's model families; each value is an alias usable anywhere a model string is."""

    CLAUDE = "claude"
    GEMINI = "gemini"
    O3 = "o3"
    GPT = "gpt"
    LLAMA = "llama"


#: alias -> ``provider:model``. Users pick exact models with the explicit form.
ALIASES: dict[str, str] = {
    "claude": "anthropic:claude-sonnet-5-5",
    "gemini": "google:gemini-3.8-flash",
    "gpt": "openai:gpt-6.1-sol",
    "o3": "openai:o3",
    "llama": "ollama:llama3.3",
    "test": "test:test",
}


@dataclass(frozen=True)
class ProviderInfo:
    """How to reach a provider: its adapter, the SDK it needs, and the settings it reads."""

    adapter: str  # "module:Class", imported only when the provider is used
    sdk_module: str | None
    extra: str | None
    env_vars: tuple[str, ...] = ()  # one of these must be set (empty: no key needed)


PROVIDERS: dict[str, ProviderInfo] = {
    "anthropic": ProviderInfo(
        "agentweaver.models.anthropic:AnthropicModel",
        "anthropic",
        "anthropic",
        ("ANTHROPIC_API_KEY",),
    ),
    "openai": ProviderInfo(
        "agentweaver.models.openai:OpenAIModel", "openai", "openai", ("OPENAI_API_KEY",)
    ),
    "google": ProviderInfo(
        "agentweaver.models.gemini:GeminiModel",
        "google.genai",
        "gemini",
        ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    ),
    "bedrock": ProviderInfo("agentweaver.models.bedrock:BedrockModel", "boto3", "bedrock"),
    "ollama": ProviderInfo("agentweaver.models.openai_compatible:OllamaModel", "openai", "openai"),
    "openai-compatible": ProviderInfo(
        "agentweaver.models.openai_compatible:OpenAICompatibleModel", "openai", "openai"
    ),
    "test": ProviderInfo("agentweaver.models.test:TestModel", None, None),
    # a FunctionModel is named "function:<fn>"; it exists only as the object that holds the fn
    "function": ProviderInfo("agentweaver.models.test:FunctionModel", None, None),
}

_custom: dict[str, Callable[[], Model]] = {}


def register_model(name: str, factory: Callable[[], Model] | Model) -> None:
    """Make ``name`` resolve to a model of your own (a ``FunctionModel``, a private gateway)."""
    if isinstance(factory, Model):
        model = factory
        _custom[name] = lambda: model
    else:
        _custom[name] = factory


def resolve_alias(name: str) -> str:
    """An alias's target: ``AGENTWEAVER_MODEL_<ALIAS>`` if set (pin ``claude`` to the model
    your team has approved), else ``ALIASES``; anything else is returned unchanged."""
    key = name.lower()
    if key not in ALIASES:
        return name
    return os.environ.get(f"AGENTWEAVER_MODEL_{key.upper()}") or ALIASES[key]


def parse_model_string(value: str | ModelType) -> tuple[str, str]:
    """``"claude"`` -> ``("anthropic", "claude-...")``; raises ``ValueError`` naming the problem."""
    if isinstance(value, ModelType):
        value = value.value
    text = value.strip()
    if not text:
        raise ValueError("model is empty")
    if text in _custom:
        return "custom", text
    resolved = resolve_alias(text)
    if ":" not in resolved and resolved != text:
        raise ValueError(f"AGENTWEAVER_MODEL_{text.upper()}={resolved!r} must be 'provider:model'")
    if ":" not in resolved:
        known = ", ".join(sorted(a for a in ALIASES if a != "test"))
        raise ValueError(
            f"unknown model alias {value!r}: use one of {known}, or 'provider:model' "
            f"(providers: {', '.join(PROVIDERS)})"
        )
    provider, _, model = resolved.partition(":")
    if provider not in PROVIDERS:
        raise ValueError(
            f"unknown model provider {provider!r} in {value!r} (known: {', '.join(PROVIDERS)})"
        )
    if not model:
        raise ValueError(f"model name missing after {provider!r}: write '{provider}:<model>'")
    return provider, model


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (``google.genai``: the parent
    package existing is not enough)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def infer_model(value: str | ModelType | Model, keys: KeySource | None = None) -> Model:
    """Build the model a string names, checking its SDK and key first.

    Keys come from ``keys`` (the platform's key store when running as a service), else the
    environment. ``AGENTWEAVER_MODEL_OVERRIDE`` (e.g. ``test``) replaces every model named
    by a string: one switch to run any project offline, in CI or in a demo.
    """
    if isinstance(value, Model):
        return value
    if isinstance(value, ModelType):
        value = value.value
    override = os.environ.get("AGENTWEAVER_MODEL_OVERRIDE")
    if override and override != value:
        return infer_model(override, keys)
    try:
        provider, model = parse_model_string(value)
    except ValueError as exc:
        raise ModelNotConfigured(str(exc)) from None
    if provider == "custom":
        return _custom[model]()
    if provider == "function":
        raise ModelNotConfigured(
            f"model {value!r} is a FunctionModel: pass the FunctionModel object, not its name"
        )
    info = PROVIDERS[provider]
    hint = f"pip install 'agentweaver[{info.extra}]'" if info.extra else ""
    if info.sdk_module and not _installed(info.sdk_module):
        raise ModelNotConfigured(
            f"model {value!r} needs the {info.sdk_module} SDK, which is not installed: {hint}"
        )
    api_key = (keys or EnvKeys()).get(provider, info.env_vars)
    if info.env_vars and not api_key:
        raise ModelNotConfigured(
            f"model {value!r} needs an API key: set {' or '.join(info.env_vars)}"
        )
    module_name, _, class_name = info.adapter.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ModelNotConfigured(
            f"model {value!r}: the {provider} adapter is not part of this AgentWeaver version; "
            f"use 'test' offline or another provider"
        ) from None
    cls = getattr(module, class_name)
    model_obj: Model = cls(model, api_key=api_key) if api_key else cls(model)
    return model_obj
