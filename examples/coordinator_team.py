"""A coordinator routes each task to the best-suited specialist.

Two ways to run it:

    agentweaver run examples/coordinator_team.py -i "Our API returns 502 errors" -m test
        the workflow below: a `route` that picks a case by skill match, recorded like any run

    python examples/coordinator_team.py
        the spec's CoordinatorAgent + CommunicationHub: several tasks, each routed and answered,
        with the coordinator's reasons and the hub's message history
        (offline: AGENTWEAVER_MODEL_OVERRIDE=test python examples/coordinator_team.py)
"""

from __future__ import annotations

import asyncio

from agentweaver import AgentWorkflow, CommunicationHub, CoordinatorAgent, agent


@agent(role="Billing Specialist", model="gpt", description="payments, invoices, refunds, charges")
def billing(task: str) -> str:
    """Resolve billing questions and say exactly what will happen to the money."""
    return f"Customer request: {task}"


@agent(
    role="Site Reliability Engineer",
    model="claude",
    description="errors, outages, latency, deployments, API failures",
)
def sre(task: str) -> str:
    """Diagnose the incident step by step and give the fix or the workaround."""
    return f"Incident report: {task}"


@agent(role="Technical Writer", model="gemini", description="documentation, guides, tutorials")
def writer(task: str) -> str:
    """Write or improve documentation for the request."""
    return f"Documentation request: {task}"


SPECIALISTS = [billing, sre, writer]

workflow = AgentWorkflow(
    SPECIALISTS,
    name="coordinator-team",
    description="Route each task to the specialist whose skills fit it best.",
    flow={
        "route": {
            "by": "skills",
            "cases": [{"name": a.name, "do": a.name} for a in SPECIALISTS],
        }
    },
)

TASKS = [
    "A customer was charged twice for the same invoice",
    "The API returns 502 errors after the last deployment",
    "Write a getting-started guide for the Python SDK",
]


async def main() -> None:
    hub = CommunicationHub()
    for specialist in SPECIALISTS:
        hub.register_agent(specialist)
    coordinator = CoordinatorAgent(hub)
    for task in TASKS:
        chosen, reply = await coordinator.route(task)
        decision = coordinator.last_decision
        scores = decision.scores if decision else {}
        print(f"{task!r}\n  -> {chosen.config.role} (scores {scores})\n  <- {reply.content}\n")
    cost = "unknown" if hub.cost is None else f"${hub.cost:.4f}"
    print(f"{len(hub.message_history)} messages exchanged; {hub.usage.total_tokens} tokens; {cost}")


if __name__ == "__main__":
    asyncio.run(main())
