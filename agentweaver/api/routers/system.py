"""Health and metrics: unauthenticated, and free of tenant data on a hosted deployment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from agentweaver import __version__

router = APIRouter(tags=["system"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    services = request.app.state.services
    return {"status": "ok", "version": __version__, **services.executor.describe()}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text (embedded servers; on AWS metrics go to CloudWatch)."""
    services = request.app.state.services
    if services.metrics is None:
        raise HTTPException(404, "metrics are published to CloudWatch on this deployment")
    services.metrics.active.set(services.executor.active())
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")
