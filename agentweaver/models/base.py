"""The one interface every model provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence

from agentweaver.models.messages import (
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    Usage,
)
from agentweaver.models.pricing import PriceTable, default_prices

__all__ = ["Model"]


class Model(ABC):
    """A chat model: messages in, one response out.

    Adapters translate to a provider's wire format and map its errors to the
    ``ModelError`` family, so retry policies work the same for every provider.
    """

    #: provider name as used in model strings (``anthropic``, ``openai``, ``test``...)
    provider: str = ""

    def __init__(self, model_name: str, prices: PriceTable | None = None) -> None:
        self.model_name = model_name
        self._prices = prices

    @property
    def name(self) -> str:
        """The full model string, ``provider:model``."""
        return f"{self.provider}:{self.model_name}"

    @abstractmethod
    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        """Send one request; raise a ``ModelError`` subclass on failure."""

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        """Text deltas as they arrive (``str``), then the complete ``ModelResponse``.

        Adapters with a streaming API override this; the default streams the whole answer
        as one delta, so every model can be used where streaming is asked for.
        """
        response = await self.request(messages, settings, params)
        if response.text:
            yield response.text
        yield response

    def cost_of(self, response: ModelResponse) -> float | None:
        """USD for one response (a fallback chain prices it by the model that answered)."""
        return self.cost(response.usage)

    def cost(self, usage: Usage) -> float | None:
        """USD for ``usage`` from the dated price table; ``None`` when the price is unknown."""
        table = self._prices or default_prices()
        return table.cost(self.provider, self.model_name, usage)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
