"""``FallbackModel``: try the next model when one fails in a way worth another try."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from agentweaver.exceptions import ModelError
from agentweaver.models.base import Model
from agentweaver.models.messages import (
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
)

__all__ = ["FallbackModel"]


class FallbackModel(Model):
    """Models in order (``claude -> gemini -> gpt``): a retryable failure (rate limit,
    overload, timeout) moves to the next; any other error is raised at once. The step's own
    retry policy then retries the whole chain, so each attempt starts from the primary."""

    provider = "fallback"

    def __init__(self, models: Sequence[Model]) -> None:
        if not models:
            raise ValueError("FallbackModel needs at least one model")
        super().__init__(models[0].model_name)
        self.models = list(models)

    @property
    def name(self) -> str:
        return self.models[0].name

    def cost_of(self, response: ModelResponse) -> float | None:
        """Priced by the model that answered (responses carry its name)."""
        for model in self.models:
            if model.name == response.model_name:
                return model.cost_of(response)
        return None

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        error: ModelError | None = None
        for model in self.models:
            try:
                return await model.request(messages, settings, params)
            except ModelError as exc:
                if not exc.retryable:
                    raise
                error = exc
        assert error is not None
        raise error

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        error: ModelError | None = None
        for model in self.models:
            started = False
            try:
                async for item in model.request_stream(messages, settings, params):
                    started = True
                    yield item
                return
            except ModelError as exc:
                if started or not exc.retryable:  # text already went out: no silent switch
                    raise
                error = exc
        assert error is not None
        raise error
