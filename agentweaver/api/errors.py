"""One error shape for every failure: ``{"detail": message, "type": name, ...}``.

AgentWeaver exceptions map to 4xx by kind; anything unexpected is logged with the request
id and answered 500 with that id only, so no internals (paths, SQL, keys) reach a client.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentweaver.exceptions import (
    AgentWeaverError,
    ConfigurationError,
    DefinitionError,
    InvalidData,
    StoreConflict,
    StoreError,
    WorkflowValidationError,
)

__all__ = ["install_error_handlers"]

log = logging.getLogger("agentweaver.api")


def _status(exc: AgentWeaverError) -> int:
    from agentweaver.security.principal import AuthError

    if isinstance(exc, AuthError):
        from agentweaver.security.jwt import JwksUnavailable

        return 503 if isinstance(exc, JwksUnavailable) else 401
    if isinstance(exc, StoreConflict):
        return 409
    if isinstance(exc, DefinitionError):
        return 422
    if isinstance(exc, InvalidData):
        return 400
    if isinstance(exc, StoreError | ConfigurationError):
        return 503
    return 400


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    issues = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        issues.append({"path": where, "message": str(e.get("msg", "invalid"))})
    first = issues[0] if issues else {"path": "body", "message": "invalid request"}
    return f"{first['path']}: {first['message']}", issues


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentWeaverError)
    async def agentweaver_error(request: Request, exc: AgentWeaverError) -> JSONResponse:
        body: dict[str, object] = {"detail": str(exc), "type": type(exc).__name__}
        if isinstance(exc, WorkflowValidationError):
            body["issues"] = exc.to_dict()["issues"]
        status = _status(exc)
        if status >= 500:
            log.error("request %s failed: %s", _request_id(request), type(exc).__name__)
            body = {"detail": "the service is unavailable; try again", "type": "Unavailable",
                    "request_id": _request_id(request)}  # fmt: skip
        return JSONResponse(body, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, issues = _validation_message(exc)
        return JSONResponse(
            {"detail": message, "type": "InvalidRequest", "issues": issues}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        return JSONResponse(
            {"detail": exc.detail, "type": _http_type(exc.status_code)},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = _request_id(request)
        log.exception("request %s: unexpected %s", request_id, type(exc).__name__)
        return JSONResponse(
            {"detail": "internal error", "type": "InternalError", "request_id": request_id},
            status_code=500,
        )


def _http_type(status: int) -> str:
    return {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 413: "PayloadTooLarge", 429: "TooManyRequests"}.get(
        status, "HTTPError")  # fmt: skip


def _request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if not rid:
        rid = uuid.uuid4().hex
        request.state.request_id = rid
    return str(rid)
