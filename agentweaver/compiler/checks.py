"""Static checks on a compiled ASL definition (JSONPath): the graph and the resilience fields.

``static_check`` returns one message per problem, ``[]`` when the definition is sound:
every ``StartAt`` / ``Next`` / ``Default`` / Choice rule ``Next`` / Catch ``Next`` names a
state of its own scope (top level, a Map ``ItemProcessor`` or a Parallel branch), no state is
unreachable, state names are unique across the whole machine, every non-terminal state has a
way on, every Task has ``Retry``, ``Catch`` and ``TimeoutSeconds``, every Map ``MaxConcurrency``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["static_check"]

_TERMINAL_TYPES = {"Choice", "Succeed", "Fail"}


def static_check(asl: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    _check_scope(asl, "top level", problems, seen)
    return problems


def _targets(name: str, state: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if "Next" in state:
        out.append((f"{name}.Next", state["Next"]))
    if "Default" in state:
        out.append((f"{name}.Default", state["Default"]))
    for i, rule in enumerate(state.get("Choices", [])):
        out.append((f"{name}.Choices[{i}].Next", rule.get("Next")))
    for i, catcher in enumerate(state.get("Catch", [])):
        out.append((f"{name}.Catch[{i}].Next", catcher.get("Next")))
    return out


def _check_scope(
    machine: dict[str, Any], where: str, problems: list[str], seen: dict[str, str]
) -> None:
    states = machine.get("States")
    if not isinstance(states, dict) or not states:
        problems.append(f"{where}: no States")
        return
    start = machine.get("StartAt")
    if start not in states:
        problems.append(f"{where}: StartAt {start!r} names no state")
    for name, state in states.items():
        if name in seen:
            problems.append(f"state name {name!r} used twice ({seen[name]} and {where})")
        seen[name] = where
        if len(name) > 80:
            problems.append(f"state {name!r}: name longer than 80 characters")
        kind = state.get("Type")
        for label, target in _targets(name, state):
            if target not in states:
                problems.append(f"{where}: {label} {target!r} names no state in its scope")
        if kind == "Choice":
            if not state.get("Choices"):
                problems.append(f"{where}: Choice {name!r} has no Choices")
        elif kind not in _TERMINAL_TYPES and not state.get("End") and "Next" not in state:
            problems.append(f"{where}: {kind} {name!r} has neither Next nor End")
        if kind == "Task":
            for field in ("Retry", "Catch", "TimeoutSeconds"):
                if not state.get(field):
                    problems.append(f"{where}: Task {name!r} has no {field}")
        if kind == "Map":
            if not state.get("MaxConcurrency"):
                problems.append(f"{where}: Map {name!r} has no MaxConcurrency")
            processor = state.get("ItemProcessor")
            if not isinstance(processor, dict):
                problems.append(f"{where}: Map {name!r} has no ItemProcessor")
            else:
                _check_scope(processor, f"Map {name!r}", problems, seen)
        if kind == "Parallel":
            for i, branch in enumerate(state.get("Branches", [])):
                _check_scope(branch, f"Parallel {name!r} branch {i}", problems, seen)
    # reachability from StartAt
    if start in states:
        reached = {start}
        todo = [start]
        while todo:
            current = states[todo.pop()]
            for _, target in _targets("", current):
                if target in states and target not in reached:
                    reached.add(target)
                    todo.append(target)
        for name in states:
            if name not in reached:
                problems.append(f"{where}: state {name!r} is unreachable")
