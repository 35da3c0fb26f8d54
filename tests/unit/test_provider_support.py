"""What every provider adapter relies on: error mapping, keys, fallback, streaming, schemas."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import BaseModel
from rich.console import Console

from agentweaver import Agent, AgentConfig, AgentWorkflow, LocalRunner, TestModel, agent
from agentweaver.cli.render import Progress
from agentweaver.exceptions import (
    ContextLengthExceeded,
    DefinitionError,
    ModelAuthError,
    ModelInvalidRequest,
    ModelNotConfigured,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
    OutputParseError,
)
from agentweaver.models import FunctionModel, ModelResponse, Usage, infer_model
from agentweaver.models.errors import error_for_status, parse_retry_after
from agentweaver.models.fallback import FallbackModel
from agentweaver.models.keys import EnvKeys, StaticKeys
from agentweaver.models.pricing import PriceTable
from agentweaver.models.registry import PROVIDERS, ProviderInfo
from agentweaver.workflow.result import Event

# --- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (429, "slow down", ModelRateLimited),
        (401, "bad key", ModelAuthError),
        (403, "forbidden", ModelAuthError),
        (408, "timeout", ModelTimeout),
        (504, "gateway timeout", ModelTimeout),
        (500, "boom", ModelUnavailable),
        (503, "unavailable", ModelUnavailable),
        (529, "overloaded", ModelUnavailable),
        (None, "connection reset", ModelUnavailable),
        (400, "prompt is too long: 210000 tokens > 200000 maximum", ContextLengthExceeded),
        (400, "This model's maximum context length is 128000 tokens", ContextLengthExceeded),
        (413, "request too large", ContextLengthExceeded),
        (400, "temperature must be at most 2", ModelInvalidRequest),
        (404, "model not found", ModelInvalidRequest),
    ],
)
def test_error_for_status(status: int | None, message: str, kind: type[Exception]) -> None:
    error = error_for_status("acme", status, message)
    assert type(error) is kind
    assert str(error).startswith("acme: ")


def test_rate_limit_carries_retry_after() -> None:
    error = error_for_status("acme", 429, "slow down", retry_after=7.0)
    assert isinstance(error, ModelRateLimited)
    assert error.retry_after == 7.0
    assert error.retryable


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 30


# --- keys ------------------------------------------------------------------------------------


def test_env_keys_take_the_first_set_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AW_A", raising=False)
    monkeypatch.setenv("AW_B", "k2")
    assert EnvKeys().get("p", ("AW_A", "AW_B")) == "k2"
    assert EnvKeys().get("p", ("AW_A",)) is None


def test_static_keys_never_show_in_repr() -> None:
    keys = StaticKeys({"anthropic": "sk-secret-value"})
    assert keys.get("anthropic", ()) == "sk-secret-value"
    assert "sk-secret" not in repr(keys)


class _KeyedModel(TestModel):
    provider = "keyed"

    def __init__(self, model_name: str, *, api_key: str | None = None) -> None:
        super().__init__(model_name)
        self.api_key = api_key


def test_infer_model_passes_the_key_from_a_key_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AW_KEY", raising=False)
    monkeypatch.setitem(
        PROVIDERS, "keyed", ProviderInfo(f"{__name__}:_KeyedModel", None, None, ("AW_KEY",))
    )
    with pytest.raises(ModelNotConfigured, match="set AW_KEY"):
        infer_model("keyed:m")
    built = infer_model("keyed:m", keys=StaticKeys({"keyed": "from-the-store"}))
    assert isinstance(built, _KeyedModel)
    assert built.api_key == "from-the-store"


async def test_runner_builds_models_with_its_key_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AW_KEY", raising=False)
    monkeypatch.setitem(
        PROVIDERS, "keyed", ProviderInfo(f"{__name__}:_KeyedModel", None, None, ("AW_KEY",))
    )
    workflow = AgentWorkflow(
        [Agent(AgentConfig(role="Writer", model="keyed:m", name="writer"))], name="k"
    )
    failed = await LocalRunner().run(workflow, "x")  # no key in the environment
    assert failed.status == "failed"
    assert "set AW_KEY" in str(failed.errors[-1])
    result = await LocalRunner(keys=StaticKeys({"keyed": "tenant-key"})).run(workflow, "x")
    assert result.status == "succeeded", result.errors
    assert result.steps[0].model == "keyed:m"


# --- fallback --------------------------------------------------------------------------------


def _priced(name: str, answer: str | Exception) -> FunctionModel:
    def reply(messages: list[Any], info: Any) -> ModelResponse:
        if isinstance(answer, Exception):
            raise answer
        return ModelResponse(answer, usage=Usage(1_000_000, 0, requests=1))

    model = FunctionModel(reply, model_name=name)
    model._prices = PriceTable("2026-11-01").override(f"function:{name}", 1.0 * len(name), 0)
    return model


async def test_fallback_moves_on_after_a_retryable_error() -> None:
    primary = _priced("a", ModelRateLimited("busy", 3))
    backup = _priced("bbb", "from the backup")
    writer = Agent(AgentConfig(role="Writer", model=FallbackModel([primary, backup])))
    result = await writer.execute("x")
    assert result.text == "from the backup"
    assert result.model_name == "function:bbb"
    assert result.cost == pytest.approx(3.0)  # priced by the model that answered


async def test_fallback_raises_a_non_retryable_error_at_once() -> None:
    backup = _priced("b", "never asked")
    chain = FallbackModel([_priced("a", ModelAuthError("bad key")), backup])
    with pytest.raises(ModelAuthError):
        await Agent(AgentConfig(role="Writer", model=chain)).execute("x")


async def test_fallback_raises_the_last_error_when_all_fail() -> None:
    chain = FallbackModel([_priced("a", ModelUnavailable("down")), _priced("b", ModelTimeout("t"))])
    with pytest.raises(ModelTimeout):
        await Agent(AgentConfig(role="Writer", model=chain)).execute("x")


def test_fallback_models_are_validated_and_built(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DefinitionError, match="unknown model alias 'gtp'"):
        AgentConfig(role="Writer", model="test", fallback_models=["gtp"])
    writer = Agent(AgentConfig(role="Writer", model="test", fallback_models=["test:backup"]))
    assert isinstance(writer.model, FallbackModel)
    assert [m.name for m in writer.model.models] == ["test:test", "test:backup"]


# --- streaming -------------------------------------------------------------------------------


async def test_agent_streams_text_through_on_text() -> None:
    seen: list[str] = []
    writer = Agent(AgentConfig(role="Writer", model=TestModel(custom_output_text="one two three")))
    result = await writer.execute("x", on_text=seen.append)
    assert seen == ["one ", "two ", "three"]
    assert result.text == "one two three"


async def test_runner_emits_step_deltas_only_when_asked() -> None:
    @agent(role="Writer", model=TestModel(custom_output_text="alpha beta"))
    def writer(topic: str) -> None: ...

    workflow = AgentWorkflow([writer], name="w")
    for stream, expected in ((True, ["alpha ", "beta"]), (False, [])):
        events: list[Event] = []
        await LocalRunner(on_event=events.append, stream=stream).run(workflow, "x")
        assert [e.data["text"] for e in events if e.kind == "step_delta"] == expected


def test_live_progress_shows_streamed_text() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=140)
    progress = Progress(console)
    now = time.time()
    progress(Event("step_started", "e", now, "writer", "writer", 1))
    progress(Event("step_delta", "e", now, "writer", "writer", 1, {"text": "streamed words"}))
    console.print(progress._table())
    assert "streamed words" in console.file.getvalue()  # type: ignore[attr-defined]


# --- structured output -----------------------------------------------------------------------


class Verdict(BaseModel):
    approved: bool
    reasons: list[str]


async def test_output_schema_validates_and_reaches_the_model() -> None:
    model = TestModel(script=[{"approved": True, "reasons": ["clear"]}])
    reviewer = Agent(AgentConfig(role="Reviewer", model=model, output_schema=Verdict))
    result = await reviewer.execute("draft")
    assert result.output == Verdict(approved=True, reasons=["clear"])


async def test_output_schema_repairs_once_then_fails() -> None:
    model = TestModel(script=[{"approved": "maybe"}, {"approved": True, "reasons": []}])
    reviewer = Agent(AgentConfig(role="Reviewer", model=model, output_schema=Verdict))
    result = await reviewer.execute("draft")
    assert result.output.approved is True
    assert "does not match Verdict" in model.requests[1][-1].content  # the repair request

    bad = TestModel(script=[{"approved": "maybe"}, {"nope": 1}])
    reviewer = Agent(AgentConfig(role="Reviewer", model=bad, output_schema=Verdict))
    with pytest.raises(OutputParseError, match="does not match Verdict"):
        await reviewer.execute("draft")


async def test_schema_is_sent_as_json_schema() -> None:
    seen: list[Any] = []

    def reply(messages: list[Any], info: Any) -> str:
        seen.append(info.params)
        return '{"approved": false, "reasons": ["vague"]}'

    reviewer = Agent(
        AgentConfig(role="Reviewer", model=FunctionModel(reply), output_schema=Verdict)
    )
    await reviewer.execute("draft")
    assert seen[0].output_json is True
    assert seen[0].output_schema == Verdict.model_json_schema()


async def test_structured_output_flows_as_json_through_a_workflow() -> None:
    reviewer = agent(
        role="Reviewer",
        model=TestModel(script=[{"approved": True, "reasons": ["ok"]}]),
        output_schema=Verdict,
    )(lambda draft: None)
    assert reviewer.name == "reviewer"  # a lambda takes its name from the role
    result = await LocalRunner().run(AgentWorkflow([reviewer], name="r"), "draft")
    assert result.output == {"approved": True, "reasons": ["ok"]}
    assert result.steps[0].output == {"approved": True, "reasons": ["ok"]}


def test_output_schema_must_be_a_pydantic_model() -> None:
    with pytest.raises(DefinitionError, match="output_schema must be a pydantic model"):
        AgentConfig(role="Reviewer", model="test", output_schema=dict)  # type: ignore[arg-type]


def test_aliases_can_be_pinned_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentweaver.models.registry import ALIASES, parse_model_string

    monkeypatch.delenv("AGENTWEAVER_MODEL_CLAUDE", raising=False)
    assert parse_model_string("claude") == tuple(ALIASES["claude"].split(":", 1))
    monkeypatch.setenv("AGENTWEAVER_MODEL_CLAUDE", "bedrock:anthropic.claude-x-v1:0")
    assert parse_model_string("claude") == ("bedrock", "anthropic.claude-x-v1:0")
    assert parse_model_string("Claude") == ("bedrock", "anthropic.claude-x-v1:0")
    monkeypatch.setenv("AGENTWEAVER_MODEL_GPT", "nonsense")
    with pytest.raises(ValueError, match="AGENTWEAVER_MODEL_GPT='nonsense' must be"):
        parse_model_string("gpt")


async def test_model_settings_reach_the_request() -> None:
    seen: list[Any] = []

    def reply(messages: list[Any], info: Any) -> str:
        seen.append(info.settings.extra)
        return "ok"

    config = AgentConfig(
        role="Thinker", model=FunctionModel(reply), model_settings={"reasoning_effort": "high"}
    )
    await Agent(config).execute("x")
    assert seen == [{"reasoning_effort": "high"}]


def test_model_settings_from_yaml() -> None:
    from agentweaver.workflow.binding import agent_from_spec
    from agentweaver.workflow.loader import parse_definition

    definition = parse_definition(
        "name: t\nagents:\n  a: {role: A, model: test, model_settings: {reasoning_effort: low}}\n"
    )
    assert agent_from_spec("a", definition.agents["a"]).config.model_settings == {
        "reasoning_effort": "low"
    }


@pytest.mark.parametrize(
    "message",
    [
        "The input length and `max_tokens` exceed context limit",  # Bedrock Claude
        "Input Tokens Exceeded",  # Bedrock Nova
    ],
)
def test_bedrock_context_wordings(message: str) -> None:
    assert type(error_for_status("bedrock", 400, message)) is ContextLengthExceeded
