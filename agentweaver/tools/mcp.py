"""Tools served by Model Context Protocol servers, as AgentWeaver tools.

An MCP server (a local process over stdio, or a remote endpoint over streamable HTTP) lists
its tools with a name, a description and a JSON schema, so each becomes a ``Tool``:
``async with MCPToolset(server) as tools:`` keeps one session (one server process) for every
call in the block; ``await load_mcp_tools(server)`` opens a fresh session per call (nothing to
close, a server start per call). A server's error result becomes a ``ToolError`` with the
server's text, so the model reads what went wrong. ``mcp`` is imported only when used.

Servers are described by ``MCPServer`` (``agentweaver.tools.mcp_config``: the YAML
``mcp_servers:`` shape, and why stdio servers are operator-only configuration).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from agentweaver.exceptions import ConfigurationError, DefinitionError, ToolError
from agentweaver.tools.base import Tool
from agentweaver.tools.mcp_config import MCPServer, servers_from_config

__all__ = ["MCPServer", "MCPToolset", "load_mcp_tools", "servers_from_config", "tools_from_config"]

_NAME = re.compile(r"[^A-Za-z0-9_-]")  # what every model provider accepts in a tool name

Caller = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


# --- sessions -------------------------------------------------------------------------------


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the exception groups anyio task groups raise."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _failure(server: MCPServer, doing: str, exc: BaseException) -> ToolError:
    leaf = _leaf(exc)
    if isinstance(leaf, ToolError):
        return leaf
    what = "timed out" if isinstance(leaf, TimeoutError) else f"{type(leaf).__name__}: {leaf}"
    return ToolError(f"MCP server {server.name!r}: {doing} failed ({what})")


def _transport(server: MCPServer, stack: AsyncExitStack) -> Any:
    """The stdio or streamable-HTTP transport context for ``server`` (mcp 1.x and 2.x)."""
    if server.command is not None:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=server.command, args=list(server.args), env=dict(server.env) or None,
            cwd=server.cwd,
        )  # fmt: skip
        return stdio_client(params)
    import mcp.client.streamable_http as http

    assert server.url is not None
    if hasattr(http, "streamable_http_client"):  # a client we configure and close ourselves
        from mcp.shared._httpx_utils import create_mcp_http_client

        client = create_mcp_http_client(headers=dict(server.headers))
        stack.push_async_callback(client.aclose)
        return http.streamable_http_client(server.url, http_client=client)
    legacy = getattr(http, "streamablehttp_client")  # noqa: B009 - mcp < 1.24
    return legacy(server.url, headers=dict(server.headers))


@asynccontextmanager
async def _session(server: MCPServer) -> AsyncIterator[Any]:
    """An initialized ``mcp.ClientSession`` with ``server``, closed (process ended) on exit."""
    try:
        from mcp import ClientSession
    except ImportError:
        raise ConfigurationError(
            "MCP tools need the mcp package: pip install 'agentweaver[mcp]'"
        ) from None
    try:
        async with AsyncExitStack() as stack:
            try:
                streams = await stack.enter_async_context(_transport(server, stack))
                session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
                async with asyncio.timeout(server.connect_timeout):
                    await session.initialize()
            except Exception as exc:
                raise _failure(server, "connecting", exc) from exc
            yield session
    except BaseExceptionGroup as group:  # anyio's task groups wrap whatever crossed them
        leaf = _leaf(group)
        if not isinstance(leaf, Exception):
            raise
        raise _failure(server, "the session", leaf) from group


async def _list(server: MCPServer, session: Any) -> list[dict[str, Any]]:
    from mcp import types

    listed: list[dict[str, Any]] = []
    cursor = None
    try:
        async with asyncio.timeout(server.connect_timeout):
            while True:
                params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
                page = _dump(await session.list_tools(params=params))
                listed.extend(page.get("tools", []))
                cursor = page.get("nextCursor")
                if not cursor:
                    break
    except Exception as exc:
        raise _failure(server, "listing tools", exc) from exc
    if server.tools is not None:
        missing = set(server.tools) - {t["name"] for t in listed}
        if missing:
            raise ToolError(f"MCP server {server.name!r} has no tools {sorted(missing)}")
        listed = [t for t in listed if t["name"] in server.tools]
    return listed


def _dump(model: Any) -> dict[str, Any]:
    """A result as its wire JSON (camelCase keys in every mcp version)."""
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


async def _call_on(server: MCPServer, session: Any, name: str, args: dict[str, Any]) -> Any:
    try:
        return _dump(await session.call_tool(name, args))
    except Exception as exc:
        raise _failure(server, f"calling {name!r}", exc) from exc


# --- tools ----------------------------------------------------------------------------------


def _render(server: MCPServer, name: str, result: dict[str, Any]) -> str:
    """The text a model reads; a server's error result becomes a ``ToolError`` with its text."""
    parts: list[str] = []
    for block in result.get("content", []):
        inner = block.get("resource", {})  # an embedded resource: its text, if it has one
        text = block.get("text", inner.get("text"))
        if isinstance(text, str):
            parts.append(text)
        else:  # images, audio, binary resources, links: say what is there
            what = block.get("uri") or inner.get("uri") or block.get("mimeType", "")
            parts.append(f"[{block.get('type')} {what} not shown]")
    if not parts and "structuredContent" in result:
        parts.append(json.dumps(result["structuredContent"], ensure_ascii=False))
    text = "\n".join(parts)
    if result.get("isError"):
        raise ToolError(f"MCP tool {name!r} failed: {text or 'no message from the server'}")
    if len(text) > server.max_chars:
        text = f"{text[: server.max_chars]}… [cut: {len(text) - server.max_chars} more chars]"
    return text


def _make_tools(server: MCPServer, listed: list[dict[str, Any]], call: Caller) -> list[Tool]:
    tools: list[Tool] = []
    taken: set[str] = set()
    for entry in listed:
        remote = entry["name"]
        base = _NAME.sub("_", f"{server.prefix}{remote}")[:64] or "tool"
        local, n = base, 1
        while local in taken:  # two names that only differed in characters we replaced
            n += 1
            local = f"{base[:60]}_{n}"
        taken.add(local)
        schema = entry.get("inputSchema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            schema = {"type": "object", "properties": {}}

        description = entry.get("description") or entry.get("title") or f"{remote} ({server.name})"
        run = _runner(server, remote, call)
        tools.append(Tool(local, description, run, dict(schema), timeout=server.timeout))
    return tools


def _runner(server: MCPServer, remote: str, call: Caller) -> Callable[..., Awaitable[str]]:
    async def run(**arguments: Any) -> str:  # the server validates against its own schema
        return _render(server, remote, await call(remote, arguments))

    return run


async def load_mcp_tools(server: MCPServer) -> list[Tool]:
    """The server's tools; each call opens its own session (see ``MCPToolset`` to reuse one)."""
    async with _session(server) as session:
        listed = await _list(server, session)

    async def call(name: str, arguments: dict[str, Any]) -> Any:
        async with _session(server) as session:
            return await _call_on(server, session, name, arguments)

    return _make_tools(server, listed, call)


async def tools_from_config(config: Any, *, allow_stdio: bool = True) -> list[Tool]:
    """The tools of every server in ``mcp_servers``, in per-call mode; names must not clash."""
    tools: dict[str, Tool] = {}
    for server in servers_from_config(config, allow_stdio=allow_stdio):
        for item in await load_mcp_tools(server):
            if item.name in tools:
                raise DefinitionError(
                    f"mcp_servers.{server.name}: tool {item.name!r} exists twice; set a prefix"
                )
            tools[item.name] = item
    return list(tools.values())


class MCPToolset:
    """``async with MCPToolset(server) as tools:``: one session for every call in the block.

    The session lives in a task of its own, so the block may be entered and left from
    different tasks (as test fixtures and runners do); calls may come from any task and run
    concurrently. After the block, the tools raise ``ToolError``.
    """

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self.tools: list[Tool] = []
        self._session: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    async def __aenter__(self) -> list[Tool]:
        ready: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._closing = asyncio.Event()
        self._task = asyncio.create_task(self._hold(ready), name=f"mcp:{self.server.name}")
        try:
            listed = await ready
        except BaseException:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            raise
        self.tools = _make_tools(self.server, listed, self._call)
        return self.tools

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _hold(self, ready: asyncio.Future[list[dict[str, Any]]]) -> None:
        """Open, serve until closed, close: in one task, as anyio's cancel scopes require."""
        try:
            async with _session(self.server) as session:
                listed = await _list(self.server, session)
                self._session = session
                ready.set_result(listed)
                await self._closing.wait()
        except Exception as exc:  # after ``ready``: the server went away; calls will say so
            if not ready.done():
                ready.set_exception(exc)
        except BaseException:  # cancelled (by __aenter__'s caller) or exiting
            ready.cancel()
            raise
        finally:
            self._session = None

    async def _call(self, name: str, arguments: dict[str, Any]) -> Any:
        session = self._session
        if session is None:
            raise ToolError(
                f"MCP server {self.server.name!r} is not connected (the toolset was closed or"
                " the server went away)"
            )
        return await _call_on(self.server, session, name, arguments)
