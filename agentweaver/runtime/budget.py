"""Budget accounting for one execution: checked before a step calls a model."""

from __future__ import annotations

from agentweaver.exceptions import BudgetExceeded
from agentweaver.policies import Budget

__all__ = ["BudgetTracker"]


class BudgetTracker:
    """Running totals against a ``Budget``; one per execution.

    Checked *before* a step starts (as the Step Functions side does), so a run stops at the
    first step that would begin past a limit; steps already running finish and are counted.
    """

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.tokens = 0
        self.usd = 0.0
        self.steps = 0
        self.unknown_cost = False

    def before_step(self, attempt: int = 1) -> None:
        """Raise if a limit is spent; a first attempt counts as a step, a retry does not."""
        b = self.budget
        if attempt == 1 and b.max_steps is not None and self.steps >= b.max_steps:
            raise BudgetExceeded(
                f"step budget spent: {self.steps} of {b.max_steps} steps",
                "max_steps",
                self.steps,
                b.max_steps,
            )
        if b.max_tokens is not None and self.tokens >= b.max_tokens:
            raise BudgetExceeded(
                f"token budget spent: {self.tokens} of {b.max_tokens} tokens",
                "max_tokens",
                self.tokens,
                b.max_tokens,
            )
        if b.max_usd is not None and self.usd >= b.max_usd:
            raise BudgetExceeded(
                f"cost budget spent: ${self.usd:.4f} of ${b.max_usd:.4f}",
                "max_usd",
                self.usd,
                b.max_usd,
            )
        if attempt == 1:
            self.steps += 1

    def after_step(self, tokens: int, cost: float | None) -> None:
        self.tokens += tokens
        if cost is None:
            self.unknown_cost = True
        else:
            self.usd += cost
