"""The dated price table: costs in USD, unknown models as None, overrides and env files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from agentweaver.models import FunctionModel, TestModel
from agentweaver.models.messages import ModelMessage, Usage
from agentweaver.models.pricing import ModelPrice, PriceTable, default_prices
from agentweaver.models.test import RequestInfo

MILLION = 1_000_000


@pytest.fixture
def fresh_prices(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """``default_prices`` is cached: start and end each test with a clean cache."""
    monkeypatch.delenv("AGENTWEAVER_PRICES", raising=False)
    default_prices.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    default_prices.cache_clear()


def test_packaged_table_sonnet_cost(fresh_prices: pytest.MonkeyPatch) -> None:
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    cost = default_prices().cost("anthropic", "claude-sonnet-4-5", usage)
    assert cost == pytest.approx(18.0)


def test_packaged_table_small_usage(fresh_prices: pytest.MonkeyPatch) -> None:
    usage = Usage(input_tokens=1000, output_tokens=500)
    # gpt-5: $1.25 in, $10 out per 1M tokens
    assert default_prices().cost("openai", "gpt-5", usage) == pytest.approx(
        (1000 * 1.25 + 500 * 10) / MILLION
    )


def test_cache_read_tokens_use_the_cache_price(fresh_prices: pytest.MonkeyPatch) -> None:
    # cached tokens are part of the input tokens, charged at the cache-read rate
    usage = Usage(input_tokens=MILLION, cache_read_tokens=MILLION)
    assert default_prices().cost("anthropic", "claude-sonnet-4-5", usage) == pytest.approx(0.3)
    usage = Usage(input_tokens=2 * MILLION, cache_read_tokens=MILLION, output_tokens=0)
    assert default_prices().cost("anthropic", "claude-sonnet-4-5", usage) == pytest.approx(3.3)


def test_cache_read_without_a_cache_price_uses_the_input_price() -> None:
    price = ModelPrice(input=2.0, output=4.0)
    assert price.cost(Usage(input_tokens=MILLION, cache_read_tokens=MILLION)) == pytest.approx(2)


def test_cached_more_than_input_never_goes_negative() -> None:
    price = ModelPrice(input=2.0, output=4.0, cache_read=1.0)
    assert price.cost(Usage(input_tokens=0, cache_read_tokens=MILLION)) == pytest.approx(1.0)


def test_provider_wildcard(fresh_prices: pytest.MonkeyPatch) -> None:
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    table = default_prices()
    assert table.cost("ollama", "llama3.3", usage) == 0.0
    assert table.cost("ollama", "anything-else", usage) == 0.0
    assert table.lookup("ollama", "x") == ModelPrice(0.0, 0.0)


def test_exact_price_wins_over_wildcard() -> None:
    table = PriceTable("2026-01-01").override("p:*", 1, 1).override("p:special", 5, 5)
    usage = Usage(input_tokens=MILLION)
    assert table.cost("p", "special", usage) == pytest.approx(5)
    assert table.cost("p", "other", usage) == pytest.approx(1)


def test_unknown_model_is_none_not_zero(fresh_prices: pytest.MonkeyPatch) -> None:
    usage = Usage(input_tokens=10, output_tokens=10)
    assert default_prices().cost("anthropic", "claude-unreleased-9", usage) is None
    assert default_prices().cost("nobody", "nothing", usage) is None
    assert default_prices().lookup("anthropic", "claude-unreleased-9") is None


def test_override_sets_a_price() -> None:
    table = PriceTable("2026-01-01")
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION, cache_read_tokens=MILLION)
    assert table.cost("acme", "m1", usage) is None
    assert table.override("acme:m1", input=1.0, output=2.0, cache_read=0.5) is table
    assert table.cost("acme", "m1", usage) == pytest.approx(2.5)


def test_override_replaces_a_packaged_price(fresh_prices: pytest.MonkeyPatch) -> None:
    table = PriceTable.load(Path(__file__).parents[2] / "agentweaver/models/prices.json")
    table.override("openai:gpt-5", 1.0, 1.0)
    assert table.cost("openai", "gpt-5", Usage(MILLION, MILLION)) == pytest.approx(2.0)
    # the packaged (cached) default table is untouched
    assert default_prices().cost("openai", "gpt-5", Usage(MILLION, MILLION)) == pytest.approx(11.25)


def test_loading_from_agentweaver_prices(fresh_prices: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "as_of": "2030-02-03",
                "models": {"acme:m1": {"input": 4, "output": 8, "cache_read": 1}},
            }
        )
    )
    fresh_prices.setenv("AGENTWEAVER_PRICES", str(path))
    default_prices.cache_clear()
    table = default_prices()
    assert table.as_of == "2030-02-03"
    assert table.lookup("acme", "m1") == ModelPrice(4.0, 8.0, 1.0)
    assert table.cost("acme", "m1", Usage(MILLION, MILLION)) == pytest.approx(12.0)
    # the packaged prices are not merged in
    assert table.cost("anthropic", "claude-sonnet-4-5", Usage(1, 1)) is None
    # and models price themselves from it
    model = FunctionModel(lambda m, i: "x", model_name="m1")
    model.provider = "acme"
    assert model.cost(Usage(MILLION, 0)) == pytest.approx(4.0)


def test_null_cache_read_in_a_file_means_no_cache_price() -> None:
    models = {"a:b": {"input": 1, "output": 2, "cache_read": None}}
    table = PriceTable.from_dict({"as_of": "2030-01-01", "models": models})
    assert table.lookup("a", "b") == ModelPrice(1.0, 2.0, None)


def test_as_of_is_an_iso_date(fresh_prices: pytest.MonkeyPatch) -> None:
    as_of = default_prices().as_of
    assert date.fromisoformat(as_of).isoformat() == as_of


def test_every_packaged_price_is_non_negative(fresh_prices: pytest.MonkeyPatch) -> None:
    table = default_prices()
    assert table.prices
    for key, price in table.prices.items():
        assert ":" in key
        assert price.input >= 0
        assert price.output >= 0
        assert price.cache_read is None or 0 <= price.cache_read <= price.input


def test_model_cost_uses_its_own_table() -> None:
    table = PriceTable("2026-01-01").override("function:priced", 1.0, 1.0)

    def fn(messages: list[ModelMessage], info: RequestInfo) -> str:
        return "x"

    class Priced(FunctionModel):
        def __init__(self) -> None:
            super().__init__(fn, "priced")
            self._prices = table

    assert Priced().cost(Usage(MILLION, MILLION)) == pytest.approx(2.0)
    assert TestModel().cost(Usage(MILLION, MILLION)) == 0.0
