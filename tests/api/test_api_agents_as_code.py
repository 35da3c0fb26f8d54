"""Agents as code over the API: functions of the deployment's own modules may be named in a
saved workflow (and their tools used); any other import path is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from support.api import Api, create, wait

from agentweaver.api import create_app
from agentweaver.api.local import local_services
from agentweaver.tools.base import ToolRegistry

TEAM: dict[str, Any] = {
    "name": "desk",
    "agents": {
        "triage": {"role": "Triage", "model": "test", "function": "support.team_code:triage",
                   "tools": ["order_total"]},
    },
}  # fmt: skip


def test_the_deployments_own_agent_functions_and_tools_run(tmp_path: Path) -> None:
    services, token = local_services(
        tmp_path, model_override="test", code_modules=("support.team_code",)
    )
    try:
        assert ToolRegistry.has("order_total")  # importing the module registered its tool
        with TestClient(create_app(services)) as client:
            api = Api(client, token)
            workflow = create(api, TEAM)
            run = api.post(f"/workflows/{workflow['id']}/execute", json={"input_data": "T-9"})
            done = wait(api, run.json()["execution_id"])
            assert done["status"] == "succeeded", done
            [step] = done["step_records"]
            assert "TRIAGE THIS TICKET: T-9" in str(step["input"]) + str(step["output"])
            agent = {**TEAM["agents"]["triage"], "function": "support.api:create"}
            outside = {**TEAM, "agents": {"triage": agent}}
            refused = api.post("/workflows/", json=outside)
            assert refused.status_code == 422
            assert "support.team_code" in refused.text
    finally:
        services.store.close()
        ToolRegistry.unregister("order_total")


def test_modules_that_cannot_be_imported_fail_at_start(tmp_path: Path) -> None:
    import pytest

    from agentweaver.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="no_such_team_module"):
        local_services(tmp_path, code_modules=("no_such_team_module",))


def test_names_reaching_outside_the_modules_are_refused(tmp_path: Path) -> None:
    import time

    from agentweaver.stores.records import WorkflowRecord

    services, token = local_services(
        tmp_path, model_override="test", code_modules=("support.team_code",)
    )
    try:
        with TestClient(create_app(services)) as client:
            api = Api(client, token)
            triage = TEAM["agents"]["triage"]
            for field, path in (
                ("function", "support.team_code:os.system"),  # through a module it imports
                ("function", "support.team_code:tool"),  # imported there, defined elsewhere
                ("function", "support.team_code:_hidden"),
                ("function", "support.team_code"),
                ("output_schema", "this:Anything"),  # importing is already running code
            ):
                bad = {**TEAM, "agents": {"triage": {**triage, field: path}}}
                response = api.post("/workflows/", json=bad)
                assert response.status_code == 422, (path, response.text)
                assert f"agents.triage.{field}" in response.text
            # a definition that reached the store another way is refused before it runs
            foreign = {**triage, "function": "support.team_code:tool"}
            smuggled = {**TEAM, "agents": {"triage": foreign}}
            services.store.save_workflow(
                WorkflowRecord("local", "smuggled", "desk", smuggled, created_at=time.time()),
                expected_version=0,
            )
            run = api.post("/workflows/smuggled/execute", json={"input_data": "x"}).json()
            done = wait(api, run["execution_id"])
            assert done["status"] == "failed"
            assert "not defined in the deployment's agent modules" in str(done["error"])
            assert done["step_records"] == []
    finally:
        services.store.close()
        ToolRegistry.unregister("order_total")
