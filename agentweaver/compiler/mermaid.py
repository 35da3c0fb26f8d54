"""Amazon States Language -> a Mermaid ``flowchart TD``: a picture for the docs and the console.

One node per state, shaped by its type (Task: rectangle, Choice: rhombus, Pass: stadium,
Succeed: circle, Fail: double circle, Wait: hexagon, anything else: a rectangle naming its
type); a Map is a subgraph holding its ItemProcessor's states, a Parallel a subgraph holding
one subgraph per branch. Edges follow ``Next``, the Choice rules (labelled with a short
reading of the rule) and ``Default``; ``Catch`` edges are dashed and labelled ``catch``.

Mermaid ids are ``s0``, ``s1``... in the order the states are reached from ``StartAt``
(unreachable states follow, by name), so the output depends only on the transitions, never
on the order of the ``States`` keys: the same definition gives the same text, whether it
was built in memory or read back from ``json.dumps(..., sort_keys=True)``. State names go
into quoted labels, escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["escape_label", "rule_label", "to_mermaid"]

_LABEL_MAX = 40
_INDENT = "    "
# Mermaid decodes "#name;" and "#123;" as entities, and renders labels as HTML.
_WHITESPACE = re.compile(r"[\r\n\t]+")
_ENTITY_LIKE = re.compile(r"#(?=\w+;)")
_ESCAPES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;", "|": "#124;"}

_SHAPES = {
    "Task": ('["', '"]'),
    "Choice": ('{"', '"}'),
    "Pass": ('(["', '"])'),
    "Succeed": ('(("', '"))'),
    "Fail": ('((("', '")))'),
    "Wait": ('{{"', '"}}'),
}
_CLASSES = {"Fail": "fail", "Succeed": "succeed"}
_CLASS_STYLES = {
    "fail": "fill:#fde8e8,stroke:#c0392b,color:#7b241c",
    "succeed": "fill:#e8f8ee,stroke:#1e8449,color:#145a32",
}

# Choice comparison operators, as shown on an edge
_OPERATORS = {  # longest suffix first: "GreaterThanEquals" also ends with "Equals"
    "GreaterThanEquals": ">=",
    "LessThanEquals": "<=",
    "GreaterThan": ">",
    "LessThan": "<",
    "Equals": "==",
    "Matches": "matches",
}
_TYPE_GUARDS = {"IsPresent", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"}


def escape_label(text: str) -> str:
    """``text`` made safe inside a quoted Mermaid label (``["..."]`` or ``|"..."|``)."""
    text = _WHITESPACE.sub(" ", text)
    text = _ENTITY_LIKE.sub("#35;", text)
    return "".join(_ESCAPES.get(char, char) for char in text)


def _truncate(text: str, limit: int = _LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _variable(rule: Mapping[str, Any]) -> str:
    var = str(rule.get("Variable", "?"))
    return var[2:] if var.startswith("$.") else var


def _value(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, sort_keys=True)


def _leaf(rule: Mapping[str, Any]) -> str:
    var = _variable(rule)
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key.startswith("Is"):
            what = key[2:].lower()
            if key == "IsPresent":
                return f"{var} exists" if value else f"{var} missing"
            return f"{var} is {what}" if value else f"{var} is not {what}"
        path = key.endswith("Path")
        base = key[: -len("Path")] if path else key
        for suffix, symbol in _OPERATORS.items():
            if base.endswith(suffix):
                shown = str(value) if path else _value(value)
                if shown.startswith("$."):
                    shown = shown[2:]
                return f"{var} {symbol} {shown}"
        return f"{var} {key} {_value(value)}"
    return var


def _is_guard(rule: Mapping[str, Any]) -> bool:
    return any(key in _TYPE_GUARDS and value is True for key, value in rule.items())


def _rule_text(rule: Mapping[str, Any]) -> str:
    if "And" in rule or "Or" in rule:
        joiner = " and " if "And" in rule else " or "
        parts = list(rule.get("And") or rule.get("Or") or [])
        if "And" in rule:  # IsPresent/IsString... guards only restate the comparison
            tests = [p for p in parts if not _is_guard(p)]
            parts = tests or parts
        texts = [_rule_text(p) for p in parts]
        if len(texts) == 1:
            return texts[0]
        return joiner.join(f"({t})" if (" and " in t or " or " in t) else t for t in texts)
    if "Not" in rule:
        inner = _rule_text(rule["Not"])
        return f"not ({inner})" if " " in inner else f"not {inner}"
    return _leaf(rule)


def rule_label(rule: Mapping[str, Any]) -> str:
    """A short reading of one Choice rule, e.g. ``value.priority > 3`` (truncated)."""
    return _truncate(_rule_text(rule))


class _Renderer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.edges: list[str] = []
        self.seen_edges: set[str] = set()
        self.classes: dict[str, list[str]] = {}
        self.count = 0

    def new_id(self) -> str:
        node_id = f"s{self.count}"
        self.count += 1
        return node_id

    def edge(self, src: str, dst: str, label: str | None = None, dashed: bool = False) -> None:
        arrow = "-.->" if dashed else "-->"
        text = f'{src} {arrow}|"{escape_label(label)}"| {dst}' if label else f"{src} {arrow} {dst}"
        if text not in self.seen_edges:
            self.seen_edges.add(text)
            self.edges.append(text)

    def scope(self, machine: Mapping[str, Any], depth: int) -> None:
        """Declare the states of one state machine (top level, Map item, Parallel branch)."""
        raw_states = machine.get("States")
        states: Mapping[str, Any] = raw_states if isinstance(raw_states, Mapping) else {}
        order = _reachable(machine, states)
        ids = {name: self.new_id() for name in order}
        pad = _INDENT * depth
        missing: dict[str, str] = {}

        def target(name: Any) -> str:
            key = str(name)
            if key in ids:
                return ids[key]
            if key not in missing:  # a transition to no state: show it, do not hide it
                missing[key] = self.new_id()
            return missing[key]

        for name in order:
            state = states[name]
            state = state if isinstance(state, Mapping) else {}
            node = ids[name]
            kind = str(state.get("Type", "?"))
            if kind == "Map":
                self.lines.append(f'{pad}subgraph {node} ["{escape_label(name)} (Map)"]')
                processor = state.get("ItemProcessor") or state.get("Iterator") or {}
                self.scope(processor if isinstance(processor, Mapping) else {}, depth + 1)
                self.lines.append(f"{pad}end")
            elif kind == "Parallel":
                self.lines.append(f'{pad}subgraph {node} ["{escape_label(name)} (Parallel)"]')
                for index, branch in enumerate(state.get("Branches") or [], start=1):
                    inner = _INDENT * (depth + 1)
                    self.lines.append(f'{inner}subgraph {self.new_id()} ["branch {index}"]')
                    self.scope(branch if isinstance(branch, Mapping) else {}, depth + 2)
                    self.lines.append(f"{inner}end")
                self.lines.append(f"{pad}end")
            else:
                label = escape_label(name)
                if kind not in _SHAPES:
                    label = f"{label} ({escape_label(kind)})"
                opening, closing = _SHAPES.get(kind, _SHAPES["Task"])
                self.lines.append(f"{pad}{node}{opening}{label}{closing}")
                if kind in _CLASSES:
                    self.classes.setdefault(_CLASSES[kind], []).append(node)
            for nxt, edge_label, dashed in _transitions(state):
                self.edge(node, target(nxt), edge_label, dashed)
        for name, node in missing.items():
            self.lines.append(f'{pad}{node}["{escape_label(name)} (missing)"]')
            self.classes.setdefault("fail", []).append(node)


def _transitions(state: Mapping[str, Any]) -> list[tuple[Any, str | None, bool]]:
    """(target, edge label, dashed) for every way out of ``state``, in ASL order."""
    out: list[tuple[Any, str | None, bool]] = []
    if "Next" in state:
        out.append((state["Next"], None, False))
    for rule in state.get("Choices") or []:
        if isinstance(rule, Mapping) and "Next" in rule:
            out.append((rule["Next"], rule_label(rule), False))
    if "Default" in state:
        out.append((state["Default"], "default", False))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, Mapping) and "Next" in catcher:
            out.append((catcher["Next"], "catch", True))
    return out


def _reachable(machine: Mapping[str, Any], states: Mapping[str, Any]) -> list[str]:
    """State names breadth-first from ``StartAt``, then the unreachable ones by name."""
    order: list[str] = []
    seen: set[str] = set()
    queue = [machine.get("StartAt")]
    while queue:
        name = queue.pop(0)
        if not isinstance(name, str) or name in seen or name not in states:
            continue
        seen.add(name)
        order.append(name)
        state = states[name]
        if isinstance(state, Mapping):
            queue.extend(nxt for nxt, _, _ in _transitions(state))
    order.extend(sorted(name for name in states if name not in seen))
    return order


def to_mermaid(asl: Mapping[str, Any]) -> str:
    """A Mermaid ``flowchart TD`` of the ASL definition ``asl`` (ends with a newline)."""
    renderer = _Renderer()
    header = ["flowchart TD"]
    comment = asl.get("Comment")
    if isinstance(comment, str) and comment.strip():
        header.append(f"{_INDENT}%% {' '.join(comment.split())}")
    renderer.scope(asl, 1)
    lines = header + renderer.lines + [f"{_INDENT}{edge}" for edge in renderer.edges]
    for name in sorted(renderer.classes):
        lines.append(f"{_INDENT}classDef {name} {_CLASS_STYLES[name]}")
        lines.append(f"{_INDENT}class {','.join(renderer.classes[name])} {name}")
    return "\n".join(lines) + "\n"
