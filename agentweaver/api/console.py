"""The web console: the built single-page app served at ``/``, and the examples it opens with.

``mount_console`` is called after every API router, so API routes keep precedence: a GET that
no API route answers gets the file it names from the build, else ``index.html`` (the app's
own router draws the page). Paths under an API prefix never fall back, so a mistyped API
call still answers a JSON 404. Without a build, ``/`` answers a short hint instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

if TYPE_CHECKING:
    from agentweaver.stores.base import Store

__all__ = ["console_hint", "default_console_dir", "load_examples", "mount_console"]

log = logging.getLogger("agentweaver.api")

_HINT = (
    "<!doctype html><meta charset=utf-8><title>AgentWeaver API</title>"
    "<p>The AgentWeaver API is running; the web console is not built. "
    "Run <code>make serve</code> (or <code>cd frontend &amp;&amp; npm ci &amp;&amp; "
    "npm run build</code>) and restart. API docs: <a href=/docs>/docs</a>.</p>"
)


def default_console_dir() -> Path | None:
    """``frontend/dist`` beside the package in a source checkout, if it was built."""
    candidate = Path(__file__).resolve().parents[2] / "frontend" / "dist"
    return candidate if (candidate / "index.html").is_file() else None


def console_hint() -> HTMLResponse:
    return HTMLResponse(_HINT)


def mount_console(app: FastAPI, directory: Path | None) -> None:
    """Serve the build in ``directory`` (SPA fallback), or the hint at ``/`` without one."""
    if directory is None or not (directory / "index.html").is_file():
        app.add_api_route("/", console_hint, methods=["GET"], include_in_schema=False)
        return
    root = directory.resolve()
    index = root / "index.html"
    prefixes: set[str] = set()

    def api_prefixes() -> set[str]:  # from the schema: included routers hide their paths
        if not prefixes:
            paths = [*app.openapi().get("paths", {}), "/docs", "/redoc", "/openapi.json"]
            prefixes.update(p.strip("/").split("/")[0] for p in paths if p.strip("/"))
        return prefixes

    def serve(full_path: str = "") -> Response:
        first = full_path.split("/", 1)[0]
        if first in api_prefixes():
            raise HTTPException(404, f"no API route at /{full_path}")
        if full_path:
            target = (root / full_path).resolve()
            if target.is_relative_to(root) and target.is_file():
                cache = "public, max-age=31536000, immutable" if first == "assets" else "no-cache"
                return FileResponse(target, headers={"Cache-Control": cache})
            if "." in full_path.rsplit("/", 1)[-1]:  # a missing file, not an app route
                raise HTTPException(404, f"no file at /{full_path}")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    def runtime_config() -> dict[str, str]:
        """What a hosted console reads from the ``config.json`` its stack writes; here the
        API is this origin and the local token signs in, so there is nothing to say."""
        return {}

    app.add_api_route("/config.json", runtime_config, methods=["GET"], include_in_schema=False)
    app.add_api_route("/", serve, methods=["GET"], include_in_schema=False)
    app.add_api_route("/{full_path:path}", serve, methods=["GET"], include_in_schema=False)


def load_examples(
    store: Store, directory: Path, owner: str, code_modules: tuple[str, ...] = ()
) -> list[str]:
    """Save each ``*.yaml`` workflow in ``directory`` for ``owner`` unless one of that name
    exists; the names saved. A file that does not validate is skipped with a warning."""
    from agentweaver.exceptions import AgentWeaverError
    from agentweaver.runtime.user_code import check_code
    from agentweaver.stores.records import WorkflowRecord
    from agentweaver.workflow.ir import build_workflow
    from agentweaver.workflow.loader import load_definition

    existing = {r.name for r in store.list_workflows(owner)}
    saved: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            definition = load_definition(path)
            build_workflow(definition)
        except (AgentWeaverError, OSError, ValueError) as exc:
            log.warning("example %s skipped: %s", path.name, exc)
            continue
        if definition.name in existing or check_code(definition, code_modules):
            continue  # saved already, or naming code this server would refuse to run
        store.save_workflow(
            WorkflowRecord.first_version(owner, definition), expected_version=0
        )
        existing.add(definition.name)
        saved.append(definition.name)
    return saved
