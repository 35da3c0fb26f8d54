"""State transitions per agent step: what a Standard workflow bills, for every example.

Each example's compiled state machine is executed by moto's Step Functions interpreter
with the agent-step function in-process (the test harness in ``tests/support``) and the
offline model; the figure counts the states entered in the real execution history.

    .venv/bin/python benchmarks/transitions.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "statemachines"))

PRICE_PER_1000 = 0.025  # USD per 1,000 state transitions, Standard workflows (us-east-1)
INPUT = "How do small teams run LLM agents in production?"


def measure() -> list[tuple[str, int, int, float]]:
    """(example, agent steps, transitions, transitions per step) for every example."""
    from support.conformance import run_sfn
    from support.moto_sfn import step_functions

    from agentweaver.models.test import TestModel
    from agentweaver.workflow.binding import bind_agents

    from build import example_files, load_example  # statemachines/build.py

    rows = []
    with step_functions() as harness:
        for path in example_files():
            workflow = load_example(path)
            if workflow is None:
                continue
            agents = bind_agents(workflow.agents)
            outcome = run_sfn(harness, workflow, agents, INPUT, model_override=TestModel())
            assert outcome.run is not None
            steps = len(outcome.steps)
            transitions = outcome.run.transitions
            rows.append((path.stem, steps, transitions, transitions / max(1, steps)))
    return rows


def report() -> None:
    rows = measure()
    print("transitions per agent step (compiled ASL run by moto, offline model)")
    for name, steps, transitions, per_step in rows:
        cost = transitions * PRICE_PER_1000  # USD per 1,000 executions
        print(
            f"         {name:18} {steps:3} steps {transitions:4} transitions "
            f"{per_step:5.2f} per step   ${cost:.3f} per 1,000 runs"
        )


if __name__ == "__main__":
    report()
