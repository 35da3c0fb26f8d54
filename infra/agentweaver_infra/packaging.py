"""Function code assets: the handler directory plus the user's own agent modules.

"Agents as code": a project lists its modules in ``pyproject.toml``::

    [tool.agentweaver]
    modules = ["my_agents", "my_tools"]

Each is a top-level module or package found beside the ``pyproject.toml`` (or under
``src/``). They are copied next to ``handler.py`` in each function's asset, so on Lambda
they are importable from ``/var/task`` exactly as they are from the project root locally,
and ``AGENTWEAVER_MODULES`` tells the core which to import at cold start. Copying into a
staging directory (rather than bundling in Docker) keeps synthesis Docker-free, and the
asset hash changes exactly when the handler or the user's code does.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PackagingError", "UserModules", "find_user_modules", "stage_function_code"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset({"handler", "agentweaver", "boto3", "botocore"})
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".mypy_cache")


class PackagingError(ValueError):
    """The project's configuration names code that cannot be packaged; says what and where."""


@dataclass(frozen=True)
class UserModules:
    """The configured modules (in order) and where each one's source is."""

    names: tuple[str, ...]
    paths: tuple[Path, ...]

    @property
    def env(self) -> str:
        """The ``AGENTWEAVER_MODULES`` value: comma-separated, empty when there are none."""
        return ",".join(self.names)


def find_user_modules(project_root: Path) -> UserModules:
    """Read ``[tool.agentweaver] modules`` of ``project_root/pyproject.toml`` and locate each.

    A project without the file or the table has no modules: deploying the platform alone is
    valid. A listed module that is not found is an error, not a silent skip, because the
    workflows that name its agents would fail only at run time, in Lambda.
    """
    pyproject = project_root / "pyproject.toml"
    if not pyproject.is_file():
        return UserModules((), ())
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackagingError(f"{pyproject}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("agentweaver", {})
    modules = table.get("modules", [])
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise PackagingError(f"{pyproject}: [tool.agentweaver] modules must be a list of names")
    names: list[str] = []
    paths: list[Path] = []
    for name in modules:
        if not _IDENTIFIER.match(name):
            raise PackagingError(
                f"{pyproject}: [tool.agentweaver] modules: {name!r} is not a top-level module "
                "name (list the package, e.g. 'my_agents', not a dotted path or a file)"
            )
        if name in _RESERVED:
            raise PackagingError(
                f"{pyproject}: module name {name!r} would shadow the handler "
                "or the runtime; rename it"
            )
        if name in names:
            continue
        names.append(name)
        paths.append(_locate(project_root, name, pyproject))
    return UserModules(tuple(names), tuple(paths))


def _locate(root: Path, name: str, pyproject: Path) -> Path:
    for base in (root, root / "src"):
        package, module = base / name, base / f"{name}.py"
        if package.is_dir():
            return package
        if module.is_file():
            return module
    raise PackagingError(
        f"{pyproject}: module {name!r} not found: expected {root / name}/ or {root / name}.py "
        "(or the same under src/)"
    )


def stage_function_code(
    handler_dir: Path, modules: UserModules, destination: Path, *, required: bool = True
) -> Path:
    """Fill ``destination`` with ``handler_dir``'s files and the user's modules; return it.

    The directory is rebuilt from scratch each time so a module removed from the
    configuration also leaves the asset. ``required=False`` lets a handler that is not
    written yet stage as an empty placeholder module instead of failing synthesis.
    """
    handler = handler_dir / "handler.py"
    if not handler.is_file() and required:
        raise PackagingError(f"{handler}: the function's handler is missing")
    if destination.exists():
        shutil.rmtree(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if handler_dir.is_dir():
        shutil.copytree(handler_dir, destination, ignore=_IGNORE)
    else:
        destination.mkdir()
    if not (destination / "handler.py").exists():
        (destination / "handler.py").write_text(
            '"""Placeholder: this function\'s handler was not in the source tree at synthesis."""\n'
            "\n\ndef handler(event, context):  # type: ignore[no-untyped-def]\n"
            '    raise NotImplementedError("handler not packaged")\n',
            encoding="utf-8",
        )
    for name, source in zip(modules.names, modules.paths, strict=True):
        target = destination / (name if source.is_dir() else f"{name}.py")
        if target.exists():
            raise PackagingError(f"module {name!r} clashes with a file of {handler_dir}")
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORE)
        else:
            shutil.copy2(source, target)
    return destination
