"""Retry policies and budgets: the same semantics as ASL, so both executors agree.

``retries`` is ASL's ``MaxAttempts`` (retries after the first try); the delay before retry
``n`` (1-based) is ``interval * backoff_rate ** (n - 1)``, capped at ``max_delay``, and with
``jitter: full`` a uniform draw in ``[0, delay]``.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentweaver.exceptions import error_names, retryable_error_names

__all__ = ["NO_RETRY", "Budget", "RetryPolicy", "parse_error_handling"]

_STATES_ERRORS = {"States.ALL", "States.Timeout", "States.TaskFailed"}


class RetryPolicy(BaseModel):
    """How a failed step attempt is retried."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    retries: int = Field(
        3, ge=0, le=20, description="retries after the first attempt (ASL MaxAttempts)"
    )
    interval: float = Field(1.0, ge=0, le=3600, description="seconds before the first retry")
    backoff_rate: float = Field(2.0, ge=1.0, le=10.0)
    max_delay: float | None = Field(None, gt=0, le=86400, description="cap on any one delay")
    jitter: Literal["none", "full"] = "none"
    errors: tuple[str, ...] | None = Field(
        None, description="error names to retry; default: every retryable AgentWeaver error"
    )

    @field_validator("errors")
    @classmethod
    def _known_errors(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        known = error_names()
        unknown = [v for v in value if v not in known and v not in _STATES_ERRORS]
        if unknown:
            raise ValueError(
                f"unknown error name(s) {', '.join(map(repr, unknown))}; "
                f"retryable ones are {', '.join(retryable_error_names())}"
            )
        if not value:
            raise ValueError("errors is empty: use retries: 0 to never retry")
        return value

    def retries_error(self, exc: BaseException) -> bool:
        """Whether this policy retries ``exc`` (matching its class or any parent by name)."""
        names = {c.__name__ for c in type(exc).__mro__}
        if self.errors is None:
            return bool(getattr(exc, "retryable", False))
        wanted = set(self.errors)
        if "States.ALL" in wanted:
            return type(exc).__name__ != "BudgetExceeded"
        if "States.Timeout" in wanted and "StepTimeout" in names:
            return True
        if "States.TaskFailed" in wanted and not names & {"StepTimeout", "BudgetExceeded"}:
            return True  # ASL: every error except States.Timeout
        if "BudgetExceeded" in names:
            return False  # a spent budget is never retried, whatever the policy names
        return bool(names & wanted)

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        base = self.interval * self.backoff_rate ** (retry_number - 1)
        if self.max_delay is not None:
            base = min(base, self.max_delay)
        if self.jitter == "full":
            return (rng or random).uniform(0, base)
        return base

    def error_list(self) -> list[str]:
        """The names an ASL ``ErrorEquals`` needs, expanded to subclasses (ASL matches exactly)."""
        if self.errors is None:
            return retryable_error_names()
        known = error_names()
        names: set[str] = set()
        for name in self.errors:
            if name in known:  # a parent never brings in BudgetExceeded: it is never retried
                names.update(
                    n
                    for n, c in known.items()
                    if issubclass(c, known[name]) and (n == name or n != "BudgetExceeded")
                )
            else:
                names.add(name)
        return sorted(names)


NO_RETRY = RetryPolicy(retries=0)

_SHORTHAND = re.compile(r"^retry_(\d+)_times?$")


def parse_error_handling(value: str) -> tuple[RetryPolicy, Literal["fail", "continue"]]:
    """The spec's ``error_handling`` strings: ``retry_3_times``, ``fail``, ``continue``."""
    text = value.strip().lower()
    if text in ("fail", "fail_fast", "none"):
        return NO_RETRY, "fail"
    if text in ("continue", "skip"):
        return NO_RETRY, "continue"
    match = _SHORTHAND.match(text)
    if match:
        return RetryPolicy(retries=int(match.group(1))), "fail"
    raise ValueError(
        f"unknown error_handling {value!r}: use 'retry_<n>_times', 'fail' or 'continue'"
    )


class Budget(BaseModel):
    """Limits for one execution; a step that would start past one stops the run cleanly."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    max_tokens: int | None = Field(None, gt=0)
    max_usd: float | None = Field(None, gt=0)
    max_steps: int | None = Field(None, gt=0)
