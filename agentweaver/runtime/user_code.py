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

from agentweaver.exceptions import ConfigurationError

__all__ = ["allowed_function", "load_user_modules", "modules_from_env"]

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


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
    """Whether ``package.module:name`` lies inside one of the project's own modules."""
    module = path.partition(":")[0]
    return any(module == m or module.startswith(m + ".") for m in modules)
