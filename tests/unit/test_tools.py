"""``@tool``: schemas from type hints, validation, sync/async execution, timeouts, registry."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from agentweaver.exceptions import ToolError, ToolNotFound
from agentweaver.models.messages import ToolDefinition
from agentweaver.tools import Tool, ToolRegistry, tool


class Address(BaseModel):
    street: str
    zip_code: int


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    saved = dict(ToolRegistry._tools)
    yield
    ToolRegistry._tools.clear()
    ToolRegistry._tools.update(saved)


# --- schemas ---------------------------------------------------------------------------------


def test_schema_for_basic_types() -> None:
    @tool
    def tt_basic(text: str, count: int, ratio: float, flag: bool, tags: list[str]) -> str:
        """Do basic things."""
        return ""

    assert isinstance(tt_basic, Tool)
    assert tt_basic.parameters == {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "flag": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["text", "count", "ratio", "flag", "tags"],
    }


def test_schema_optional_and_defaults() -> None:
    @tool
    def tt_defaults(query: str, limit: int = 5, lang: str | None = None) -> str:
        return ""

    schema = tt_defaults.parameters
    assert schema["required"] == ["query"]
    assert schema["properties"]["limit"] == {"type": "integer", "default": 5}
    assert schema["properties"]["lang"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }


def test_schema_no_arguments() -> None:
    @tool
    def tt_noargs() -> str:
        return "x"

    assert tt_noargs.parameters == {"type": "object", "properties": {}}


def test_schema_unannotated_argument_accepts_anything() -> None:
    @tool
    def tt_untyped(value, *args, **kwargs):  # type: ignore[no-untyped-def]
        return value

    assert tt_untyped.parameters["required"] == ["value"]
    assert set(tt_untyped.parameters["properties"]) == {"value"}
    assert tt_untyped.validate({"value": [1, "a"]}) == {"value": [1, "a"]}


def test_schema_pydantic_model_argument() -> None:
    @tool
    def tt_ship(address: Address, express: bool = False) -> str:
        """Ship a parcel."""
        return f"{address.street} {address.zip_code} {express}"

    schema = tt_ship.parameters
    assert schema["required"] == ["address"]
    assert schema["properties"]["address"] == {"$ref": "#/$defs/Address"}
    address_schema = schema["$defs"]["Address"]
    assert address_schema["properties"]["zip_code"]["type"] == "integer"
    assert address_schema["required"] == ["street", "zip_code"]

    values = tt_ship.validate({"address": {"street": "Main", "zip_code": "123"}})
    assert values == {"address": Address(street="Main", zip_code=123), "express": False}


async def test_pydantic_model_argument_call() -> None:
    @tool
    def tt_ship2(address: Address) -> str:
        return f"{address.street}:{address.zip_code}"

    assert await tt_ship2.call({"address": {"street": "Elm", "zip_code": 9}}) == "Elm:9"


def test_description_is_the_first_docstring_paragraph() -> None:
    @tool
    def tt_doc(x: int) -> int:
        """Double a number.

        Longer explanation that the model does not need.
        """
        return 2 * x

    assert tt_doc.description == "Double a number."
    assert tt_doc.name == "tt_doc"
    assert tt_doc.definition == ToolDefinition("tt_doc", "Double a number.", tt_doc.parameters)


def test_no_docstring_gives_empty_description() -> None:
    @tool
    def tt_nodoc(x: int) -> int:
        return x

    assert tt_nodoc.description == ""


def test_name_and_description_overrides() -> None:
    @tool(name="tt_renamed", description="Custom words.", timeout=3)
    def whatever(x: int) -> int:
        """Ignored docstring."""
        return x

    assert whatever.name == "tt_renamed"
    assert whatever.description == "Custom words."
    assert whatever.timeout == 3
    assert ToolRegistry.has("tt_renamed")
    assert not ToolRegistry.has("whatever")


def test_tool_called_as_function() -> None:
    def tt_plain(x: int) -> int:
        return x

    made = tool(tt_plain, name="tt_plain_named", register=False)
    assert made.name == "tt_plain_named"
    assert made.function is tt_plain


# --- validation -----------------------------------------------------------------------------


def test_validation_coerces() -> None:
    @tool
    def tt_coerce(count: int, ratio: float, flag: bool, tags: list[str]) -> str:
        return ""

    values = tt_coerce.validate({"count": "3", "ratio": 2, "flag": "true", "tags": ["a"]})
    assert values == {"count": 3, "ratio": 2.0, "flag": True, "tags": ["a"]}
    assert type(values["count"]) is int
    assert type(values["ratio"]) is float


def test_validation_fills_defaults() -> None:
    @tool
    def tt_fill(query: str, limit: int = 5) -> str:
        return ""

    assert tt_fill.validate({"query": "q"}) == {"query": "q", "limit": 5}


def test_validation_errors_name_the_field() -> None:
    @tool
    def tt_strict(count: int, name: str) -> str:
        return ""

    with pytest.raises(ValidationError) as info:
        tt_strict.validate({"count": "many"})
    text = str(info.value)
    assert "count" in text
    assert "name" in text
    assert {tuple(e["loc"]) for e in info.value.errors()} == {("count",), ("name",)}


async def test_call_validates_before_running() -> None:
    ran: list[int] = []

    @tool
    def tt_guarded(count: int) -> int:
        ran.append(count)
        return count

    with pytest.raises(ValidationError):
        await tt_guarded.call({"count": "not a number"})
    assert ran == []
    assert await tt_guarded.call({"count": "4"}) == 4
    assert ran == [4]


async def test_tool_without_validator_passes_arguments_through() -> None:
    made = Tool("tt_raw", "raw", lambda **kw: sorted(kw), {"type": "object"})
    assert made.validate({"b": 1, "a": 2}) == {"b": 1, "a": 2}
    assert await made.call({"b": 1, "a": 2}) == ["a", "b"]


# --- execution ------------------------------------------------------------------------------


async def test_sync_tool_runs_in_a_thread() -> None:
    seen: list[int] = []

    @tool
    def tt_thread(x: int) -> int:
        seen.append(threading.get_ident())
        return x + 1

    assert await tt_thread.call({"x": 1}) == 2
    assert seen
    assert seen[0] != threading.get_ident()


async def test_sync_tools_do_not_block_the_event_loop() -> None:
    @tool
    def tt_sleepy(x: int) -> int:
        time.sleep(0.2)
        return x

    started = time.perf_counter()
    results = await asyncio.gather(tt_sleepy.call({"x": 1}), tt_sleepy.call({"x": 2}))
    assert list(results) == [1, 2]
    assert time.perf_counter() - started < 0.35


async def test_async_tool_runs_on_the_loop() -> None:
    seen: list[int] = []

    @tool
    async def tt_async(x: int) -> dict[str, int]:
        """Async tool."""
        seen.append(threading.get_ident())
        await asyncio.sleep(0)
        return {"x": x}

    assert await tt_async.call({"x": "5"}) == {"x": 5}
    assert seen == [threading.get_ident()]
    assert tt_async.description == "Async tool."


async def test_tool_exceptions_propagate() -> None:
    @tool
    def tt_raises(x: int) -> int:
        raise ValueError(f"bad {x}")

    with pytest.raises(ValueError, match="bad 3"):
        await tt_raises.call({"x": 3})


async def test_async_timeout() -> None:
    @tool(timeout=0.05)
    async def tt_slow_async() -> str:
        await asyncio.sleep(5)
        return "never"

    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await tt_slow_async.call({})
    assert time.perf_counter() - started < 1


async def test_sync_timeout() -> None:
    @tool(timeout=0.05)
    def tt_slow_sync() -> str:
        time.sleep(0.3)
        return "late"

    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await tt_slow_sync.call({})
    assert time.perf_counter() - started < 0.25


async def test_fast_tool_within_timeout() -> None:
    @tool(timeout=1)
    async def tt_fast() -> str:
        return "ok"

    assert await tt_fast.call({}) == "ok"


# --- registry ------------------------------------------------------------------------------


def test_registry_lookup_by_name_and_object() -> None:
    @tool
    def tt_reg_a() -> str:
        return "a"

    loose = tool(lambda: "b", name="tt_reg_loose", register=False)
    found = ToolRegistry.get_tools(["tt_reg_a", loose])
    assert found == [tt_reg_a, loose]
    assert "tt_reg_a" in ToolRegistry.names()
    assert ToolRegistry.names() == sorted(ToolRegistry.names())


def test_registry_unknown_name_lists_known_tools() -> None:
    @tool
    def tt_known_one() -> str:
        return ""

    with pytest.raises(ToolNotFound, match="unknown tool 'tt_missing'") as info:
        ToolRegistry.get_tools(["tt_known_one", "tt_missing"])
    assert "tt_known_one" in str(info.value)
    assert isinstance(info.value, ToolError)


def test_unknown_tool_lists_the_built_ins() -> None:
    ToolRegistry._tools.clear()
    with pytest.raises(ToolNotFound, match=r"unknown tool 'x' \(known: .*read_file"):
        ToolRegistry.get_tools(["x"])
    assert {"read_file", "write_file", "list_files"} <= set(ToolRegistry.names())


def test_register_false_keeps_the_tool_out_of_the_registry() -> None:
    @tool(register=False)
    def tt_private() -> str:
        return ""

    assert isinstance(tt_private, Tool)
    assert not ToolRegistry.has("tt_private")
    with pytest.raises(ToolNotFound):
        ToolRegistry.get_tools(["tt_private"])


def test_unregister() -> None:
    @tool
    def tt_temp() -> str:
        return ""

    assert ToolRegistry.has("tt_temp")
    ToolRegistry.unregister("tt_temp")
    assert not ToolRegistry.has("tt_temp")
    ToolRegistry.unregister("tt_temp")  # unknown names are ignored


def test_registering_the_same_name_replaces() -> None:
    first = tool(lambda: 1, name="tt_dup")
    second = tool(lambda: 2, name="tt_dup")
    assert first is not second
    assert ToolRegistry.get_tools(["tt_dup"]) == [second]


def test_registry_fixture_restores_state() -> None:
    # the autouse fixture removed every tool the tests above registered
    assert not any(name.startswith("tt_") for name in ToolRegistry.names())


async def test_tool_context_is_injected_and_kept_out_of_the_schema() -> None:
    from agentweaver.tools import ToolContext

    @tool(register=False)
    def whoami(greeting: str, ctx: ToolContext) -> str:
        """Say who is calling."""
        return f"{greeting} {ctx.tenant} {ctx.execution_id} {ctx.settings_for('whoami')['x']}"

    assert set(whoami.parameters["properties"]) == {"greeting"}
    context = ToolContext("acme", "e1", "s1", None, {"whoami": {"x": 1}})
    assert await whoami.call({"greeting": "hi"}, context) == "hi acme e1 1"


async def test_runner_passes_tenant_settings_and_sandbox_to_tools(tmp_path: Path) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall
    from agentweaver.tools import ToolContext

    seen: list[ToolContext] = []

    @tool(register=False)
    def probe(ctx: ToolContext) -> str:
        """Record the context."""
        seen.append(ctx)
        return "ok"

    model = TestModel(script=[[ToolCall("probe", {}, "c1")], "done"])
    worker = agent(role="Worker", model=model, tools=[probe])(lambda task: None)
    workflow = AgentWorkflow([worker], name="w")
    runner = LocalRunner(owner="acme", tool_settings={"probe": {"k": "v"}}, sandbox_root=tmp_path)
    result = await runner.run(workflow, "go")
    assert result.status == "succeeded", result.errors
    (ctx,) = seen
    assert (ctx.tenant, ctx.step_id, ctx.settings_for("probe")) == ("acme", "worker", {"k": "v"})
    assert ctx.sandbox == tmp_path / "acme" / result.execution_id


async def test_tool_call_records_redact_secrets() -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    @tool(register=False)
    def fetch(url: str, api_key: str) -> str:
        """Fetch with a key."""
        return "Authorization: Bearer abcdefghijklmnop"

    args = {"url": "https://x.test", "api_key": "sk-1234567890abcdef"}
    model = TestModel(script=[[ToolCall("fetch", args, "c1")], "done"])
    worker = agent(role="Worker", model=model, tools=[fetch])(lambda task: None)
    result = await LocalRunner().run(AgentWorkflow([worker], name="w"), "go")
    call = result.steps[0].tool_calls[0]
    assert call["arguments"] == {"url": "https://x.test", "api_key": "[redacted]"}
    assert "abcdefghijklmnop" not in call["result"]
    assert "sk-1234567890abcdef" not in str(result.steps[0].to_dict())


async def test_an_owner_cannot_move_the_sandbox(tmp_path: Path) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall
    from agentweaver.tools import ToolContext

    @tool(register=False)
    def probe(ctx: ToolContext) -> str:
        """Record the context."""
        return str(ctx.sandbox)

    model = TestModel(script=[[ToolCall("probe", {}, "c1")], "done"])
    worker = agent(role="Worker", model=model, tools=[probe])(lambda task: None)
    runner = LocalRunner(owner="/etc", sandbox_root=tmp_path)
    result = await runner.run(AgentWorkflow([worker], name="w"), "go")
    assert result.status == "failed"
    assert "tenant '/etc' cannot name a sandbox directory" in str(result.errors[-1])
