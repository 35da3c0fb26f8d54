"""Tools agents can call."""

from agentweaver.tools.base import Tool, ToolRegistry, tool

__all__ = ["Tool", "ToolRegistry", "tool"]
