"""Every example runs offline, as the README promises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agentweaver import LocalRunner

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
async def test_yaml_examples_run_offline(path: Path) -> None:
    result = await LocalRunner(model_override="test").run(path, "I was charged twice")
    assert result.status == "succeeded", result.errors
    assert result.steps


async def test_data_desk_calls_its_tools_in_a_sandbox(tmp_path: Path) -> None:
    desk = load("data_desk")
    runner = LocalRunner(sandbox_root=tmp_path)
    result = await runner.run(
        desk.workflow, "Which region sold most?", agents=desk.offline_agents()
    )
    assert result.status == "succeeded", result.errors
    sql_call = result.step("analyst").tool_calls[0]
    assert sql_call["name"] == "sql_query"
    assert '"west"' in sql_call["result"]
    assert not sql_call["is_error"]
    report = tmp_path / "local" / result.execution_id / "report.md"
    assert report.read_text() == "# Sales\nwest: 310"


async def test_coordinator_example_routes_by_skill() -> None:
    team = load("coordinator_team")
    result = await LocalRunner(model_override="test").run(
        team.workflow, "The API returns 502 errors after the last deployment"
    )
    assert [s.step_id for s in result.steps] == ["sre"]
