"""A user's own agent code, as a deployment packages it (``[tool.agentweaver] modules``)."""

from __future__ import annotations

import os  # noqa: F401  (a module a tenant might try to reach through)

from agentweaver import tool


@tool
def order_total(order_id: str) -> str:
    """The total of an order, from the team's own systems."""
    return f"order {order_id} totals 42 EUR"


def triage(ticket: str) -> str:
    """Decide who handles the ticket."""
    return f"TRIAGE THIS TICKET: {ticket}"


def _hidden(ticket: str) -> str:
    return ticket
