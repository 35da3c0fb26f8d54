"""Every example workflow, on the local runner and as its compiled state machine (moto)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.conformance import assert_same, run_local, run_sfn
from support.moto_sfn import StepFunctionsHarness

from agentweaver.models.test import TestModel
from agentweaver.workflow.runner import _resolve

ROOT = Path(__file__).resolve().parents[2]

INPUTS: dict[str, Any] = {
    "research_team": "How are small teams using LLM agents in production?",
    "multi_perspective": "Should we move our batch jobs to serverless?",
    "support_triage": "I was charged twice for my invoice",
    "coordinator_team": "Compare the cost of two cloud providers for our API",
    "data_desk": "Which region sold the most last quarter?",
}


def _load(stem: str) -> Any:
    import importlib.util
    import sys

    for suffix in (".yaml", ".py"):
        path = ROOT / "examples" / f"{stem}{suffix}"
        if path.exists():
            break
    if path.suffix == ".yaml":
        return _resolve(path)
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"conformance_example_{stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return _resolve(module.workflow)


def test_every_example_is_covered() -> None:
    stems = {p.stem for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".py")}
    assert stems == set(INPUTS)


@pytest.mark.parametrize("stem", sorted(INPUTS))
def test_example_runs_the_same_on_both_executors(sfn: StepFunctionsHarness, stem: str) -> None:
    workflow, agents = _load(stem)
    from agentweaver.workflow.binding import bind_agents

    bound = bind_agents(workflow.agents, agents)
    local = run_local(workflow, bound, INPUTS[stem], model_override=TestModel())
    remote = run_sfn(sfn, workflow, bound, INPUTS[stem], model_override=TestModel())
    assert local.status == "succeeded", local.error
    assert_same(local, remote)
    assert remote.run is not None
    steps = len(local.steps)
    assert steps >= 1
    # what Standard workflows bill: Start, one per agent step, the record, and the fan-outs
    assert remote.run.transitions <= 3 * steps + 4, remote.run.transitions
