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
