"""Where MCP servers are: the ``mcp_servers`` configuration, checked without starting anything.

Kept apart from ``agentweaver.tools.mcp`` (which talks to the servers) so definitions can be
validated where the ``mcp`` package is not installed.

Configuration (YAML ``mcp_servers:``, read by ``servers_from_config``)::

    mcp_servers:
      files:                                  # the server's name, used in messages
        command: npx                          # stdio: the program and its arguments
        args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"]
        env: {LOG_LEVEL: warn}                # added to a minimal environment (PATH, HOME...)
        cwd: /srv
        prefix: "files_"                      # tool names become files_read_file...
        tools: [read_file, list_directory]    # optional allow-list of the server's tools
      docs:
        url: https://mcp.example.com/mcp      # streamable HTTP
        headers: {Authorization: "Bearer ..."}
        timeout: 60                           # seconds per call (default 60)

A stdio server is a program run on this machine, and an HTTP server is contacted directly (not
through the SSRF-safe client): both are operator configuration, never something a model (or a
tenant of a shared service) should be able to choose — see ``allow_stdio``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentweaver.exceptions import DefinitionError

__all__ = ["MCPServer", "servers_from_config"]

_KINDS: dict[str, tuple[Any, str]] = {  # mcp_servers keys: the type and how to say it
    **dict.fromkeys(("command", "cwd", "url", "prefix"), (str, "a string")),
    **dict.fromkeys(("args", "tools"), (list, "a list of strings")),
    **dict.fromkeys(("env", "headers"), (Mapping, "a mapping of names to strings")),
    **dict.fromkeys(("timeout", "connect_timeout"), (int | float, "a positive number")),
    "max_chars": (int, "a positive integer"),
}


@dataclass(frozen=True)
class MCPServer:
    """Where an MCP server is: a ``command`` to run (stdio) or a ``url`` (streamable HTTP)."""

    name: str = "mcp"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    prefix: str = ""  # put before each tool's name, to tell servers' tools apart
    tools: tuple[str, ...] | None = None  # only these of the server's tools (None: all)
    timeout: float = 60.0  # per tool call
    connect_timeout: float = 30.0  # start (or reach) the server and list its tools
    max_chars: int = 100_000  # longer results are cut, to spare the model's context

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise DefinitionError(f"MCP server {self.name!r}: give either command (stdio) or url")
        if self.url is not None and not re.match(r"https?://", self.url):
            raise DefinitionError(f"MCP server {self.name!r}: url must start with http(s)://")
        object.__setattr__(self, "args", tuple(self.args))
        if self.tools is not None:
            object.__setattr__(self, "tools", tuple(self.tools))

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> MCPServer:
        """One entry of ``mcp_servers``; wrong keys or types are a ``DefinitionError``."""
        where = f"mcp_servers.{name}"
        unknown = sorted(set(config) - set(_KINDS))
        if unknown:
            raise DefinitionError(f"{where}: unknown keys {unknown} (known: {', '.join(_KINDS)})")
        return cls(name, **{key: _checked(where, key, value) for key, value in config.items()})


def _checked(where: str, key: str, value: Any) -> Any:
    """``value`` if it has the type ``key`` needs (never echoed back: it may be a secret)."""
    kind, wanted = _KINDS[key]
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and kind is list:
        ok, value = all(isinstance(v, str) for v in value), tuple(value)
    elif ok and kind is Mapping:
        ok = all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        value = dict(value)
    elif ok and kind is not str:
        ok = value > 0
    if not ok:
        raise DefinitionError(f"{where}.{key} must be {wanted}")
    return value


def servers_from_config(config: Any, *, allow_stdio: bool = True) -> list[MCPServer]:
    """``mcp_servers``: a mapping of server names to their settings.

    Pass ``allow_stdio=False`` where definitions come from people who must not run programs
    on this machine (a shared service): stdio servers are then refused.
    """
    if not isinstance(config, Mapping):
        raise DefinitionError("mcp_servers must be a mapping of server names to settings")
    servers = []
    for name, settings in config.items():
        if not isinstance(settings, Mapping):
            raise DefinitionError(f"mcp_servers.{name} must be a mapping")
        server = MCPServer.from_config(str(name), settings)
        if server.command is not None and not allow_stdio:
            raise DefinitionError(
                f"mcp_servers.{name}: stdio servers (command) are not allowed here; use a url"
            )
        servers.append(server)
    return servers
