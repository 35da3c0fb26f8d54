"""Vendor-neutral conversation types: what goes to a model and what comes back.

Plain dataclasses: they sit on the hot path of every step, and adapters translate them
to and from each provider's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "AssistantMessage",
    "ModelMessage",
    "ModelRequestParameters",
    "ModelResponse",
    "ModelSettings",
    "SystemMessage",
    "ToolCall",
    "ToolDefinition",
    "ToolResultMessage",
    "Usage",
    "UserMessage",
]


@dataclass(slots=True)
class Usage:
    """Tokens one or more model requests used; adds up across requests and steps."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.requests + other.requests,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "requests": self.requests,
        }


@dataclass(slots=True)
class ToolCall:
    """A model's request to run one tool; ``id`` pairs it with its result."""

    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass(slots=True)
class ToolDefinition:
    """What a model is told about a tool: the same shape every provider's function calling takes."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class SystemMessage:
    content: str
    role: Literal["system"] = "system"


@dataclass(slots=True)
class UserMessage:
    content: str
    role: Literal["user"] = "user"


@dataclass(slots=True)
class AssistantMessage:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    role: Literal["assistant"] = "assistant"


@dataclass(slots=True)
class ToolResultMessage:
    tool_call_id: str
    name: str
    content: str
    is_error: bool = False
    role: Literal["tool"] = "tool"


ModelMessage = SystemMessage | UserMessage | AssistantMessage | ToolResultMessage


@dataclass(slots=True)
class ModelSettings:
    """Sampling settings an agent passes on every request; ``None`` means the provider default."""

    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ModelRequestParameters:
    """What the answer may contain: tools to call, a JSON answer, or one of fixed choices.

    ``choices`` is how a router agent is asked to pick a case; providers that support
    enum-constrained output use it, and ``TestModel`` picks deterministically from it.
    """

    tools: list[ToolDefinition] = field(default_factory=list)
    output_json: bool = False
    choices: dict[str, str] | None = None  # case name -> description
    output_schema: dict[str, Any] | None = None  # JSON schema the answer must satisfy


@dataclass(slots=True)
class ModelResponse:
    """One answer: text and/or tool calls, with the usage and the model that produced it."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model_name: str = ""
    finish_reason: str = "stop"
