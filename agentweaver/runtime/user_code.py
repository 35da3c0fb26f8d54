"""Agents as code: the project's own modules (``@agent`` functions, ``@tool``s), imported once.

A deployment names them in ``[tool.agentweaver] modules`` (``AGENTWEAVER_MODULES`` in the
functions' environment): importing them registers their tools, and a workflow saved
through the API may reference their functions (``function: my_agents:summarise``). Code
outside those modules is never imported for an API caller: a definition is data from a
tenant, and an import path in it would otherwise run whatever the process can reach.
"""

from __future__ import annotations

import importlib
import os
import re
from typing import TYPE_CHECKING

from agentweaver.exceptions import ConfigurationError, ValidationIssue

if TYPE_CHECKING:
    from agentweaver.workflow.definition import WorkflowDefinition

__all__ = [
    "allowed_function",
    "check_code",
    "load_user_modules",
    "modules_from_env",
    "refuse_foreign_code",
]

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # one public name: no dots, no leading _


def modules_from_env() -> tuple[str, ...]:
    raw = os.environ.get("AGENTWEAVER_MODULES", "")
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        if not _MODULE.match(name):
            raise ConfigurationError(f"AGENTWEAVER_MODULES: {name!r} is not a module name")
    return names


def load_user_modules(names: tuple[str, ...]) -> tuple[str, ...]:
    """Import each module (registering its tools); a missing one is a clear error at start."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigurationError(
                f"cannot import {name!r} named in AGENTWEAVER_MODULES ([tool.agentweaver] "
                f"modules): {exc}; was it packaged with the function?"
            ) from None
    return names


def allowed_function(path: str, modules: tuple[str, ...]) -> bool:
    """Whether ``package.module:name`` names a top-level public name of one of the project's
    own modules. Only one name: ``my_agents:os.system`` would reach whatever they import."""
    module, _, attr = path.partition(":")
    return bool(_NAME.match(attr)) and _within(module, modules)


def _within(module: str, modules: tuple[str, ...]) -> bool:
    return any(module == m or module.startswith(m + ".") for m in modules)


def check_code(definition: WorkflowDefinition, modules: tuple[str, ...]) -> list[ValidationIssue]:
    """What in a tenant's definition would import code the deployment did not name.

    Every import path (agent functions, output schemas) must be a public name of one of
    ``modules`` and, once imported, be *defined* there (a name the module merely imported,
    ``from os import system``, is refused). Checked when a definition is saved and again
    before a stored one runs, so a definition saved under other rules cannot slip through.
    """
    issues: list[ValidationIssue] = []
    listed = ", ".join(modules) or "none configured"
    for where, path in _code_paths(definition):
        if where == "tool_settings.web_search.function":
            issues.append(ValidationIssue(where, "functions are not accepted over the API"))
            continue
        if not allowed_function(path, modules):
            issues.append(ValidationIssue(
                where, f"{path!r} is not in this deployment's agent modules ({listed}): package "
                "your agent code with the deployment ([tool.agentweaver] modules) and reference "
                "one of its functions as module:name"))  # fmt: skip
            continue
        defined_in = _defined_in(path)
        if defined_in is None or not _within(defined_in, modules):
            message = f"{path!r} is not defined in the deployment's agent modules ({listed})"
            issues.append(ValidationIssue(where, message))
    return issues


def refuse_foreign_code(definition: WorkflowDefinition, modules: tuple[str, ...]) -> None:
    """``check_code`` before a stored definition runs: ``DefinitionError`` naming the paths."""
    from agentweaver.exceptions import DefinitionError

    issues = check_code(definition, modules)
    if issues:
        raise DefinitionError("; ".join(f"{i.path}: {i.message}" for i in issues))


def _code_paths(definition: WorkflowDefinition) -> list[tuple[str, str]]:
    paths: list[tuple[str, str]] = []
    for name, spec in definition.agents.items():
        if spec.function:
            paths.append((f"agents.{name}.function", spec.function))
        if spec.output_schema:
            paths.append((f"agents.{name}.output_schema", spec.output_schema))
    if "function" in definition.tool_settings.get("web_search", {}):
        paths.append(("tool_settings.web_search.function", ""))
    return paths


def _defined_in(path: str) -> str | None:
    from agentweaver.agents import Agent
    from agentweaver.exceptions import DefinitionError
    from agentweaver.workflow.binding import import_object

    try:
        target = import_object(path)
    except DefinitionError:
        return None
    if isinstance(target, Agent):
        target = target.func
    module = getattr(target, "__module__", None)
    return module if isinstance(module, str) else None
