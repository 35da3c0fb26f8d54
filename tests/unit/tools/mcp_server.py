"""A tiny MCP server for the tests, spoken to over stdio (``python mcp_server.py``).

``python mcp_server.py --http PORT`` serves the same tools over streamable HTTP instead.
"""

from __future__ import annotations

import os
import sys

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]
    from mcp.server.fastmcp.exceptions import ToolError  # type: ignore[no-redef]

server = MCPServer("agentweaver-test", log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper() + "!"


@server.tool()
def fail(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ToolError(f"cannot comply: {reason}")


@server.tool(name="read.env")
def read_env(name: str) -> str:
    """Read one of the server's environment variables (and its working directory)."""
    return f"{os.environ.get(name, '<unset>')} in {os.getcwd()}"


@server.tool()
def pid() -> int:
    """The server's process id: the same one for every call of a session."""
    return os.getpid()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
