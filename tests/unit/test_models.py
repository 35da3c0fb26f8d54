"""The offline models (TestModel, FunctionModel) and the model-string registry."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from collections.abc import Iterator

import pytest

from agentweaver.exceptions import ModelNotConfigured, ModelRateLimited, ModelUnavailable
from agentweaver.models import registry
from agentweaver.models.base import Model
from agentweaver.models.messages import (
    AssistantMessage,
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.registry import (
    ALIASES,
    PROVIDERS,
    ModelType,
    ProviderInfo,
    infer_model,
    parse_model_string,
    register_model,
)
from agentweaver.models.test import FunctionModel, RequestInfo, TestModel, pick_choice

SETTINGS = ModelSettings(temperature=0.2, max_tokens=100)
PLAIN = ModelRequestParameters()


def convo(user: str, role: str = "Researcher") -> list[ModelMessage]:
    return [SystemMessage(f"You are the {role}. Personality: calm."), UserMessage(user)]


async def ask(
    model: Model,
    messages: list[ModelMessage],
    params: ModelRequestParameters | None = None,
) -> ModelResponse:
    return await model.request(messages, SETTINGS, params or ModelRequestParameters())


ADD = ToolDefinition(
    "add",
    "Add two numbers.",
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)
LOOKUP = ToolDefinition(
    "lookup",
    "Look a word up.",
    {
        "type": "object",
        "properties": {
            "word": {"type": "string"},
            "exact": {"type": "boolean"},
            "limit": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "optional": {"type": "string"},
        },
        "required": ["word", "exact", "limit", "tags"],
    },
)


# --- TestModel: unscripted answers --------------------------------------------------------


class TestTestModelAnswers:
    async def test_default_answer_is_role_and_input_excerpt(self) -> None:
        response = await ask(TestModel(), convo("Summarise   the\nquarterly report"))
        assert response.text == "Researcher: Summarise the quarterly report"
        assert response.tool_calls == []
        assert response.finish_reason == "stop"
        assert response.model_name == "test:test"

    @pytest.mark.parametrize(
        ("system", "role"),
        [
            ("You are the Writer. Be brief.", "Writer"),
            ("You are a data analyst.\nMore text", "data analyst"),
            ("You are an Editor.", "Editor"),
            ("Be nice.", "assistant"),
        ],
    )
    async def test_role_comes_from_the_system_prompt(self, system: str, role: str) -> None:
        response = await ask(TestModel(), [SystemMessage(system), UserMessage("hi")])
        assert response.text == f"{role}: hi"

    async def test_without_system_prompt_role_is_assistant(self) -> None:
        response = await ask(TestModel(), [UserMessage("hello there")])
        assert response.text == "assistant: hello there"

    async def test_long_input_is_cut_to_an_excerpt(self) -> None:
        text = " ".join(f"word{i}" for i in range(50))
        response = await ask(TestModel(), convo(text))
        excerpt = response.text.removeprefix("Researcher: ")
        assert len(excerpt) == 80
        assert excerpt.endswith("...")
        assert text.startswith(excerpt[:-3])

    async def test_answers_the_last_user_message(self) -> None:
        messages = [*convo("first question"), AssistantMessage("ok"), UserMessage("second one")]
        response = await ask(TestModel(), messages)
        assert response.text == "Researcher: second one"

    async def test_custom_output_text(self) -> None:
        model = TestModel(custom_output_text="fixed answer")
        assert (await ask(model, convo("anything"))).text == "fixed answer"
        assert (await ask(model, convo("something else"))).text == "fixed answer"

    async def test_json_answer_when_json_is_asked_for(self) -> None:
        response = await ask(
            TestModel(), convo("three little words"), ModelRequestParameters(output_json=True)
        )
        assert json.loads(response.text) == {"role": "Researcher", "input_words": 3}

    async def test_custom_output_json(self) -> None:
        model = TestModel(custom_output_json={"approved": True, "score": 7})
        response = await ask(model, convo("x"), ModelRequestParameters(output_json=True))
        assert json.loads(response.text) == {"approved": True, "score": 7}
        # custom JSON is the answer even when JSON was not explicitly requested
        assert json.loads((await ask(model, convo("x"))).text) == {"approved": True, "score": 7}

    async def test_choices_pick_by_word_overlap(self) -> None:
        choices = {
            "billing": "payments, refunds, an invoice or being charged",
            "technical": "bugs, errors, crashes and outages",
            "general": "anything else",
        }
        params = ModelRequestParameters(choices=choices)
        model = TestModel()
        text = "I was charged twice on my invoice"
        assert (await ask(model, convo(text), params)).text == "billing"
        assert (await ask(model, convo("the app crashes with errors"), params)).text == (
            "technical"
        )
        assert (await ask(model, convo("anything else you say"), params)).text == "general"

    async def test_choices_first_wins_on_ties(self) -> None:
        choices = {"alpha": "one thing", "beta": "another thing", "gamma": "unrelated"}
        params = ModelRequestParameters(choices=choices)
        assert (await ask(TestModel(), convo("a thing"), params)).text == "alpha"
        # no overlap at all: the first choice
        assert (await ask(TestModel(), convo("zzz"), params)).text == "alpha"
        assert pick_choice("zzz", {"b": "x", "a": "y"}) == "b"

    async def test_choices_match_case_insensitively(self) -> None:
        assert pick_choice("BILLING problem", {"tech": "bugs", "billing": "money"}) == "billing"

    async def test_call_tools_by_name_then_final_answer_with_results(self) -> None:
        model = TestModel(call_tools=["add"])
        params = ModelRequestParameters(tools=[ADD, LOOKUP])
        messages = convo("add things")
        first = await ask(model, messages, params)
        assert first.text == ""
        assert first.finish_reason == "tool_calls"
        assert first.tool_calls == [ToolCall("add", {"a": 0, "b": 0}, "call_0")]

        messages += [
            AssistantMessage("", first.tool_calls),
            ToolResultMessage("call_0", "add", "42"),
        ]
        final = await ask(model, messages, params)
        assert final.tool_calls == []
        assert final.text == "Researcher: add things | tools: 42"

    async def test_call_tools_all_uses_example_arguments(self) -> None:
        model = TestModel(call_tools="all")
        response = await ask(model, convo("go"), ModelRequestParameters(tools=[ADD, LOOKUP]))
        assert [c.name for c in response.tool_calls] == ["add", "lookup"]
        assert [c.id for c in response.tool_calls] == ["call_0", "call_1"]
        assert response.tool_calls[1].arguments == {
            "word": "a",
            "exact": False,
            "limit": 0.0,
            "tags": [],
        }

    async def test_call_tools_single_name_string_is_not_a_substring_match(self) -> None:
        # "add_numbers" must not call a tool merely named "add" (a str is one name, not a set)
        model = TestModel(call_tools="add_numbers")
        response = await ask(model, convo("go"), ModelRequestParameters(tools=[ADD]))
        assert response.tool_calls == []
        model = TestModel(call_tools="add")
        response = await ask(model, convo("go"), ModelRequestParameters(tools=[ADD, LOOKUP]))
        assert [c.name for c in response.tool_calls] == ["add"]

    async def test_call_tools_ignored_without_matching_tools(self) -> None:
        model = TestModel(call_tools=["missing"])
        response = await ask(model, convo("go"), ModelRequestParameters(tools=[ADD]))
        assert response.tool_calls == []
        assert response.text == "Researcher: go"
        # and with no tools offered at all
        assert (await ask(TestModel(call_tools="all"), convo("go"))).tool_calls == []


# --- TestModel: scripts, failures, timing ----------------------------------------------------


class TestTestModelScript:
    async def test_script_turn_by_turn(self) -> None:
        custom = ModelResponse("from response", usage=Usage(5, 6, requests=1))
        model = TestModel(
            script=[
                "plain text",
                {"answer": 42},
                [ToolCall("add", {"a": 1, "b": 2}, "c1"), ToolCall("add", {"a": 3, "b": 4})],
                custom,
            ]
        )
        first = await ask(model, convo("q"))
        assert first.text == "plain text"
        second = await ask(model, convo("q"))
        assert json.loads(second.text) == {"answer": 42}
        third = await ask(model, convo("q"))
        assert third.text == ""
        assert third.finish_reason == "tool_calls"
        assert third.tool_calls == [
            ToolCall("add", {"a": 1, "b": 2}, "c1"),
            ToolCall("add", {"a": 3, "b": 4}, "call_1"),
        ]
        fourth = await ask(model, convo("q"))
        assert fourth.text == "from response"
        assert fourth.usage == Usage(5, 6, requests=1)  # a scripted usage is kept
        assert fourth.model_name == "test:test"

    async def test_script_exception_is_raised_then_script_continues(self) -> None:
        model = TestModel(script=[ModelRateLimited("slow down", retry_after=2), "after"])
        with pytest.raises(ModelRateLimited, match="slow down") as info:
            await ask(model, convo("q"))
        assert info.value.retry_after == 2
        assert (await ask(model, convo("q"))).text == "after"

    async def test_exhausted_script(self) -> None:
        model = TestModel(script=["only"])
        await ask(model, convo("q"))
        with pytest.raises(RuntimeError, match="script is exhausted"):
            await ask(model, convo("q"))

    async def test_script_is_copied(self) -> None:
        turns = ["a", "b"]
        model = TestModel(script=turns)
        await ask(model, convo("q"))
        assert turns == ["a", "b"]

    async def test_fail_first_default_error(self) -> None:
        model = TestModel(fail_first=2)
        for _ in range(2):
            with pytest.raises(ModelUnavailable, match="scripted failure"):
                await ask(model, convo("q"))
        assert (await ask(model, convo("q"))).text == "Researcher: q"
        assert len(model.requests) == 3

    async def test_fail_first_with_error_instance_and_factory(self) -> None:
        model = TestModel(fail_first=1, error=ModelRateLimited("429", retry_after=1.5))
        with pytest.raises(ModelRateLimited, match="429"):
            await ask(model, convo("q"))
        await ask(model, convo("q"))

        made: list[int] = []

        def factory() -> BaseException:
            made.append(1)
            return ModelUnavailable(f"failure {len(made)}")

        model = TestModel(fail_first=2, error=factory)
        with pytest.raises(ModelUnavailable, match="failure 1"):
            await ask(model, convo("q"))
        with pytest.raises(ModelUnavailable, match="failure 2"):
            await ask(model, convo("q"))
        assert (await ask(model, convo("q"))).text == "Researcher: q"

    async def test_fail_first_comes_before_the_script(self) -> None:
        model = TestModel(fail_first=1, script=["scripted"])
        with pytest.raises(ModelUnavailable):
            await ask(model, convo("q"))
        assert (await ask(model, convo("q"))).text == "scripted"

    async def test_delay(self) -> None:
        model = TestModel(delay=0.15)
        started = time.perf_counter()
        await ask(model, convo("q"))
        assert time.perf_counter() - started >= 0.14

    async def test_delay_can_be_timed_out(self) -> None:
        model = TestModel(delay=5)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await ask(model, convo("q"))

    async def test_usage_estimate_deterministic_and_non_zero(self) -> None:
        one = await ask(TestModel(), convo("count these five words"))
        two = await ask(TestModel(), convo("count these five words"))
        assert one.usage == two.usage
        assert one.usage.input_tokens > 0
        assert one.usage.output_tokens > 0
        assert one.usage.requests == 1
        longer = await ask(TestModel(), convo("count these five words " * 20))
        assert longer.usage.input_tokens > one.usage.input_tokens

    async def test_usage_counts_tool_calls(self) -> None:
        model = TestModel(script=[[ToolCall("add", {"a": 1, "b": 2}, "c1")]])
        response = await ask(model, convo("q"))
        assert response.usage.output_tokens > 0

    async def test_requests_are_recorded(self) -> None:
        model = TestModel()
        first = convo("one")
        await ask(model, first)
        await ask(model, convo("two"))
        assert len(model.requests) == 2
        assert model.requests[0] == first
        assert model.requests[0] is not first  # a copy, safe from later mutation
        last = model.requests[1][-1]
        assert isinstance(last, UserMessage)
        assert last.content == "two"

    async def test_cost_is_zero_for_test_models(self) -> None:
        model = TestModel()
        response = await ask(model, convo("q"))
        assert model.cost(response.usage) == 0.0
        assert repr(model) == "TestModel('test:test')"


# --- FunctionModel -----------------------------------------------------------------------


class TestFunctionModel:
    async def test_sync_function_returning_str(self) -> None:
        seen: list[tuple[list[ModelMessage], RequestInfo]] = []

        def answer(messages: list[ModelMessage], info: RequestInfo) -> str:
            seen.append((messages, info))
            return f"got {len(messages)} messages"

        model = FunctionModel(answer)
        params = ModelRequestParameters(output_json=True, choices={"a": "b"})
        response = await ask(model, convo("q"), params)
        assert response.text == "got 2 messages"
        assert response.model_name == "function:answer"
        assert response.usage.requests == 1
        assert response.usage.input_tokens > 0
        messages, info = seen[0]
        assert messages == convo("q")
        assert info.settings is SETTINGS
        assert info.params is params
        assert info.model is model

    async def test_async_function_returning_model_response(self) -> None:
        async def answer(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
            await asyncio.sleep(0)
            return ModelResponse(
                "calling", [ToolCall("add", {"a": 1}, "x")], usage=Usage(10, 3, requests=1)
            )

        model = FunctionModel(answer, model_name="mine")
        response = await ask(model, convo("q"))
        assert response.text == "calling"
        assert response.tool_calls == [ToolCall("add", {"a": 1}, "x")]
        assert response.usage == Usage(10, 3, requests=1)
        assert response.model_name == "function:mine"
        assert model.name == "function:mine"

    async def test_async_function_returning_str_and_response_model_name_kept(self) -> None:
        async def answer(messages: list[ModelMessage], info: RequestInfo) -> str:
            return "async text"

        assert (await ask(FunctionModel(answer), convo("q"))).text == "async text"

        def named(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
            return ModelResponse("x", model_name="upstream:model")

        assert (await ask(FunctionModel(named), convo("q"))).model_name == "upstream:model"

    async def test_function_errors_propagate(self) -> None:
        def broken(messages: list[ModelMessage], info: RequestInfo) -> str:
            raise ModelUnavailable("down")

        with pytest.raises(ModelUnavailable, match="down"):
            await ask(FunctionModel(broken), convo("q"))


# --- registry ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_model_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTWEAVER_MODEL_OVERRIDE", raising=False)


@pytest.fixture
def custom_models() -> Iterator[None]:
    saved = dict(registry._custom)
    yield
    registry._custom.clear()
    registry._custom.update(saved)


class TestParseModelString:
    @pytest.mark.parametrize("alias", sorted(ALIASES))
    def test_every_alias_parses_to_provider_and_model(self, alias: str) -> None:
        provider, model = parse_model_string(alias)
        assert f"{provider}:{model}" == ALIASES[alias]
        assert provider in PROVIDERS
        assert model

    def test_aliases_are_case_and_space_insensitive(self) -> None:
        assert parse_model_string("  Claude ") == ("anthropic", "claude-sonnet-5-5")

    def test_explicit_provider_model(self) -> None:
        assert parse_model_string("openai:gpt-4o") == ("openai", "gpt-4o")
        assert parse_model_string("anthropic:claude-haiku-4-5") == (
            "anthropic",
            "claude-haiku-4-5",
        )
        # everything after the first colon is the model name (ollama tags have colons)
        assert parse_model_string("ollama:llama3:8b") == ("ollama", "llama3:8b")

    @pytest.mark.parametrize("kind", list(ModelType))
    def test_model_type_values_are_aliases(self, kind: ModelType) -> None:
        provider, model = parse_model_string(kind.value)
        assert f"{provider}:{model}" == ALIASES[kind.value]
        assert parse_model_string(kind) == (provider, model)  # the enum member itself

    def test_unknown_alias_lists_the_aliases(self) -> None:
        with pytest.raises(ValueError, match="unknown model alias 'clod'") as info:
            parse_model_string("clod")
        message = str(info.value)
        for alias in ("claude", "gemini", "gpt", "o3", "llama"):
            assert alias in message
        assert "'provider:model'" in message

    def test_unknown_provider(self) -> None:
        with pytest.raises(ValueError, match="unknown model provider 'acme' in 'acme:x'"):
            parse_model_string("acme:x")

    def test_empty_model_after_colon(self) -> None:
        with pytest.raises(ValueError, match="model name missing after 'openai'"):
            parse_model_string("openai:")

    def test_empty(self) -> None:
        with pytest.raises(ValueError, match="model is empty"):
            parse_model_string("   ")


class TestInferModel:
    @pytest.mark.usefixtures("without_sdks")
    def test_claude_without_sdk_names_the_extra(self) -> None:
        with pytest.raises(ModelNotConfigured) as info:
            infer_model("claude")
        message = str(info.value)
        assert "pip install 'agentweaver[anthropic]'" in message
        assert "anthropic SDK" in message

    @pytest.mark.parametrize(
        ("value", "extra"),
        [("gpt", "openai"), ("o3", "openai"), ("llama", "openai"), ("gemini", "gemini")],
    )
    @pytest.mark.usefixtures("without_sdks")
    def test_other_providers_without_sdk(self, value: str, extra: str) -> None:
        with pytest.raises(ModelNotConfigured, match=rf"agentweaver\[{extra}\]"):
            infer_model(value)

    def test_missing_key_names_the_env_var(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("AW_FAKE_KEY", raising=False)
        monkeypatch.setitem(
            PROVIDERS,
            "fakeprov",
            ProviderInfo("agentweaver.models.test:TestModel", "json", "fake", ("AW_FAKE_KEY",)),
        )
        with pytest.raises(ModelNotConfigured, match="needs an API key: set AW_FAKE_KEY"):
            infer_model("fakeprov:m1")
        monkeypatch.setenv("AW_FAKE_KEY", "secret")
        built = infer_model("fakeprov:m1")
        assert isinstance(built, TestModel)
        assert built.model_name == "m1"

    def test_missing_key_with_sdk_patched_as_installed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = importlib.util.find_spec

        def fake_find_spec(name: str, package: str | None = None) -> object:
            if name.split(".")[0] == "anthropic":
                return object()
            return real(name, package)

        # the registry calls importlib.util.find_spec: pretend the anthropic SDK is installed
        monkeypatch.setattr("agentweaver.models.registry.importlib.util.find_spec", fake_find_spec)
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        with pytest.raises(ModelNotConfigured, match="set ANTHROPIC_API_KEY"):
            infer_model("claude")

    def test_missing_submodule_sdk_is_reported_as_not_installed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # "google.genai" style SDKs: the parent package existing is not enough
        monkeypatch.setitem(
            PROVIDERS,
            "fakeprov",
            ProviderInfo("agentweaver.models.nope:Nope", "json.no_such_sdk", "fake"),
        )
        with pytest.raises(ModelNotConfigured, match=r"json.no_such_sdk SDK.*agentweaver\[fake\]"):
            infer_model("fakeprov:m")

    def test_missing_adapter_module(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(
            PROVIDERS, "fakeprov", ProviderInfo("agentweaver.models.nope:Nope", None, None)
        )
        with pytest.raises(ModelNotConfigured, match="adapter is not part of this"):
            infer_model("fakeprov:m")

    def test_test_model(self) -> None:
        built = infer_model("test")
        assert isinstance(built, TestModel)
        assert built.name == "test:test"
        assert infer_model("test:other").name == "test:other"

    def test_env_override_replaces_model_strings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AGENTWEAVER_MODEL_OVERRIDE", "test")
        built = infer_model("claude")
        assert isinstance(built, TestModel)
        assert built.name == "test:test"
        model = TestModel("mine")
        assert infer_model(model) is model  # objects are never replaced

    def test_model_instance_passes_through(self) -> None:
        model = TestModel()
        assert infer_model(model) is model

    def test_unknown_strings_raise_model_not_configured(self) -> None:
        with pytest.raises(ModelNotConfigured, match="unknown model alias"):
            infer_model("nonsense")
        with pytest.raises(ModelNotConfigured, match="unknown model provider"):
            infer_model("acme:x")

    def test_function_string_explains_to_pass_the_object(self) -> None:
        with pytest.raises(ModelNotConfigured, match="pass the FunctionModel object"):
            infer_model("function:my_fn")

    @pytest.mark.usefixtures("without_sdks")
    def test_model_type_member(self) -> None:
        with pytest.raises(ModelNotConfigured, match="agentweaver\\[anthropic\\]"):
            infer_model(ModelType.CLAUDE)


class TestRegisterModel:
    def test_register_instance(self, custom_models: None) -> None:
        model = TestModel(custom_output_text="private")
        register_model("my-gateway", model)
        assert parse_model_string("my-gateway") == ("custom", "my-gateway")
        assert infer_model("my-gateway") is model
        assert infer_model("my-gateway") is model

    def test_register_factory(self, custom_models: None) -> None:
        built: list[Model] = []

        def factory() -> Model:
            made = FunctionModel(lambda messages, info: "hi", model_name="gw")
            built.append(made)
            return made

        register_model("fn-gateway", factory)
        first = infer_model("fn-gateway")
        second = infer_model("fn-gateway")
        assert built == [first, second]
        assert first.name == "function:gw"

    def test_registered_name_unknown_after_cleanup(self, custom_models: None) -> None:
        with pytest.raises(ModelNotConfigured):
            infer_model("my-gateway")
