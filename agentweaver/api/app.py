"""``create_app(services)``: the FastAPI application, for every deployment."""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from agentweaver import __version__
from agentweaver.api.console import mount_console
from agentweaver.api.errors import install_error_handlers
from agentweaver.api.routers import (
    catalog,
    events,
    executions,
    keys,
    system,
    usage,
    workflows,
)
from agentweaver.api.services import Services

__all__ = ["create_app"]


def create_app(
    services: Services, *, manage_executor: bool = True, console_dir: Path | None = None
) -> FastAPI:
    """The API over ``services``; with ``manage_executor`` it starts and stops the executor.
    ``console_dir``: a built web console to serve at ``/`` (else ``/`` answers a hint)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_executor:
            await services.executor.start()
        yield
        if manage_executor:
            await services.executor.close()

    app = FastAPI(
        title="AgentWeaver API",
        version=__version__,
        description="Create multi-agent workflows, run them, watch them and see what they cost.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for module in (workflows, executions, events, usage, keys, catalog, system):
        app.include_router(module.router)
    mount_console(app, console_dir)  # after the API routes, so they keep precedence
    app.openapi = _quiet(app.openapi)  # type: ignore[method-assign]

    @app.middleware("http")
    async def around(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > services.max_body_bytes:
            response: Response = JSONResponse(
                {"detail": f"request body over {services.max_body_bytes} bytes",
                 "type": "PayloadTooLarge"}, status_code=413)  # fmt: skip
        else:
            response = await call_next(request)
        response.headers["x-request-id"] = request.state.request_id
        _count(services, request, response.status_code)
        return response

    return app


def _count(services: Services, request: Request, status: int) -> None:
    route = request.scope.get("route")
    endpoint = getattr(route, "path", "unmatched")
    if services.metrics is not None:
        services.metrics.api_calls.labels(endpoint, request.method, str(status)).inc()
    owner = getattr(request.state, "owner", None)
    if owner and endpoint not in ("/health", "/metrics"):  # per-tenant API calls per day
        day = datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%d")
        services.store.add_usage(owner, day, {"api_calls": 1})


def _quiet(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The schema without pydantic's warnings about FastAPI's own body parameters (an alias
    FastAPI sets on a model-typed body, sentinel defaults): noise on a user's terminal."""

    def openapi() -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The 'alias' attribute with value")
            warnings.filterwarnings("ignore", message="Default value MISSING is not JSON")
            return build()

    return openapi
