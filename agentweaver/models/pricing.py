"""Dated price table: what a request cost, in USD.

An unknown model's cost is ``None`` (reported as unknown), never 0: a silent zero would
make budgets and dashboards lie. Prices carry the date they were read, because they change.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentweaver.models.messages import Usage

__all__ = ["ModelPrice", "PriceTable", "default_prices"]

_PER = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float | None = None

    def cost(self, usage: Usage) -> float:
        cached = usage.cache_read_tokens
        cache_rate = self.cache_read if self.cache_read is not None else self.input
        fresh = max(usage.input_tokens - cached, 0)
        return (fresh * self.input + cached * cache_rate + usage.output_tokens * self.output) / _PER


@dataclass
class PriceTable:
    """Prices keyed ``provider:model``; ``provider:*`` prices a whole provider (local servers)."""

    as_of: str
    prices: dict[str, ModelPrice] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriceTable:
        prices = {
            key: ModelPrice(
                input=float(p["input"]),
                output=float(p["output"]),
                cache_read=None if p.get("cache_read") is None else float(p["cache_read"]),
            )
            for key, p in data.get("models", {}).items()
        }
        return cls(as_of=str(data.get("as_of", "unknown")), prices=prices)

    @classmethod
    def load(cls, path: str | Path) -> PriceTable:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def lookup(self, provider: str, model: str) -> ModelPrice | None:
        return self.prices.get(f"{provider}:{model}") or self.prices.get(f"{provider}:*")

    def cost(self, provider: str, model: str, usage: Usage) -> float | None:
        price = self.lookup(provider, model)
        return None if price is None else price.cost(usage)

    def override(
        self, key: str, input: float, output: float, cache_read: float | None = None
    ) -> PriceTable:
        """Set a price (a negotiated rate, a new model) without editing the packaged table."""
        self.prices[key] = ModelPrice(input, output, cache_read)
        return self


@lru_cache(maxsize=1)
def default_prices() -> PriceTable:
    """The packaged table, or the file named by ``AGENTWEAVER_PRICES``."""
    path = os.environ.get("AGENTWEAVER_PRICES") or Path(__file__).with_name("prices.json")
    return PriceTable.load(path)
