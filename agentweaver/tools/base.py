"""``@tool``: a plain Python function the model may call, with a JSON schema from its hints."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_type_hints, overload

from agentweaver.models.messages import ToolDefinition
from agentweaver.tools.context import ToolContext

__all__ = ["Tool", "ToolRegistry", "tool"]


@dataclass
class Tool:
    """A callable the model can ask for; arguments are validated before the function runs."""

    name: str
    description: str
    function: Callable[..., Any]
    parameters: dict[str, Any]
    timeout: float | None = None
    _validator: Any = field(default=None, repr=False)
    context_param: str | None = None  # the parameter that receives the ToolContext

    @property
    def definition(self) -> ToolDefinition:
        return ToolDefinition(self.name, self.description, self.parameters)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Coerce and check arguments; raises ``pydantic.ValidationError`` with the details."""
        if self._validator is None:
            return arguments
        model = self._validator.model_validate(arguments)
        return {name: getattr(model, name) for name in type(model).model_fields}

    async def call(self, arguments: dict[str, Any], context: ToolContext | None = None) -> Any:
        values = self.validate(arguments)
        if self.context_param is not None:
            values[self.context_param] = context or ToolContext()
        if inspect.iscoroutinefunction(self.function):
            coro = self.function(**values)
        else:
            coro = asyncio.to_thread(self.function, **values)
        if self.timeout is None:
            return await coro
        async with asyncio.timeout(self.timeout):
            return await coro


def _schema_for(function: Callable[..., Any]) -> tuple[dict[str, Any], Any, str | None]:
    from pydantic import create_model

    # ToolContext resolves even where it was imported locally (string annotations)
    hints = get_type_hints(function, localns={"ToolContext": ToolContext})
    fields: dict[str, Any] = {}
    context_param = None
    for name, param in inspect.signature(function).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if hints.get(name) is ToolContext:  # injected by the runtime, never by the model
            context_param = name
            continue
        annotation = hints.get(name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
    model = create_model(f"{function.__name__}_args", **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema, model, context_param


@overload
def tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    register: bool = True,
) -> Tool: ...


@overload
def tool(
    function: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    register: bool = True,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    register: bool = True,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a function into a ``Tool`` (and register it by name so definitions can use it)."""

    def wrap(fn: Callable[..., Any]) -> Tool:
        schema, validator, context_param = _schema_for(fn)
        doc = inspect.getdoc(fn) or ""
        made = Tool(
            name=name or fn.__name__,
            description=description or doc.split("\n\n")[0].strip(),
            function=fn,
            parameters=schema,
            timeout=timeout,
            _validator=validator,
            context_param=context_param,
        )
        if register:
            ToolRegistry.register(made)
        return made

    return wrap(function) if function is not None else wrap


class ToolRegistry:
    """Tools by name, process-wide: YAML definitions refer to tools by these names."""

    _tools: ClassVar[dict[str, Tool]] = {}

    @classmethod
    def register(cls, item: Tool) -> Tool:
        cls._tools[item.name] = item
        return item

    @classmethod
    def _with_builtins(cls) -> dict[str, Tool]:
        """Registered tools plus the built-ins (imported on first look-up; yours win a clash)."""
        from agentweaver.tools.builtin import BUILTINS

        for item in BUILTINS:
            cls._tools.setdefault(item.name, item)
        return cls._tools

    @classmethod
    def names(cls) -> list[str]:
        return sorted(cls._with_builtins())

    @classmethod
    def has(cls, name: str) -> bool:
        return name in cls._with_builtins()

    @classmethod
    def get_tools(cls, names: list[str | Tool]) -> list[Tool]:
        """The spec's lookup; an unknown name is an error naming the tools that do exist."""
        from agentweaver.exceptions import ToolNotFound

        found: list[Tool] = []
        for item in names:
            if isinstance(item, Tool):
                found.append(item)
                continue
            tools = cls._with_builtins()
            if item not in tools:
                known = ", ".join(cls.names()) or "none registered"
                raise ToolNotFound(f"unknown tool {item!r} (known: {known})")
            found.append(tools[item])
        return found

    @classmethod
    def unregister(cls, name: str) -> None:
        cls._tools.pop(name, None)
