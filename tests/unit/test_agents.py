"""Agents: definition-time validation, the prompt, the model <-> tools loop, outputs, costs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agentweaver.agents import (
    Agent,
    AgentConfig,
    AgentResult,
    agent,
    agents_by_name,
    parse_json_output,
    render_value,
)
from agentweaver.exceptions import (
    DefinitionError,
    ModelNotConfigured,
    OutputParseError,
    ToolError,
    ToolNotFound,
)
from agentweaver.models.base import Model
from agentweaver.models.messages import (
    AssistantMessage,
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.pricing import PriceTable
from agentweaver.models.registry import ModelType
from agentweaver.models.test import FunctionModel, RequestInfo, TestModel
from agentweaver.tools import Tool, ToolRegistry, tool

MILLION = 1_000_000


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    saved = dict(ToolRegistry._tools)
    yield
    ToolRegistry._tools.clear()
    ToolRegistry._tools.update(saved)


@pytest.fixture(autouse=True)
def no_model_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTWEAVER_MODEL_OVERRIDE", raising=False)


def make(model: Model | None = None, **kwargs: Any) -> Agent:
    kwargs.setdefault("role", "Researcher")
    return Agent(AgentConfig(model=model or TestModel(), **kwargs))


def system_of(result: AgentResult) -> str:
    first = result.messages[0]
    assert isinstance(first, SystemMessage)
    return first.content


def user_of(result: AgentResult) -> str:
    second = result.messages[1]
    assert isinstance(second, UserMessage)
    return second.content


def add_tool() -> Tool:
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    made: Tool = tool(add, register=False)
    return made


# --- AgentConfig validation ----------------------------------------------------------------


class TestAgentConfig:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"role": ""}, "role is empty"),
            ({"role": "   "}, "role is empty"),
            ({"model": "clod"}, "unknown model alias 'clod'"),
            ({"model": "acme:x"}, "unknown model provider 'acme'"),
            ({"model": "openai:"}, "model name missing after 'openai'"),
            ({"temperature": 2.5}, "temperature 2.5 is outside 0..2"),
            ({"temperature": -0.1}, "temperature -0.1 is outside 0..2"),
            ({"max_tokens": 0}, "max_tokens must be positive, got 0"),
            ({"max_tokens": -5}, "max_tokens must be positive, got -5"),
            ({"timeout": 0}, "timeout must be positive seconds, got 0"),
            ({"timeout": -1.5}, "timeout must be positive seconds, got -1.5"),
            ({"output": "xml"}, "output must be 'text' or 'json', got 'xml'"),
            ({"max_tool_rounds": 0}, "max_tool_rounds must be at least 1"),
            ({"name": "1abc"}, "name '1abc' must be letters, digits, '_' or '-'"),
            ({"name": "has space"}, "name 'has space' must be letters"),
            ({"name": ""}, "name '' must be letters"),
            ({"name": "a" * 65}, "must be letters, digits"),
            ({"name": "trailing\n"}, "name 'trailing\\n' must be letters"),
        ],
    )
    def test_invalid_settings(self, kwargs: dict[str, Any], message: str) -> None:
        kwargs.setdefault("role", "Researcher")
        with pytest.raises(DefinitionError) as info:
            AgentConfig(**kwargs)
        assert message in str(info.value)

    def test_all_problems_reported_at_once(self) -> None:
        with pytest.raises(DefinitionError) as info:
            AgentConfig(role="Writer", name="w", temperature=9, max_tokens=0, model="nope")
        text = str(info.value)
        assert text.startswith("agent 'w': ")
        assert "temperature 9" in text
        assert "max_tokens" in text
        assert "unknown model alias 'nope'" in text

    def test_message_names_the_role_without_a_name(self) -> None:
        with pytest.raises(DefinitionError, match=r"^agent 'Writer': timeout"):
            AgentConfig(role="Writer", timeout=0)

    def test_boundaries_and_defaults_are_valid(self) -> None:
        assert AgentConfig(role="R", temperature=0).temperature == 0
        assert AgentConfig(role="R", temperature=2).temperature == 2
        cfg = AgentConfig(role="R", name="a" * 64, max_tokens=1, timeout=0.01)
        assert cfg.model == "claude"
        assert cfg.personality == "helpful, professional"
        assert cfg.temperature == 0.7
        assert cfg.max_tokens == 1
        assert cfg.output == "text"
        assert cfg.max_tool_rounds == 8
        assert cfg.model_string == "claude"

    def test_model_type_becomes_its_alias(self) -> None:
        cfg = AgentConfig(role="R", model=ModelType.GEMINI)
        assert cfg.model == "gemini"
        assert cfg.model_string == "gemini"

    def test_model_object_string(self) -> None:
        assert AgentConfig(role="R", model=TestModel("x")).model_string == "test:x"


# --- @agent ----------------------------------------------------------------------------------


class TestAgentDecorator:
    def test_name_and_docstring(self) -> None:
        @agent(role="Researcher", model="test", temperature=0.3)
        def researcher(topic: str) -> str:
            """Gather the key facts."""
            return f"Research this topic: {topic}"

        assert isinstance(researcher, Agent)
        assert researcher.name == "researcher"
        assert researcher.config.name == "researcher"
        assert researcher.instructions == "Gather the key facts."
        assert researcher.config.temperature == 0.3
        assert "researcher" in repr(researcher)

    def test_explicit_name_and_instructions_win(self) -> None:
        @agent("Writer", "test", name="scribe", instructions="Write tersely.")
        def writer(notes: str) -> None:
            """Docstring ignored."""

        assert writer.name == "scribe"
        assert writer.instructions == "Write tersely."

    def test_bad_settings_fail_at_definition_time(self) -> None:
        with pytest.raises(DefinitionError, match="temperature 3"):

            @agent(role="Writer", model="test", temperature=3)
            def writer(notes: str) -> None: ...

        with pytest.raises(DefinitionError, match="unknown model alias"):

            @agent(role="Writer", model="gpt-9000")
            def writer2(notes: str) -> None: ...

    def test_one_decorator_used_twice_names_each_function(self) -> None:
        decorate = agent(role="Helper", model="test")

        def first(x: str) -> None: ...

        def second(x: str) -> None: ...

        assert decorate(first).name == "first"
        assert decorate(second).name == "second"

    def test_agent_without_function_named_from_role(self) -> None:
        assert Agent(AgentConfig(role="Customer Support", model="test")).name == (
            "customer_support"
        )
        assert Agent(AgentConfig(role="R", model="test", name="n1")).name == "n1"

    def test_agents_by_name_refuses_duplicates(self) -> None:
        a = make(name="same")
        b = make(name="same")
        with pytest.raises(DefinitionError, match="two agents are named 'same'"):
            agents_by_name([a, b])
        assert agents_by_name([a, make(name="other")]).keys() == {"same", "other"}


# --- the prompt --------------------------------------------------------------------------------


class TestPrompt:
    async def test_function_returns_the_prompt(self) -> None:
        @agent(role="Researcher", model=TestModel())
        def researcher(topic: str) -> str:
            return f"Research this topic: {topic}"

        result = await researcher.execute("agents")
        assert user_of(result) == "Research this topic: agents"
        assert result.text == "Researcher: Research this topic: agents"
        assert result.output == result.text
        assert str(result) == result.text

    async def test_function_returning_none_sends_the_input(self) -> None:
        calls: list[Any] = []

        @agent(role="Writer", model=TestModel())
        def writer(notes: Any) -> None:
            calls.append(notes)

        result = await writer.execute("my notes")
        assert calls == ["my notes"]
        assert user_of(result) == "my notes"

        result = await writer.execute({"b": 1, "a": [1, 2]})
        assert json.loads(user_of(result)) == {"b": 1, "a": [1, 2]}

    async def test_function_returning_a_dict_is_rendered_as_json(self) -> None:
        @agent(role="Writer", model=TestModel())
        def writer(notes: str) -> dict[str, Any]:
            return {"task": "write", "notes": notes, "ünicode": "é"}

        result = await writer.execute("n")
        assert json.loads(user_of(result)) == {"task": "write", "notes": "n", "ünicode": "é"}
        assert "é" in user_of(result)  # not escaped

    async def test_function_taking_input_and_context(self) -> None:
        seen: list[dict[str, Any]] = []

        @agent(role="Writer", model=TestModel())
        def writer(notes: str, context: dict[str, Any]) -> str:
            seen.append(context)
            return f"{notes} for {context['audience']}"

        result = await writer.execute("draft", {"audience": "kids", "_secret": 1})
        assert seen == [{"audience": "kids", "_secret": 1}]
        assert user_of(result).endswith("draft for kids")

    async def test_function_taking_context_with_no_context(self) -> None:
        @agent(role="Writer", model=TestModel())
        def writer(notes: str, context: dict[str, Any]) -> str:
            return f"{notes}|{sorted(context)}"

        assert user_of(await writer.execute("x")) == "x|[]"

    async def test_function_taking_no_arguments(self) -> None:
        @agent(role="Writer", model=TestModel())
        def writer() -> str:
            return "fixed prompt"

        assert user_of(await writer.execute("ignored")) == "fixed prompt"

    async def test_async_function(self) -> None:
        @agent(role="Writer", model=TestModel())
        async def writer(notes: str) -> str:
            await asyncio.sleep(0)
            return f"async {notes}"

        assert user_of(await writer.execute("n")) == "async n"

    async def test_agent_result_input_uses_its_text(self) -> None:
        previous = await make().execute("hello")
        result = await make(role="Editor").execute(previous)
        assert user_of(result) == "Researcher: hello"
        assert render_value(previous) == "Researcher: hello"

    async def test_function_errors_propagate(self) -> None:
        @agent(role="Writer", model=TestModel())
        def writer(notes: str) -> str:
            raise KeyError("missing")

        with pytest.raises(KeyError):
            await writer.execute("x")

    async def test_system_message(self) -> None:
        @agent(
            role="Analyst",
            model=TestModel(custom_output_json={"ok": True}),
            personality="curious, precise",
            description="Good with numbers.",
            output="json",
        )
        def analyst(data: str) -> None:
            """Find the trend."""

        result = await analyst.execute("1 2 3")
        system = system_of(result)
        assert system.startswith("You are the Analyst. Personality: curious, precise.")
        assert "\nGood with numbers." in system
        assert "\n\nFind the trend." in system
        assert system.endswith("Answer with one JSON value and nothing else.")

    async def test_text_output_has_no_json_instruction(self) -> None:
        result = await make(personality="").execute("x")
        assert system_of(result) == "You are the Researcher."

    async def test_context_rendered_and_private_keys_hidden(self) -> None:
        result = await make().execute(
            "question", {"topic": "AI", "data": {"n": 1}, "_execution_id": "secret"}
        )
        user = user_of(result)
        assert user.startswith("Context:\n- topic: AI\n- data: {")
        assert '"n": 1' in user
        assert user.endswith("\n\nquestion")
        assert "secret" not in user
        assert "_execution_id" not in user

    async def test_only_private_context_adds_nothing(self) -> None:
        result = await make().execute("question", {"_hidden": 1})
        assert user_of(result) == "question"

    async def test_settings_passed_to_the_model(self) -> None:
        seen: list[RequestInfo] = []

        def fn(messages: list[ModelMessage], info: RequestInfo) -> str:
            seen.append(info)
            return "ok"

        await make(FunctionModel(fn), temperature=0.1, max_tokens=123).execute("x")
        assert seen[0].settings.temperature == 0.1
        assert seen[0].settings.max_tokens == 123
        assert seen[0].params.tools == []
        assert seen[0].params.output_json is False


# --- outputs -------------------------------------------------------------------------------


class TestOutput:
    async def test_json_output_parsed(self) -> None:
        result = await make(TestModel(), output="json").execute("three words here")
        assert result.output == {"role": "Researcher", "input_words": 3}
        assert json.loads(result.text) == result.output

    @pytest.mark.parametrize(
        "text",
        [
            '{"a": 1}',
            '  {"a": 1}\n',
            '```json\n{"a": 1}\n```',
            '```\n{"a": 1}\n```',
            '\n```json\n{"a": 1}\n```\n',
        ],
    )
    async def test_json_output_fences(self, text: str) -> None:
        result = await make(TestModel(script=[text]), output="json").execute("x")
        assert result.output == {"a": 1}
        assert result.text == text

    async def test_invalid_json_raises_output_parse_error_after_one_repair(self) -> None:
        model = TestModel(script=["not json", "still not json"])
        with pytest.raises(OutputParseError, match="expected a JSON answer, got 'still not json'"):
            await make(model, output="json").execute("x")
        assert len(model.requests) == 2
        repair = model.requests[1][-1]
        assert isinstance(repair, UserMessage)
        assert "Reply again with only the corrected JSON" in repair.content

    async def test_one_repair_round_trip_fixes_bad_json(self) -> None:
        model = TestModel(script=["oops", {"ok": True}])
        result = await make(model, output="json").execute("x")
        assert result.output == {"ok": True}
        assert result.usage.requests == 2
        with pytest.raises(OutputParseError):
            parse_json_output("```json\n{broken\n```")

    async def test_text_output_not_parsed(self) -> None:
        result = await make(TestModel(script=['{"a": 1}'])).execute("x")
        assert result.output == '{"a": 1}'

    async def test_postprocessors_in_order(self) -> None:
        researcher = make(TestModel(script=[{"n": 2}]), output="json")

        @researcher.postprocess
        def double(value: dict[str, int]) -> dict[str, int]:
            return {"n": value["n"] * 2}

        @researcher.postprocess
        def add_one(value: dict[str, int]) -> int:
            return value["n"] + 1

        assert callable(double)
        result = await researcher.execute("x")
        assert result.output == 5  # (2 * 2) + 1, not (2 + 1) * 2
        assert result.text == '{"n": 2}'

    async def test_result_fields(self) -> None:
        result = await make().execute("x")
        assert result.model_name == "test:test"
        assert result.tool_calls == []
        assert result.usage.requests == 1
        assert result.cost == 0.0
        assert isinstance(result.messages[-1], AssistantMessage)
        assert result.messages[-1].content == result.text


# --- the tool loop -------------------------------------------------------------------------


class TestToolLoop:
    async def test_tool_call_then_answer(self) -> None:
        model = TestModel(script=[[ToolCall("add", {"a": 1, "b": 2}, "c1")], "done"])
        researcher = make(model, tools=[add_tool()])
        result = await researcher.execute("add 1 and 2")

        assert result.output == "done"
        assert len(model.requests) == 2
        second = model.requests[1]
        assert isinstance(second[2], AssistantMessage)
        assert second[2].tool_calls == [ToolCall("add", {"a": 1, "b": 2}, "c1")]
        assert second[3] == ToolResultMessage("c1", "add", "3", False)

        [record] = result.tool_calls
        assert record.name == "add"
        assert record.arguments == {"a": 1, "b": 2}
        assert record.result == "3"
        assert record.is_error is False
        assert record.duration >= 0
        assert result.usage.requests == 2

    async def test_tools_are_offered_as_definitions(self) -> None:
        seen: list[RequestInfo] = []

        def fn(messages: list[ModelMessage], info: RequestInfo) -> str:
            seen.append(info)
            return "ok"

        made = add_tool()
        await make(FunctionModel(fn), tools=[made]).execute("x")
        assert [d.name for d in seen[0].params.tools] == ["add"]
        assert seen[0].params.tools[0].description == "Add two integers."
        assert seen[0].params.tools[0].parameters == made.parameters

    async def test_registered_tools_by_name_and_unknown_name(self) -> None:
        @tool
        def ag_registered_echo(text: str) -> str:
            return text.upper()

        model = TestModel(call_tools=["ag_registered_echo"])
        result = await make(model, tools=["ag_registered_echo"]).execute("shout")
        assert result.tool_calls[0].result == "A"
        assert result.text == "Researcher: shout | tools: A"

        # an unknown tool in the definition is found when the agent runs
        lazy = make(TestModel(), tools=["ag_not_registered"])
        with pytest.raises(ToolNotFound, match="ag_not_registered"):
            await lazy.execute("x")

    async def test_parallel_tool_calls_run_concurrently(self) -> None:
        running: list[str] = []
        overlapped: list[bool] = []

        async def both_at_once(name: str) -> str:
            running.append(name)
            await asyncio.sleep(0.05)
            overlapped.append(len(running) == 2)  # the other call started while this one ran
            return name

        async def slow_a() -> str:
            return await both_at_once("a")

        async def slow_b() -> str:
            return await both_at_once("b")

        tools = [tool(slow_a, register=False), tool(slow_b, register=False)]
        model = TestModel(
            script=[[ToolCall("slow_a", {}, "ia"), ToolCall("slow_b", {}, "ib")], "ok"]
        )
        result = await make(model, tools=tools).execute("x")
        assert overlapped == [True, True]
        assert [(r.name, r.result) for r in result.tool_calls] == [("slow_a", "a"), ("slow_b", "b")]
        results = [m for m in model.requests[1] if isinstance(m, ToolResultMessage)]
        assert [(m.tool_call_id, m.content) for m in results] == [("ia", "a"), ("ib", "b")]

    async def test_tool_failures_go_back_to_the_model(self) -> None:
        def explode(x: int) -> int:
            raise ValueError(f"cannot handle {x}")

        model = TestModel(
            script=[
                [
                    ToolCall("nope", {}, "c1"),
                    ToolCall("add", {"a": "one", "b": 2}, "c2"),
                    ToolCall("explode", {"x": 7}, "c3"),
                ],
                [ToolCall("add", {"a": 1, "b": 1}, "c4")],
                "recovered",
            ]
        )
        researcher = make(model, tools=[add_tool(), tool(explode, register=False)])
        result = await researcher.execute("x")
        assert result.output == "recovered"

        results = [m for m in model.requests[1] if isinstance(m, ToolResultMessage)]
        assert [m.tool_call_id for m in results] == ["c1", "c2", "c3"]
        assert all(m.is_error for m in results)
        assert "no tool named 'nope'" in results[0].content
        assert "available: add, explode" in results[0].content
        assert results[1].content.startswith("error: ValidationError")
        assert "valid integer" in results[1].content
        assert results[2].content == "error: ValueError: cannot handle 7"

        assert [r.is_error for r in result.tool_calls] == [True, True, True, False]
        assert result.tool_calls[-1].result == "2"

    async def test_tool_timeout(self) -> None:
        @tool(timeout=0.05, register=False)
        async def sluggish() -> str:
            await asyncio.sleep(5)
            return "never"

        model = TestModel(script=[[ToolCall("sluggish", {}, "t1")], "gave up waiting"])
        started = time.perf_counter()
        result = await make(model, tools=[sluggish]).execute("x")
        assert time.perf_counter() - started < 1
        assert result.output == "gave up waiting"
        [record] = result.tool_calls
        assert record.is_error
        assert record.result == "error: tool 'sluggish' timed out after 0.05s"

    async def test_timeout_error_raised_by_a_tool_without_timeout(self) -> None:
        def flaky() -> str:
            raise TimeoutError("upstream socket")

        model = TestModel(script=[[ToolCall("flaky", {}, "t1")], "ok"])
        result = await make(model, tools=[tool(flaky, register=False)]).execute("x")
        [record] = result.tool_calls
        assert record.is_error
        assert "upstream socket" in record.result
        assert "None" not in record.result

    async def test_max_tool_rounds_exceeded(self) -> None:
        call = [ToolCall("add", {"a": 1, "b": 1}, "c")]
        model = TestModel(script=[call, call, call, "never reached"])
        researcher = make(model, tools=[add_tool()], max_tool_rounds=2, name="looper")
        with pytest.raises(
            ToolError, match="'looper' still asked for tools after max_tool_rounds=2"
        ):
            await researcher.execute("x")
        assert len(model.requests) == 3  # two rounds of tools, then the third request gives up

    async def test_max_tool_rounds_exactly_enough(self) -> None:
        call = [ToolCall("add", {"a": 1, "b": 1}, "c")]
        model = TestModel(script=[call, call, "done"])
        result = await make(model, tools=[add_tool()], max_tool_rounds=2).execute("x")
        assert result.output == "done"
        assert len(result.tool_calls) == 2

    async def test_call_tools_test_model_with_json_output(self) -> None:
        model = TestModel(call_tools="all")
        result = await make(model, tools=[add_tool()], output="json").execute("four words go here")
        assert result.output == {"role": "Researcher", "input_words": 4}
        assert result.tool_calls[0].arguments == {"a": 0, "b": 0}


# --- usage, cost, model resolution -----------------------------------------------------------


class PricedModel(FunctionModel):
    """A FunctionModel with a price, to check costs add up over rounds."""

    def __init__(self, answers: list[Any]) -> None:
        self._answers = list(answers)
        super().__init__(self._next, "priced")
        self._prices = PriceTable("2026-01-01").override("function:priced", 1.0, 2.0)

    def _next(self, messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
        item = self._answers.pop(0)
        if isinstance(item, list):
            return ModelResponse(tool_calls=item, usage=Usage(1000, 10, requests=1))
        return ModelResponse(item, usage=Usage(2000, 30, requests=1))


class UnpricedTestModel(TestModel):
    def cost(self, usage: Usage) -> float | None:
        return None


class TestUsageAndCost:
    async def test_usage_and_cost_summed_over_rounds(self) -> None:
        model = PricedModel([[ToolCall("add", {"a": 1, "b": 2}, "c")], "done"])
        result = await make(model, tools=[add_tool()]).execute("x")
        assert result.usage == Usage(3000, 40, requests=2)
        assert result.cost == pytest.approx((3000 * 1.0 + 40 * 2.0) / MILLION)
        assert result.model_name == "function:priced"

    async def test_usage_summed_for_test_model(self) -> None:
        model = TestModel(script=[[ToolCall("add", {"a": 1, "b": 2}, "c")], "done"])
        result = await make(model, tools=[add_tool()]).execute("x")
        assert result.usage.requests == 2
        assert result.usage.input_tokens > 0
        assert result.usage.output_tokens > 0

    async def test_unknown_price_gives_none(self) -> None:
        model = UnpricedTestModel(script=[[ToolCall("add", {"a": 1, "b": 2}, "c")], "done"])
        result = await make(model, tools=[add_tool()]).execute("x")
        assert result.cost is None
        assert result.usage.requests == 2

    async def test_cost_none_when_one_round_is_unpriced(self) -> None:
        class HalfPriced(TestModel):
            def cost(self, usage: Usage) -> float | None:
                self.priced = getattr(self, "priced", 0) + 1
                return 1.0 if self.priced == 1 else None

        model = HalfPriced(script=[[ToolCall("add", {"a": 1, "b": 2}, "c")], "done"])
        result = await make(model, tools=[add_tool()]).execute("x")
        assert result.cost is None

    async def test_model_override(self) -> None:
        configured = TestModel(custom_output_text="configured")
        override = TestModel("other", custom_output_text="override")
        researcher = make(configured)
        result = await researcher.execute("x", model=override)
        assert result.text == "override"
        assert result.model_name == "test:other"
        assert configured.requests == []
        assert (await researcher.execute("x")).text == "configured"

    @pytest.mark.usefixtures("without_sdks")
    async def test_model_resolved_lazily(self) -> None:
        @agent(role="Writer", model="claude")
        def writer(notes: str) -> None: ...

        assert writer.config.model == "claude"
        with pytest.raises(ModelNotConfigured, match=r"agentweaver\[anthropic\]"):
            await writer.execute("x")
        # an override means the configured model is never built
        result = await writer.execute("x", model=TestModel())
        assert result.text == "Writer: x"

    async def test_model_string_test_builds_a_test_model(self) -> None:
        writer = Agent(AgentConfig(role="Writer", model="test"))
        assert isinstance(writer.model, TestModel)
        assert writer.model is writer.model  # built once
        assert (await writer.execute("hi")).text == "Writer: hi"

    async def test_choices_params_reach_the_model(self) -> None:
        router = make(TestModel(), role="Router")
        choices = {"billing": "invoices and charges", "technical": "bugs and errors"}
        params = ModelRequestParameters(choices=choices)
        result = await router.execute("I was charged twice on my invoice", params=params)
        assert result.text == "billing"

    async def test_caller_params_are_not_mutated(self) -> None:
        params = ModelRequestParameters(choices={"a": "x", "b": "y"})
        model = FunctionModel(lambda messages, info: '"a"')
        with_tools = make(model, tools=[add_tool()], output="json", name="with_tools")
        assert (await with_tools.execute("a", params=params)).output == "a"
        assert params.tools == []
        assert params.output_json is False

        seen: list[RequestInfo] = []

        def fn(messages: list[ModelMessage], info: RequestInfo) -> str:
            seen.append(info)
            return "b"

        await make(FunctionModel(fn), name="plain").execute("a", params=params)
        assert seen[0].params.tools == []
        assert seen[0].params.output_json is False
