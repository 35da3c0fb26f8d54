"""Large outputs travel by reference: a 1 MB step output through a compiled workflow.

The 1 MB value is routed on (the Choice cannot see into a reference: the step function
judges the rules), fanned out over (its items come back one reference each), passed to
agents (who see the real data) and returned; no state ever carries more than a reference,
so no history event comes near Step Functions' 256 KB limit. The local runner, which has no
such limit, must produce the same records.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.conformance import assert_same, run_local, run_sfn
from support.moto_sfn import StepFunctionsHarness

from agentweaver.agents import Agent, AgentConfig
from agentweaver.models.messages import ModelMessage, ModelResponse, UserMessage
from agentweaver.models.test import FunctionModel, RequestInfo
from agentweaver.runtime.payloads import REF_KEY
from agentweaver.workflow.loader import load_workflow

LIMIT = 256 * 1024
FLOW = """
name: payloads
agents:
  big: {role: Big, model: test, output: json}
  measure: {role: Measure, model: test, output: json}
flow:
  sequence:
    - big
    - route:
        cases:
          - name: many
            when: {path: $.n, gt: 5}
            do: {foreach: $.items, do: measure, max_parallel: 2}
        default: measure
    - loop: big
      until: {path: $.n, gt: 5}
      max_iterations: 2
"""


def _prompt(messages: list[ModelMessage]) -> str:
    return next(m.content for m in reversed(messages) if isinstance(m, UserMessage))


def big_reply(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
    items = [{"i": i, "blob": chr(97 + i) * 200_000} for i in range(5)]
    return ModelResponse(json.dumps({"n": 7, "seen": len(_prompt(messages)), "items": items}))


def measure_reply(messages: list[ModelMessage], info: RequestInfo) -> ModelResponse:
    prompt = _prompt(messages)
    return ModelResponse(json.dumps({"chars": len(prompt), "head": prompt[:30]}))


def agents() -> dict[str, Agent]:
    return {
        "big": Agent(AgentConfig("Big", FunctionModel(big_reply), name="big", output="json")),
        "measure": Agent(
            AgentConfig("Measure", FunctionModel(measure_reply), name="measure", output="json")
        ),
    }


def test_a_1mb_output_goes_through_a_compiled_workflow(
    sfn: StepFunctionsHarness, tmp_path: Path
) -> None:
    workflow = load_workflow("payloads.yaml", FLOW)
    local = run_local(workflow, agents(), "start")
    remote = run_sfn(sfn, workflow, agents(), "start", payload_dir=tmp_path)
    assert local.status == "succeeded", local.error
    assert_same(local, remote)

    # the agents saw the real data, not references
    measured = [remote.steps[f"measure[{i}]"].output for i in range(5)]
    assert all(m["chars"] > 200_000 for m in measured)
    assert len(json.dumps(remote.output)) > 1_000_000  # the record holds the resolved output

    run = remote.run
    assert run is not None
    assert isinstance(run.output, dict)
    assert REF_KEY in run.output  # the execution's own output is a reference
    for event in run.history:
        for details in event.values():
            if isinstance(details, dict):
                for key in ("input", "output"):
                    size = len(str(details.get(key, "")).encode())
                    assert size < LIMIT // 2, (event["type"], key, size)
    stored = list(tmp_path.rglob("*.json"))
    assert len(stored) >= 6  # the big value, its five items (and the loop's output)


def test_small_outputs_stay_inline(sfn: StepFunctionsHarness, tmp_path: Path) -> None:
    workflow = load_workflow(
        "small.yaml",
        "name: small\nagents:\n  measure: {role: M, model: test, output: json}\n"
        "flow:\n  sequence: [measure]\n",
    )
    remote = run_sfn(sfn, workflow, agents(), "tiny", payload_dir=tmp_path)
    assert remote.status == "succeeded"
    assert remote.run is not None
    assert remote.run.output == {"chars": 4, "head": "tiny"}
    assert list(tmp_path.rglob("*.json")) == []
