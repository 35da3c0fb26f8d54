"""Tools agents can call."""

from agentweaver.tools.base import Tool, ToolRegistry, tool
from agentweaver.tools.context import ToolContext

__all__ = ["Tool", "ToolContext", "ToolRegistry", "tool"]
