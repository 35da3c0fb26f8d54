"""The embedded executor: cancel a running execution, recover what a stopped server left."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from support.api import Api, create, wait

from agentweaver.api import create_app
from agentweaver.api.local import local_services
from agentweaver.models.messages import ModelResponse
from agentweaver.models.test import FunctionModel
from agentweaver.stores.records import ExecutionRecord


async def slow(messages: Any, info: Any) -> ModelResponse:
    await asyncio.sleep(30)
    return ModelResponse("too late")


def test_cancel_stops_a_running_execution(tmp_path: Path) -> None:
    services, token = local_services(tmp_path / "home", model_override=FunctionModel(slow))
    with TestClient(create_app(services)) as client:
        api = Api(client, token)
        workflow = create(api)
        eid = api.post(f"/workflows/{workflow['id']}/execute", json={}).json()["execution_id"]
        deadline = time.monotonic() + 5
        while api.get(f"/executions/{eid}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        response = api.post(f"/executions/{eid}/cancel")
        assert response.status_code == 202
        done = wait(api, eid)
        assert done["status"] == "cancelled"
        assert done["step_records"][0]["status"] == "cancelled"
        assert api.post(f"/executions/{eid}/cancel").status_code == 409  # already over


def test_a_restarted_server_fails_what_was_left_running(tmp_path: Path) -> None:
    services, token = local_services(tmp_path / "home", model_override="test")
    services.store.create_execution(
        ExecutionRecord("local", "left-behind", "w", "w", status="running", created_at=1.0)
    )
    with TestClient(create_app(services)) as client:
        body = Api(client, token).get("/executions/left-behind").json()
    assert body["status"] == "failed"
    assert "interrupted" in body["error"]["message"]
