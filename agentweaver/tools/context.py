"""What a tool may know about the call it serves: whose, which execution, where it may write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ToolContext"]


@dataclass(frozen=True)
class ToolContext:
    """Passed to any tool that declares a parameter annotated ``ToolContext``.

    The model never sees or fills it: it is not in the tool's schema. ``settings`` holds the
    configuration of each tool by name (allowed hosts, database URL, auth headers...), taken
    from the workflow's ``tool_settings`` and the runner, never from the model's arguments.
    """

    tenant: str = "local"
    execution_id: str = ""
    step_id: str = ""
    sandbox: Path | None = None  # the directory file tools may use, per tenant and execution
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def settings_for(self, tool_name: str) -> Mapping[str, Any]:
        return self.settings.get(tool_name, {})
