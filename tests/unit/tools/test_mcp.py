"""MCP servers' tools as AgentWeaver tools, against a real server (``mcp_server.py``).

Over stdio the server is a subprocess started with ``sys.executable``; over streamable HTTP the
same server runs in-process under uvicorn on a loopback port. A server process takes most of a
second to start (importing ``mcp``), so the stdio session is shared by the module's tests
(opened in one task, closed in another: ``MCPToolset`` allows that) and only the per-call test
and the failure probes start processes of their own.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agentweaver.exceptions import DefinitionError, ToolError
from agentweaver.tools import Tool
from agentweaver.tools.mcp import (
    MCPServer,
    MCPToolset,
    load_mcp_tools,
    servers_from_config,
    tools_from_config,
)

# every async test shares the module's event loop, where the shared session lives
shared_loop = pytest.mark.asyncio(loop_scope="module")

SCRIPT = str(Path(__file__).with_name("mcp_server.py"))
NAMES = ["add", "shout", "fail", "read_env", "pid"]


def stdio_server(cwd: Path, **kwargs: Any) -> MCPServer:
    return MCPServer("test", command=sys.executable, args=(SCRIPT,),
                     env={"AW_PROBE": "hello"}, cwd=str(cwd), **kwargs)  # fmt: skip


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Tool]]:
    """One stdio session for the module (fixture setup and teardown run in different tasks)."""
    cwd = tmp_path_factory.mktemp("mcp-cwd")
    async with MCPToolset(stdio_server(cwd)) as tools:
        yield {t.name: t for t in tools}


class HttpServer:
    """The test server over streamable HTTP, in a thread; records each request's headers."""

    def __init__(self) -> None:
        import uvicorn

        spec = importlib.util.spec_from_file_location("aw_mcp_test_server", SCRIPT)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        app = module.server.streamable_http_app()
        self.headers: list[dict[str, str]] = []

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
            await app(scope, receive, send)

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/mcp"
        self.server = uvicorn.Server(uvicorn.Config(recording, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.server.started

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def http() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


# --- stdio, one session -----------------------------------------------------------------------


@shared_loop
async def test_tools_are_listed_with_their_schemas(shared: dict[str, Tool]) -> None:
    assert list(shared) == NAMES
    add = shared["add"]
    assert add.description == "Add two integers."
    assert add.parameters["type"] == "object"
    assert set(add.parameters["properties"]) == {"a", "b"}
    assert add.parameters["properties"]["a"]["type"] == "integer"
    assert sorted(add.parameters["required"]) == ["a", "b"]
    assert add.definition.parameters == add.parameters
    assert shared["pid"].parameters.get("properties") == {}
    assert add.timeout == 60.0


@shared_loop
async def test_calls_return_the_text_content(shared: dict[str, Tool], tmp_path: Path) -> None:
    assert await shared["add"].call({"a": 2, "b": 3}) == "5"
    assert await shared["shout"].call({"text": "hi"}) == "HI!"
    # "read.env" became read_env (a name every provider accepts) and still calls read.env;
    # the server got the configured environment and working directory
    text = await shared["read_env"].call({"name": "AW_PROBE"})
    assert text.startswith("hello in ")
    assert text.endswith("mcp-cwd0")
    assert (await shared["read_env"].call({"name": "HOME_NOT_SET_X"})).startswith("<unset>")


@shared_loop
async def test_the_session_is_reused_and_calls_may_overlap(shared: dict[str, Tool]) -> None:
    pids = await asyncio.gather(*(shared["pid"].call({}) for _ in range(5)))
    assert len(set(pids)) == 1
    sums = await asyncio.gather(*(shared["add"].call({"a": i, "b": i}) for i in range(5)))
    assert sums == ["0", "2", "4", "6", "8"]


@shared_loop
async def test_error_results_become_tool_errors_with_the_server_text(
    shared: dict[str, Tool],
) -> None:
    with pytest.raises(ToolError, match=r"MCP tool 'fail' failed: .*cannot comply: disk full"):
        await shared["fail"].call({"reason": "disk full"})
    with pytest.raises(ToolError, match=r"MCP tool 'add' failed: .*validation error"):
        await shared["add"].call({"a": "two"})  # the server validates against its schema
    assert await shared["add"].call({"a": 1, "b": 1}) == "2"  # control: the session survived


@shared_loop
async def test_agent_tool_loop_with_mcp_tools(shared: dict[str, Tool], tmp_path: Path) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    calls = [ToolCall("add", {"a": 2, "b": 40}, "c1"), ToolCall("fail", {"reason": "no"}, "c2")]
    model = TestModel(script=[calls, "done"])
    worker = agent(role="Calculator", model=model, tools=[shared["add"], shared["fail"]])(
        lambda task: None
    )
    runner = LocalRunner(sandbox_root=tmp_path)

    result = await runner.run(AgentWorkflow([worker], name="w"), "add things")

    assert result.status == "succeeded", result.errors
    add, fail = result.steps[0].tool_calls
    assert (add["name"], add["arguments"], add["result"], add["is_error"]) == (
        "add", {"a": 2, "b": 40}, "42", False
    )  # fmt: skip
    assert fail["name"] == "fail"
    assert fail["is_error"]
    assert "cannot comply: no" in fail["result"]
    assert "cannot comply: no" in str(model.requests[1])  # the model read the server's text


# --- stdio, a session per call ----------------------------------------------------------------


@shared_loop
async def test_per_call_mode(tmp_path: Path) -> None:
    tools = await load_mcp_tools(stdio_server(tmp_path, prefix="srv.", tools=("read.env",)))
    assert [t.name for t in tools] == ["srv_read_env"]
    assert await tools[0].call({"name": "AW_PROBE"}) == f"hello in {tmp_path}"


# --- connection failures ----------------------------------------------------------------------


@shared_loop
async def test_servers_that_cannot_be_reached(tmp_path: Path) -> None:
    missing = MCPServer("gone", command=str(tmp_path / "no-such-server"))
    with pytest.raises(ToolError, match=r"'gone': connecting failed.*FileNotFoundError"):
        await load_mcp_tools(missing)
    quits = MCPServer("quits", command=sys.executable, args=("-c", "pass"))
    with pytest.raises(ToolError, match=r"'quits': connecting failed.*Connection closed"):
        async with MCPToolset(quits):
            pass
    never_answers = ("-c", "import sys; sys.stdin.read()")
    silent = MCPServer("silent", command=sys.executable, args=never_answers, connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"'silent': connecting failed.*timed out"):
        await load_mcp_tools(silent)
    assert time.monotonic() - started < 2


# --- streamable HTTP --------------------------------------------------------------------------


@shared_loop
async def test_http_server_with_configured_headers(http: HttpServer) -> None:
    server = MCPServer("remote", url=http.url, headers={"Authorization": "Bearer test-token"})
    async with MCPToolset(server) as tools:
        by_name = {t.name: t for t in tools}
        assert list(by_name) == NAMES
        assert await by_name["add"].call({"a": 20, "b": 22}) == "42"
        with pytest.raises(ToolError, match="cannot comply: remote"):
            await by_name["fail"].call({"reason": "remote"})
    assert http.headers
    assert all(h.get("authorization") == "Bearer test-token" for h in http.headers)


@shared_loop
async def test_tools_fail_clearly_once_the_toolset_is_closed(http: HttpServer) -> None:
    toolset = MCPToolset(MCPServer("remote", url=http.url, prefix="t_", tools=("shout", "pid")))
    async with toolset as tools:
        assert [t.name for t in tools] == ["t_shout", "t_pid"]
        assert await tools[0].call({"text": "a"}) == "A!"
    with pytest.raises(ToolError, match="'remote' is not connected"):
        await tools[0].call({"text": "a"})


@shared_loop
async def test_http_per_call_mode_and_result_limit(http: HttpServer) -> None:
    server = MCPServer("remote", url=http.url, tools=("shout",), max_chars=10)
    (shout,) = await load_mcp_tools(server)
    assert await shout.call({"text": "abc"}) == "ABC!"
    assert await shout.call({"text": "x" * 25}) == "X" * 10 + "… [cut: 16 more chars]"
    with pytest.raises(ToolError, match=r"has no tools \['nope'\]"):
        await load_mcp_tools(MCPServer("remote", url=http.url, tools=("nope",)))


@shared_loop
async def test_tools_from_config(http: HttpServer) -> None:
    config = {"a": {"url": http.url, "tools": ["add"], "prefix": "a_"},
              "b": {"url": http.url, "tools": ["add"], "prefix": "b_"}}  # fmt: skip
    tools = await tools_from_config(config)
    assert [t.name for t in tools] == ["a_add", "b_add"]
    assert await tools[1].call({"a": 1, "b": 2}) == "3"
    clash = {"a": {"url": http.url, "tools": ["add"]}, "b": {"url": http.url, "tools": ["add"]}}
    with pytest.raises(DefinitionError, match=r"mcp_servers\.b: tool 'add' exists twice"):
        await tools_from_config(clash)


# --- configuration ----------------------------------------------------------------------------


def test_servers_from_config_shapes() -> None:
    mapping = {
        "files": {"command": "npx", "args": ["-y", "server-filesystem", "/data"],
                  "env": {"LOG": "warn"}, "cwd": "/srv", "prefix": "files_",
                  "tools": ["read_file"], "timeout": 5},
        "docs": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer x"}},
    }  # fmt: skip
    files, docs = servers_from_config(mapping)
    assert files == MCPServer("files", command="npx", args=("-y", "server-filesystem", "/data"),
                              env={"LOG": "warn"}, cwd="/srv", prefix="files_",
                              tools=("read_file",), timeout=5.0)  # fmt: skip
    assert (docs.url, dict(docs.headers), docs.command) == (
        "https://mcp.example.com/mcp", {"Authorization": "Bearer x"}, None
    )  # fmt: skip
    assert servers_from_config({"docs": mapping["docs"]}, allow_stdio=False)[0] == docs


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"x": {}}, "either command"),
        ({"x": {"command": "a", "url": "https://h/"}}, "either command"),
        ({"x": {"url": "ftp://h/"}}, r"http\(s\)://"),
        ({"x": {"url": "file:///etc/passwd"}}, r"http\(s\)://"),
        ({"x": {"command": "a", "shell": True}}, "unknown keys.*shell"),
        ({"x": {"command": ["a"]}}, "x.command"),
        ({"x": {"command": "a", "args": "-v"}}, "x.args"),
        ({"x": {"command": "a", "env": {"K": 1}}}, "x.env"),
        ({"x": {"command": "a", "timeout": 0}}, r"x\.timeout must be a positive number"),
        ({"x": {"command": "a", "timeout": True}}, "x.timeout"),
        ({"x": "npx server"}, "must be a mapping"),
        ([{"name": "x", "url": "https://h/"}], "mapping of server names"),
        ("servers", "mapping of server names"),
    ],
)
def test_bad_config_is_a_definition_error(config: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        servers_from_config(config)


def test_stdio_servers_can_be_refused() -> None:
    with pytest.raises(DefinitionError, match=r"stdio servers .* not allowed here"):
        servers_from_config({"x": {"command": "rm", "args": ["-rf", "/"]}}, allow_stdio=False)
    assert servers_from_config({"x": {"command": "uvx", "args": ["mcp-server-time"]}})
