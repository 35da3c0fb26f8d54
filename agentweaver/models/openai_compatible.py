"""Servers that speak OpenAI's Chat Completions API: Ollama, vLLM, llama.cpp, LM Studio...

The wire format is OpenAI's, so these are ``OpenAIModel`` with three differences: the base
URL comes from the argument or an environment variable, a key is optional, and requests use
the classic parameters (``system`` role, ``temperature``, ``max_tokens``) that open-model
servers implement, whatever the model is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from agentweaver.exceptions import ModelNotConfigured
from agentweaver.models.openai import OpenAIModel
from agentweaver.models.pricing import PriceTable

__all__ = ["OllamaModel", "OpenAICompatibleModel"]

#: sent when no key is configured: the SDK insists on one, local servers ignore it, and an
#: explicit value keeps the SDK from sending OPENAI_API_KEY to a third-party server
NO_KEY = "not-needed"


class OpenAICompatibleModel(OpenAIModel):
    """Any OpenAI-compatible server: ``openai-compatible:<model>`` at
    ``OPENAI_COMPATIBLE_BASE_URL`` (e.g. ``http://localhost:8000/v1`` for vLLM)."""

    provider = "openai-compatible"
    max_tokens_field = "max_tokens"
    base_url_env = "OPENAI_COMPATIBLE_BASE_URL"
    api_key_env = "OPENAI_COMPATIBLE_API_KEY"

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: Any = None,
        prices: PriceTable | None = None,
        timeout: float = 120.0,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        url = base_url or os.environ.get(self.base_url_env) or self.default_base_url()
        if not url and client is None:
            raise ModelNotConfigured(
                f"model {self.provider}:{model_name!r} needs the server's URL: set "
                f"{self.base_url_env} (e.g. http://localhost:8000/v1) or pass base_url"
            )
        super().__init__(
            model_name,
            api_key=api_key or os.environ.get(self.api_key_env) or NO_KEY,
            base_url=self.normalise_url(url) if url else None,
            client=client,
            prices=prices,
            timeout=timeout,
            extra=extra,
        )

    @property
    def reasoning(self) -> bool:
        # open-model servers take the classic parameters for every model
        return False

    def default_base_url(self) -> str | None:
        return None

    def normalise_url(self, url: str) -> str:
        return url


class OllamaModel(OpenAICompatibleModel):
    """A model served by Ollama (``ollama:llama3.3``), at ``OLLAMA_BASE_URL`` or locally."""

    provider = "ollama"
    base_url_env = "OLLAMA_BASE_URL"
    api_key_env = "OLLAMA_API_KEY"  # only for a server behind an authenticating proxy

    def default_base_url(self) -> str:
        return "http://localhost:11434/v1"

    def normalise_url(self, url: str) -> str:
        """Ollama's OpenAI API lives under ``/v1``; ``OLLAMA_BASE_URL`` is commonly set to the
        server root (as other tools expect), so add it when missing."""
        url = url.rstrip("/")
        return url if url.endswith("/v1") else f"{url}/v1"
