"""Retry policies, budgets and the spec's ``error_handling`` shorthand."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from agentweaver.exceptions import (
    BudgetExceeded,
    ContextLengthExceeded,
    DefinitionError,
    ExecutionError,
    InvalidData,
    ModelAuthError,
    ModelError,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
    OutputParseError,
    StepFailed,
    StepTimeout,
    ToolError,
    ToolTimeout,
    retryable_error_names,
)
from agentweaver.policies import NO_RETRY, Budget, RetryPolicy, parse_error_handling

# -- delay -----------------------------------------------------------------------------------


def test_default_policy() -> None:
    policy = RetryPolicy()
    assert (policy.retries, policy.interval, policy.backoff_rate) == (3, 1.0, 2.0)
    assert policy.max_delay is None
    assert policy.jitter == "none"
    assert policy.errors is None


def test_delay_is_exponential() -> None:
    policy = RetryPolicy(interval=1, backoff_rate=2)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 16]


def test_delay_with_other_interval_and_rate() -> None:
    policy = RetryPolicy(interval=0.5, backoff_rate=3)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.5, 1.5, 4.5]


def test_backoff_rate_one_is_constant() -> None:
    policy = RetryPolicy(interval=2, backoff_rate=1)
    assert [policy.delay(n) for n in (1, 2, 3)] == [2, 2, 2]


def test_delay_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(interval=1, backoff_rate=2, max_delay=5)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 5, 5]


def test_zero_interval_never_waits() -> None:
    policy = RetryPolicy(interval=0)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0, 0, 0]


def test_full_jitter_is_within_zero_and_the_delay() -> None:
    policy = RetryPolicy(interval=1, backoff_rate=2, max_delay=6, jitter="full")
    rng = random.Random(42)
    draws = {n: [policy.delay(n, rng) for _ in range(200)] for n in (1, 2, 3, 4)}
    for n, cap in ((1, 1), (2, 2), (3, 4), (4, 6)):
        assert all(0 <= d <= cap for d in draws[n])
        # a uniform draw: spread over the range, not stuck at one end
        assert min(draws[n]) < cap * 0.2
        assert max(draws[n]) > cap * 0.8
    assert len(set(draws[1])) > 150


def test_full_jitter_is_reproducible_with_a_seeded_rng() -> None:
    policy = RetryPolicy(interval=1, backoff_rate=2, jitter="full")
    first = [policy.delay(n, random.Random(7)) for n in (1, 2, 3)]
    second = [policy.delay(n, random.Random(7)) for n in (1, 2, 3)]
    assert first == second
    expected_rng = random.Random(7)
    assert policy.delay(3, random.Random(7)) == expected_rng.uniform(0, 4)


# -- which errors are retried ----------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        ModelRateLimited("slow down", retry_after=3),
        ModelUnavailable("503"),
        ModelTimeout("late"),
        StepTimeout("late"),
        OutputParseError("not json"),
        ToolTimeout("tool late"),
    ],
)
def test_default_policy_retries_retryable_errors(exc: Exception) -> None:
    assert RetryPolicy().retries_error(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        ModelAuthError("bad key"),
        ContextLengthExceeded("too long"),
        StepFailed("bug"),
        ToolError("broken"),
        InvalidData("not a list"),
        BudgetExceeded("spent"),
        DefinitionError("bad"),
        ValueError("not ours"),
    ],
)
def test_default_policy_does_not_retry_the_rest(exc: Exception) -> None:
    assert RetryPolicy().retries_error(exc) is False


def test_default_retryable_names() -> None:
    assert retryable_error_names() == [
        "ModelRateLimited",
        "ModelTimeout",
        "ModelUnavailable",
        "OutputParseError",
        "StepTimeout",
        "ToolTimeout",
    ]


def test_explicit_errors_retry_only_those() -> None:
    policy = RetryPolicy(errors=("ModelUnavailable",))
    assert policy.retries_error(ModelUnavailable("x"))
    assert not policy.retries_error(ModelRateLimited("x"))
    assert not policy.retries_error(StepTimeout("x"))


def test_explicit_errors_may_name_a_non_retryable_error() -> None:
    policy = RetryPolicy(errors=("StepFailed",))
    assert policy.retries_error(StepFailed("flaky user code"))
    assert not policy.retries_error(ModelUnavailable("x"))


def test_a_parent_name_matches_its_subclasses() -> None:
    policy = RetryPolicy(errors=("ModelError",))
    for exc in (
        ModelRateLimited("x"),
        ModelUnavailable("x"),
        ModelAuthError("x"),
        ContextLengthExceeded("x"),
    ):
        assert policy.retries_error(exc), exc
    assert not policy.retries_error(StepTimeout("x"))
    assert not policy.retries_error(ToolTimeout("x"))


def test_states_all_retries_everything_but_budget_exceeded() -> None:
    policy = RetryPolicy(errors=("States.ALL",))
    for exc in (StepFailed("x"), ModelAuthError("x"), InvalidData("x"), ValueError("x")):
        assert policy.retries_error(exc), exc
    assert not policy.retries_error(BudgetExceeded("spent", "max_steps", 3, 3))


def test_states_timeout_matches_step_timeout_only() -> None:
    policy = RetryPolicy(errors=("States.Timeout",))
    assert policy.retries_error(StepTimeout("x"))
    assert not policy.retries_error(ModelTimeout("x"))


def test_states_task_failed_matches_all_but_timeouts_and_budgets() -> None:
    # ASL: States.TaskFailed matches any error except States.Timeout
    policy = RetryPolicy(errors=("States.TaskFailed",))
    assert policy.retries_error(StepFailed("x"))
    assert policy.retries_error(ModelUnavailable("x"))
    assert not policy.retries_error(StepTimeout("x"))
    assert not policy.retries_error(BudgetExceeded("spent"))


def test_a_parent_name_never_retries_budget_exceeded() -> None:
    assert not RetryPolicy(errors=("ExecutionError",)).retries_error(BudgetExceeded("spent"))
    assert RetryPolicy(errors=("ExecutionError",)).retries_error(StepFailed("x"))


# -- error_list: what ASL ErrorEquals gets ---------------------------------------------------


def test_error_list_default_is_the_retryable_errors() -> None:
    assert RetryPolicy().error_list() == retryable_error_names()


def test_error_list_expands_subclasses_sorted() -> None:
    assert RetryPolicy(errors=("ModelError",)).error_list() == [
        "ContextLengthExceeded",
        "ModelAuthError",
        "ModelError",
        "ModelInvalidRequest",
        "ModelRateLimited",
        "ModelTimeout",
        "ModelUnavailable",
    ]


def test_error_list_merges_and_dedupes() -> None:
    policy = RetryPolicy(errors=("ToolError", "ToolTimeout", "StepTimeout"))
    assert policy.error_list() == ["StepTimeout", "ToolError", "ToolNotFound", "ToolTimeout"]


def test_error_list_keeps_states_names() -> None:
    assert RetryPolicy(errors=("States.ALL",)).error_list() == ["States.ALL"]
    assert RetryPolicy(errors=("StepTimeout", "States.Timeout")).error_list() == [
        "States.Timeout",
        "StepTimeout",
    ]


def test_error_list_of_a_parent_leaves_out_budget_exceeded() -> None:
    names = RetryPolicy(errors=("ExecutionError",)).error_list()
    assert "BudgetExceeded" not in names
    assert {"ExecutionError", "StepFailed", "ModelRateLimited", "InvalidData"} <= set(names)
    assert names == sorted(names)


# -- validation ------------------------------------------------------------------------------


def test_negative_retries_rejected() -> None:
    with pytest.raises(ValidationError, match=r"retries\n.*greater than or equal to 0"):
        RetryPolicy(retries=-1)


def test_backoff_rate_below_one_rejected() -> None:
    with pytest.raises(ValidationError, match=r"backoff_rate\n.*greater than or equal to 1"):
        RetryPolicy(backoff_rate=0.5)


def test_unknown_error_name_rejected_with_the_retryable_names() -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(errors=("ModelRatelimited",))
    text = str(info.value)
    assert "unknown error name(s) 'ModelRatelimited'" in text
    assert "retryable ones are ModelRateLimited, ModelTimeout, ModelUnavailable" in text


def test_empty_error_list_rejected() -> None:
    with pytest.raises(ValidationError, match="errors is empty: use retries: 0 to never retry"):
        RetryPolicy(errors=())


def test_bad_jitter_and_unknown_field_rejected() -> None:
    with pytest.raises(ValidationError, match="jitter"):
        RetryPolicy(jitter="half")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        RetryPolicy(max_attempts=3)  # type: ignore[call-arg]


def test_policy_is_frozen() -> None:
    with pytest.raises(ValidationError):
        RetryPolicy().retries = 5  # type: ignore[misc]


# -- error_handling shorthand ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "retries", "on_error"),
    [
        ("retry_3_times", 3, "fail"),
        ("retry_1_time", 1, "fail"),
        ("retry_0_times", 0, "fail"),
        ("RETRY_5_TIMES", 5, "fail"),
        ("  retry_2_times ", 2, "fail"),
        ("fail", 0, "fail"),
        ("fail_fast", 0, "fail"),
        ("none", 0, "fail"),
        ("continue", 0, "continue"),
        ("skip", 0, "continue"),
    ],
)
def test_parse_error_handling(text: str, retries: int, on_error: str) -> None:
    policy, mode = parse_error_handling(text)
    assert policy.retries == retries
    assert mode == on_error


def test_parse_error_handling_keeps_default_backoff() -> None:
    policy, _ = parse_error_handling("retry_3_times")
    assert policy == RetryPolicy(retries=3)
    assert parse_error_handling("fail")[0] is NO_RETRY


@pytest.mark.parametrize("text", ["retry_forever", "retry_x_times", "retry", "explode", ""])
def test_parse_error_handling_rejects_the_rest(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown error_handling .*retry_<n>_times"):
        parse_error_handling(text)


def test_parse_error_handling_rejects_more_than_the_policy_allows() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 20"):
        parse_error_handling("retry_50_times")


# -- budget ----------------------------------------------------------------------------------


def test_budget_limits_must_be_positive() -> None:
    assert Budget().max_steps is None
    for field in ("max_tokens", "max_usd", "max_steps"):
        with pytest.raises(ValidationError, match="greater than 0"):
            Budget(**{field: 0})


def test_budget_exceeded_is_an_execution_error() -> None:
    exc = BudgetExceeded("spent", "max_steps", 2, 2)
    assert isinstance(exc, ExecutionError)
    assert not isinstance(exc, ModelError)
    assert (exc.limit, exc.spent, exc.allowed) == ("max_steps", 2, 2)
    assert exc.retryable is False
