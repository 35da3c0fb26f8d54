"""Compile a workflow IR into Amazon States Language (JSONPath, never JSONata).

The output is deterministic: the same workflow gives byte-identical
``json.dumps(asl, sort_keys=True, indent=2)``. Every definition passes ``static_check``
before it is returned, or ``DefinitionError`` lists the problems.

State-data contract (what flows between states; the agent-step Lambda implements the
other side)
---------------------------------------------------------------------------------------
Execution input (``StartExecution``): ``{"execution_id": str, "owner": str, "value": any}``.
The first state (``Start``) normalises it into the *state*::

    {"execution_id": str, "owner": str,
     "value": <the current data: the input of the next node, the output of the last>,
     "scope": "",            # step-id suffix: "[i]" per foreach item, "#k" per loop iteration
     "loop": null | {"n": k, "outer": <scope outside the loop>, "parent": <enclosing loop>}}

Transient fields a state may add: ``error`` (a caught error, ``{"Error", "Cause"}``),
``fan`` (a parallel's branch indexes), ``branch`` (inside a parallel's Map item),
``route`` (``{"case": name}`` from a router, or the caught error).

Every Task invokes ONE Lambda (``function_arn``, a ``${...}`` substitution for CDK) with::

    Payload = {"mode": "step" | "route" | "select_skills",
               "workflow": <workflow name>, "node_id": <IR node id>, "agent": <agent name>,
               "step_id": <node id + scope>, "execution_id", "owner",
               "attempt": <$$.State.RetryCount: 0 on the first try; attempt = this + 1>,
               "timeout": <seconds per attempt>,
               "choices": {case name: description} (route) | {case name: agent} (skills),
               "state": <the whole state above>}

and the Lambda returns the state it got with ``value`` replaced by the step's output
(mode ``step``) or by the chosen case name, or null for no choice (``route`` /
``select_skills``); it may add nothing else the compiler relies on. On failure it raises
an error whose type is the AgentWeaver exception class name (``ModelRateLimited``...), so
``Retry``/``Catch`` ``ErrorEquals`` match the wire names. A step Task keeps
``{"state": Payload}`` (``ResultSelector``) and outputs ``$.state``; a router Task puts
``{"case": Payload.value}`` at ``$.route`` and keeps the state.

Mapping
-------
* agent step -> Task ``lambda:invoke``; ``TimeoutSeconds`` = ceil(timeout); ``Retry``: Lambda
  service errors first (their own retrier), then the policy's ``error_list()`` (plus
  ``States.Timeout`` when ``StepTimeout`` is retried); ``Catch``: ``on_error: fail`` goes to a
  ``Fail`` state with the error; ``continue`` re-raises ``BudgetExceeded``/``ExecutionCancelled``
  and otherwise keeps the input (``ResultPath: $.error``) and goes on.
* sequence -> chained states.
* parallel -> a Pass that puts ``States.ArrayRange(0, n-1, 1)`` at ``$.fan``, then one Map over
  those indexes with ``MaxConcurrency`` whose ItemProcessor starts with a Choice on the
  index. (An ASL ``Parallel`` state has no concurrency limit; one Map per branch would run
  branches one after another.) Results are in index order.
* foreach -> Map over ``$.value<items>``; each item's scope is ``scope + "[i]"``
  (``$$.Map.Item.Index``).
* route by rules -> a Choice, one rule per case (each comparison guarded by ``IsPresent``
  and a type test, as the local runner's strict conditions), ``Default`` = the case without
  ``when`` or the route default or a ``Fail`` with ``NoRouteMatched``.
  By agent -> router Task (mode ``route``) then the Choice on ``$.route.case``; by skills ->
  a Task with mode ``select_skills``, then the same Choice.
* loop -> a Pass entering the loop (counter n = 1, scope ``#1``), the body, a Choice: ``until``
  holds -> exit, ``n < max_iterations`` -> a Pass ``#next`` (``States.MathAdd``) -> body, else
  exit; the exit Pass restores the outer scope and loop.
* ``on_error: continue`` on a flow node -> the node wrapped in a one-branch ``Parallel`` state
  whose ``Catch`` keeps the input.
* A terminal state inside a Map item narrows its output to ``value`` (``OutputPath``), so the
  Map's result is the list of values, written to ``$.value``.

Transitions (what Standard workflows bill) in a sequential chain: ONE per agent step, plus
one for ``Start``. Each retry adds none (a retry is not a transition).
"""

from __future__ import annotations

import math
from typing import Any

from agentweaver.compiler.checks import static_check
from agentweaver.exceptions import DefinitionError
from agentweaver.policies import RetryPolicy
from agentweaver.workflow.conditions import Condition
from agentweaver.workflow.ir import (
    AgentStep,
    Foreach,
    Loop,
    Node,
    Parallel,
    Route,
    Sequence,
    Workflow,
)

__all__ = ["DEFAULT_FUNCTION_ARN", "LAMBDA_SERVICE_ERRORS", "compile_workflow", "static_check"]

DEFAULT_FUNCTION_ARN = "${AgentStepFunctionArn}"
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
_NEVER_SKIPPED = ["BudgetExceeded", "ExecutionCancelled"]
# top-level state names have a space: node ids cannot, so they never collide
START, RECORD_SUCCESS, RECORD_FAILURE, FAILED = (
    "Start execution",
    "Record success",
    "Record failure",
    "Execution failed",
)
_STATE_FIELDS = ("execution_id", "owner", "value", "scope", "loop", "width")
_RECORD_RETRY = RetryPolicy(retries=3, errors=["StoreError"])
_REF = "$.value.agentweaver_ref"  # an offloaded value (agentweaver.runtime.payloads)
_SKILLS_RETRY = RetryPolicy(retries=0)
_SKILLS_TIMEOUT = 30


def _fmt_literal(text: str) -> str:
    """Escape text for a ``States.Format`` template inside single quotes."""
    out = []
    for char in text:
        if char in "\\'{}":
            out.append("\\")
        out.append(char)
    return "".join(out)


def _value_path(path: str) -> str:
    """A condition/items path on the data (``$.x``) as a path on the state (``$.value.x``)."""
    return "$.value" + path[1:]


def condition_rule(cond: Condition) -> dict[str, Any]:
    """A Choice rule (without ``Next``) meaning exactly what ``cond.evaluate`` means."""
    op = cond.operator
    if op == "all":
        return {"And": [condition_rule(c) for c in cond.all or []]}
    if op == "any":
        return {"Or": [condition_rule(c) for c in cond.any or []]}
    if op == "not":
        assert cond.not_ is not None
        return {"Not": condition_rule(cond.not_)}
    var = _value_path(cond.path)
    present = {"Variable": var, "IsPresent": True}
    if op == "exists":
        return {"Variable": var, "IsPresent": bool(cond.exists)}
    if op == "is_null":
        return {"And": [present, {"Variable": var, "IsNull": bool(cond.is_null)}]}
    expected = cond.operand(op)
    if op in ("equals", "not_equals"):
        if expected is None:
            test: dict[str, Any] = {"Variable": var, "IsNull": True}
        elif isinstance(expected, bool):
            test = {
                "And": [
                    {"Variable": var, "IsBoolean": True},
                    {"Variable": var, "BooleanEquals": expected},
                ]
            }
        elif isinstance(expected, int | float):
            test = {
                "And": [
                    {"Variable": var, "IsNumeric": True},
                    {"Variable": var, "NumericEquals": expected},
                ]
            }
        else:
            test = {
                "And": [
                    {"Variable": var, "IsString": True},
                    {"Variable": var, "StringEquals": str(expected)},
                ]
            }
        return {"And": [present, test if op == "equals" else {"Not": test}]}
    if op in ("contains", "matches"):
        pattern = expected if op == "matches" else "*" + _glob_escape(expected) + "*"
        return {
            "And": [
                present,
                {"Variable": var, "IsString": True},
                {"Variable": var, "StringMatches": pattern},
            ]
        }
    suffix = {
        "gt": "GreaterThan",
        "gte": "GreaterThanEquals",
        "lt": "LessThan",
        "lte": "LessThanEquals",
    }[op]
    if isinstance(expected, int | float):
        return {
            "And": [
                present,
                {"Variable": var, "IsNumeric": True},
                {"Variable": var, f"Numeric{suffix}": expected},
            ]
        }
    return {
        "And": [
            present,
            {"Variable": var, "IsString": True},
            {"Variable": var, f"String{suffix}": expected},
        ]
    }


def _glob_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")


def retriers(policy: RetryPolicy) -> list[dict[str, Any]]:
    """Lambda service errors first, then the policy (ASL ``States.ALL`` must come last)."""
    out: list[dict[str, Any]] = [
        {
            "ErrorEquals": list(LAMBDA_SERVICE_ERRORS),
            "IntervalSeconds": 1,
            "MaxAttempts": 3,
            "BackoffRate": 2.0,
            "JitterStrategy": "FULL",
        }
    ]
    if policy.retries > 0:
        names = policy.error_list()
        if "StepTimeout" in names and "States.Timeout" not in names:
            names = sorted([*names, "States.Timeout"])
        if "States.ALL" in names:
            names = ["States.ALL"]
        retrier: dict[str, Any] = {
            "ErrorEquals": names,
            # ASL wants whole seconds, at least 1
            "IntervalSeconds": max(1, math.ceil(policy.interval)),
            "MaxAttempts": policy.retries,
            "BackoffRate": float(policy.backoff_rate),
            "JitterStrategy": "FULL" if policy.jitter == "full" else "NONE",
        }
        if policy.max_delay is not None:
            retrier["MaxDelaySeconds"] = max(1, math.ceil(policy.max_delay))
        if {"States.ALL", "States.TaskFailed"} & set(names):
            # the catch-all would retry a spent budget or a cancellation; the local runner
            # never does, and ASL takes the first retrier that matches
            out.append({"ErrorEquals": list(_NEVER_SKIPPED), "MaxAttempts": 0})
        out.append(retrier)
    return out


class _Scope:
    """The states of one state machine scope (top level, a Map item, a Parallel branch)."""

    def __init__(self, name: str, in_map: bool) -> None:
        self.name = name
        self.in_map = in_map
        self.states: dict[str, dict[str, Any]] = {}

    def add(self, name: str, state: dict[str, Any]) -> str:
        if name in self.states:
            raise DefinitionError(f"state name {name!r} generated twice")
        self.states[name] = state
        return name

    def failed(self) -> str:
        """Where a failure in this scope goes: top level records it, a nested scope fails so
        the enclosing Map/Parallel's Catch takes it outwards.

        On the way, a Step Functions error (``States.Timeout``, ``States.Runtime``...) is
        renamed to the AgentWeaver error the local runner raises (``StepTimeout``,
        ``StepFailed``): the record and the caller see one set of names on both executors.
        """
        top = self.name == ""
        check = "Check error" if top else f"{self.name}#error"
        if check in self.states:
            return check
        then = RECORD_FAILURE if top else f"{self.name}#failed"
        if not top:
            self.states[then] = {
                "Type": "Fail",
                "ErrorPath": "$.error.Error",
                "CausePath": "$.error.Cause",
            }
        renamed = {}
        for error, name in (("StepTimeout", "Timed out"), ("StepFailed", "Runtime error")):
            state = name if top else f"{self.name}#{error}"
            self.states[state] = {
                "Type": "Pass",
                "Parameters": {
                    "Error": error,
                    "Cause.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
                },
                "ResultPath": "$.error",
                "Next": then,
            }
            renamed[error] = state
        self.states[check] = {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.error.Error",
                    "StringEquals": "States.Timeout",
                    "Next": renamed["StepTimeout"],
                },
                {
                    "Variable": "$.error.Error",
                    "StringMatches": "States.*",
                    "Next": renamed["StepFailed"],
                },
            ],
            "Default": then,
        }
        return check


def _state(**fields: Any) -> dict[str, Any]:
    """Parameters rebuilding the state: every field from ``$``, except those given."""
    out: dict[str, Any] = {}
    for name in _STATE_FIELDS:
        if name in fields:
            value = fields[name]
            if isinstance(value, str) and value.startswith(("$", "States.")):
                out[f"{name}.$"] = value
            else:
                out[name] = value
        else:
            out[f"{name}.$"] = f"$.{name}"
    return out


class _Compiler:
    def __init__(self, workflow: Workflow, function_arn: str, workflow_ref: str) -> None:
        self.workflow = workflow
        self.arn = function_arn
        self.ref = workflow_ref

    # --- helpers -----------------------------------------------------------------------
    @staticmethod
    def finish(
        scope: _Scope, state: dict[str, Any], nxt: str | None, whole: str | None, value: str
    ) -> dict[str, Any]:
        """Point ``state`` at ``nxt`` or end it; ``whole``/``value`` are its OutputPaths."""
        if nxt is not None:
            state["Next"] = nxt
            if whole:
                state["OutputPath"] = whole
        else:
            state["End"] = True
            out = value if scope.in_map else whole
            if out:
                state["OutputPath"] = out
        return state

    def skip_target(self, scope: _Scope, node_id: str, nxt: str | None) -> str:
        if nxt is not None:
            return nxt
        return scope.add(
            f"{node_id}#skipped", self.finish(scope, {"Type": "Pass"}, None, None, "$.value")
        )

    def catchers(
        self, scope: _Scope, node_id: str, on_error: str | None, nxt: str | None
    ) -> list[dict[str, Any]]:
        failed = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": scope.failed()}
        if on_error != "continue":
            return [failed]
        return [
            {"ErrorEquals": list(_NEVER_SKIPPED), "ResultPath": "$.error", "Next": scope.failed()},
            {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": "$.error",
                "Next": self.skip_target(scope, node_id, nxt),
            },
        ]

    def task(
        self,
        *,
        node_id: str,
        agent: str,
        mode: str,
        retry: RetryPolicy,
        timeout: float,
        choices: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "mode": mode,
            "workflow": self.ref,
            "node_id": node_id,
            "agent": agent,
            "step_id.$": f"States.Format('{_fmt_literal(node_id)}{{}}', $.scope)",
            "execution_id.$": "$.execution_id",
            "owner.$": "$.owner",
            "attempt.$": "$$.State.RetryCount",
            "timeout": timeout,
            "state.$": "$",
        }
        if choices is not None:
            payload["choices"] = choices
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": self.arn, "Payload": payload},
            "TimeoutSeconds": max(1, math.ceil(timeout)),
            "Retry": retriers(retry),
        }

    # --- nodes --------------------------------------------------------------------------
    def node(self, node: Node, scope: _Scope, nxt: str | None) -> str:
        """Add ``node``'s states to ``scope``; return its entry state's name."""
        if isinstance(node, AgentStep):
            return self.agent_step(node, scope, nxt)
        if node.on_error == "continue":
            return self.guarded(node, scope, nxt)
        return self.flow(node, scope, nxt)

    def flow(self, node: Node, scope: _Scope, nxt: str | None) -> str:
        if isinstance(node, Sequence):
            for child in reversed(node.steps):
                nxt = self.node(child, scope, nxt)
            assert nxt is not None
            return nxt
        if isinstance(node, Parallel):
            return self.parallel(node, scope, nxt)
        if isinstance(node, Foreach):
            return self.foreach(node, scope, nxt)
        if isinstance(node, Route):
            return self.route(node, scope, nxt)
        assert isinstance(node, Loop)
        return self.loop(node, scope, nxt)

    def agent_step(self, node: AgentStep, scope: _Scope, nxt: str | None) -> str:
        state = self.task(
            node_id=node.id, agent=node.agent, mode="step", retry=node.retry, timeout=node.timeout
        )
        state["ResultSelector"] = {"state.$": "$.Payload"}
        state["ResultPath"] = "$"
        state["Catch"] = self.catchers(scope, node.id, node.on_error, nxt)
        self.finish(scope, state, nxt, "$.state", "$.state.value")
        return scope.add(node.id, state)

    def guarded(self, node: Node, scope: _Scope, nxt: str | None) -> str:
        inner = _Scope(f"{node.id}#try", in_map=False)
        start = self.flow(node, inner, None)
        state: dict[str, Any] = {
            "Type": "Parallel",
            "Branches": [{"StartAt": start, "States": inner.states}],
            "ResultSelector": {"state.$": "$[0]"},
            "ResultPath": "$",
            "Catch": self.catchers(scope, node.id, "continue", nxt),
        }
        self.finish(scope, state, nxt, "$.state", "$.state.value")
        return scope.add(f"{node.id}#try", state)

    def map_state(
        self,
        node_id: str,
        inner: _Scope,
        start: str,
        items_path: str,
        selector: dict[str, Any],
        limit: int,
        scope: _Scope,
        nxt: str | None,
    ) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Map",
            "ItemsPath": items_path,
            "ItemSelector": selector,
            "MaxConcurrency": limit,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": start,
                "States": inner.states,
            },
            "ResultPath": "$.value",
            "Catch": self.catchers(scope, node_id, None, nxt),
        }
        return self.finish(scope, state, nxt, None, "$.value")

    def parallel(self, node: Parallel, scope: _Scope, nxt: str | None) -> str:
        inner = _Scope(node.id, in_map=True)
        entries = [self.node(branch, inner, None) for branch in node.branches]
        if len(entries) == 1:
            start = entries[0]
        else:
            start = inner.add(
                f"{node.id}#branch",
                {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.branch", "NumericEquals": i, "Next": entry}
                        for i, entry in enumerate(entries[:-1])
                    ],
                    "Default": entries[-1],
                },
            )
        selector = _state(width=f"States.Format('{{}}/{len(entries)}', $.width)")
        selector["branch.$"] = "$$.Map.Item.Value"
        fan_map = scope.add(
            f"{node.id}#map",
            self.map_state(
                node.id, inner, start, "$.fan.i", selector, node.max_parallel, scope, nxt
            ),
        )
        return scope.add(
            node.id,
            {
                "Type": "Pass",
                "Parameters": {"i.$": f"States.ArrayRange(0, {len(entries) - 1}, 1)"},
                "ResultPath": "$.fan",
                "Next": fan_map,
            },
        )

    def foreach(self, node: Foreach, scope: _Scope, nxt: str | None) -> str:
        inner = _Scope(node.id, in_map=True)
        start = self.node(node.body, inner, None)
        items = _value_path(node.items)
        selector = _state(
            value="$$.Map.Item.Value",
            scope="States.Format('{}[{}]', $.scope, $$.Map.Item.Index)",
            width=f"States.Format('{{}}/{{}}', $.width, States.ArrayLength({items}))",
        )
        fan_map = scope.add(
            f"{node.id}#map",
            self.map_state(node.id, inner, start, items, selector, node.max_parallel, scope, nxt),
        )
        # an offloaded value is a reference: its items come back from the step function
        expand = self.task(
            node_id=node.id, agent="", mode="expand", retry=_RECORD_RETRY, timeout=_SKILLS_TIMEOUT
        )
        expand["ResultSelector"] = {"state.$": "$.Payload"}
        expand["ResultPath"] = "$"
        expand["OutputPath"] = "$.state"
        expand["Catch"] = self.catchers(scope, node.id, None, None)
        expand["Next"] = fan_map
        expand_name = scope.add(f"{node.id}#expand", expand)
        # ItemsPath that is missing or not a list fails the Map (States.Runtime, or
        # States.QueryEvaluationError): the step function then says why, with the local
        # runner's InvalidData
        scope.states[fan_map]["Catch"].insert(
            0,
            {
                "ErrorEquals": ["States.QueryEvaluationError", "States.Runtime"],
                "ResultPath": "$.map_error",
                "Next": expand_name,
            },
        )
        return scope.add(
            node.id,
            {
                "Type": "Choice",
                "Choices": [{"Variable": _REF, "IsPresent": True, "Next": expand_name}],
                "Default": fan_map,
            },
        )

    def evaluate(self, scope: _Scope, node_id: str, then: str) -> str:
        """A Task judging rules in the step function, for a value offloaded out of the state."""
        state = self.task(
            node_id=node_id, agent="", mode="evaluate", retry=_RECORD_RETRY, timeout=_SKILLS_TIMEOUT
        )
        state["ResultSelector"] = {"case.$": "$.Payload.case"}
        state["ResultPath"] = "$.route"
        state["Catch"] = self.catchers(scope, node_id, None, None)
        state["Next"] = then
        return scope.add(f"{node_id}#evaluate", state)

    @staticmethod
    def case_rule(name: str, then: str) -> dict[str, Any]:
        return {
            "And": [
                {"Variable": "$.route.case", "IsPresent": True},
                {"Variable": "$.route.case", "IsString": True},
                {"Variable": "$.route.case", "StringEquals": name},
            ],
            "Next": then,
        }

    def route(self, node: Route, scope: _Scope, nxt: str | None) -> str:
        entries = {case.name: self.node(case.body, scope, nxt) for case in node.cases}
        default: str | None = None
        if node.default is not None:
            default = self.node(node.default, scope, nxt)
        if node.strategy == "rules":
            catch_all = next((c for c in node.cases if c.when is None), None)
            if catch_all is not None:
                default = entries[catch_all.name]
        if default is None:
            default = scope.add(
                f"{node.id}#nomatch",
                {
                    "Type": "Pass",
                    "Result": {
                        "Error": "NoRouteMatched",
                        "Cause": f"route {node.id!r}: no case matched and there is no default",
                    },
                    "ResultPath": "$.error",
                    "Next": scope.failed(),
                },
            )
        by_case = [self.case_rule(case.name, entries[case.name]) for case in node.cases]
        choice_name = scope.add(
            f"{node.id}#choice", {"Type": "Choice", "Choices": by_case, "Default": default}
        )
        if node.strategy == "rules":
            rules: list[dict[str, Any]] = [
                {
                    "Variable": _REF,
                    "IsPresent": True,
                    "Next": self.evaluate(scope, node.id, choice_name),
                }
            ]
            for case in node.cases:
                if case.when is None:
                    break
                rules.append({**condition_rule(case.when), "Next": entries[case.name]})
            return scope.add(node.id, {"Type": "Choice", "Choices": rules, "Default": default})
        if node.strategy == "agent":
            assert node.router is not None
            router = node.router
            state = self.task(
                node_id=router.id,
                agent=router.agent,
                mode="route",
                retry=router.retry,
                timeout=router.timeout,
                choices={c.name: c.description or c.name for c in node.cases},
            )
            name, on_error = router.id, router.on_error
        else:
            choices = {c.name: c.body.agent for c in node.cases if isinstance(c.body, AgentStep)}
            state = self.task(
                node_id=node.id,
                agent="",
                mode="select_skills",
                retry=_SKILLS_RETRY,
                timeout=_SKILLS_TIMEOUT,
                choices=choices,
            )
            name, on_error = f"{node.id}#select", "fail"
        state["ResultSelector"] = {"case.$": "$.Payload.value"}
        state["ResultPath"] = "$.route"
        catch = self.catchers(scope, name, on_error, choice_name)
        if on_error == "continue":  # a skipped router makes no choice: the route's default
            catch[-1]["ResultPath"] = "$.route"
        state["Catch"] = catch
        state["Next"] = choice_name
        return scope.add(name, state)

    def loop(self, node: Loop, scope: _Scope, nxt: str | None) -> str:
        until, next_name, exit_name = f"{node.id}#until", f"{node.id}#next", f"{node.id}#exit"
        body = self.node(node.body, scope, until)
        scope.add(
            node.id,
            {
                "Type": "Pass",
                "Parameters": _state(
                    scope="States.Format('{}#1', $.scope)",
                    loop={"n": 1, "outer.$": "$.scope", "parent.$": "$.loop"},
                ),
                "Next": body,
            },
        )
        scope.add(
            next_name,
            {
                "Type": "Pass",
                "Parameters": _state(
                    scope="States.Format('{}#{}', $.loop.outer, States.MathAdd($.loop.n, 1))",
                    loop={
                        "n.$": "States.MathAdd($.loop.n, 1)",
                        "outer.$": "$.loop.outer",
                        "parent.$": "$.loop.parent",
                    },
                ),
                "Next": body,
            },
        )
        again = {"Variable": "$.loop.n", "NumericLessThan": node.max_iterations, "Next": next_name}
        rules: list[dict[str, Any]] = []
        if node.until is not None:
            decided = scope.add(
                f"{node.id}#decided",
                {
                    "Type": "Choice",
                    "Choices": [self.case_rule("exit", exit_name), again],
                    "Default": exit_name,
                },
            )
            rules.append(
                {
                    "Variable": _REF,
                    "IsPresent": True,
                    "Next": self.evaluate(scope, node.id, decided),
                }
            )
            rules.append({**condition_rule(node.until), "Next": exit_name})
        rules.append(again)
        scope.add(until, {"Type": "Choice", "Choices": rules, "Default": exit_name})
        scope.add(
            exit_name,
            self.finish(
                scope,
                {
                    "Type": "Pass",
                    "Parameters": _state(scope="$.loop.outer", loop="$.loop.parent"),
                },
                nxt,
                None,
                "$.value",
            ),
        )
        return node.id

    def record(self, scope: _Scope, status: str) -> dict[str, Any]:
        """The Task making the execution's record terminal (mode ``finish``)."""
        state = self.task(
            node_id="", agent="", mode="finish", retry=_RECORD_RETRY, timeout=_SKILLS_TIMEOUT
        )
        payload = state["Parameters"]["Payload"]
        for key in ("node_id", "agent", "step_id.$", "attempt.$", "timeout"):
            del payload[key]
        payload["status"] = status
        if status == "failed":
            payload["error.$"] = "$.error"
            state["ResultPath"] = None  # keep the caught error for the Fail state
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": FAILED}]
            state["Next"] = FAILED
        else:
            state["OutputPath"] = "$.Payload.value"
            state["Catch"] = [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": scope.failed()}
            ]
            state["End"] = True
        return state


def compile_workflow(
    workflow: Workflow,
    *,
    function_arn: str = DEFAULT_FUNCTION_ARN,
    workflow_ref: str | None = None,
) -> dict[str, Any]:
    """The ASL definition of ``workflow``; raises ``DefinitionError`` if it fails the checks.

    ``workflow_ref`` is what Tasks send as ``workflow`` for the step function to find the
    definition by (default: the workflow's name; the service sends an id and version).
    """
    compiler = _Compiler(workflow, function_arn, workflow_ref or workflow.name)
    scope = _Scope("", in_map=False)
    scope.add(RECORD_SUCCESS, compiler.record(scope, "succeeded"))
    scope.add(RECORD_FAILURE, compiler.record(scope, "failed"))
    scope.add(FAILED, {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"})
    entry = compiler.node(workflow.root, scope, RECORD_SUCCESS)
    start = scope.add(
        START,
        {
            "Type": "Pass",
            "Parameters": _state(scope="", loop=None, width=""),
            "Next": entry,
        },
    )
    asl: dict[str, Any] = {
        "Comment": f"AgentWeaver workflow {workflow.name}",
        "QueryLanguage": "JSONPath",
        "StartAt": start,
        "States": scope.states,
    }
    problems = static_check(asl)
    if problems:
        raise DefinitionError(
            f"compiled state machine for {workflow.name!r} fails its checks:\n  "
            + "\n  ".join(problems)
        )
    return asl
