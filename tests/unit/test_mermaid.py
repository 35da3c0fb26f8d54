"""ASL -> Mermaid: every state drawn, Map/Parallel contents in subgraphs, safe ids, stable text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from agentweaver.compiler import compile_workflow, to_mermaid
from agentweaver.compiler.mermaid import escape_label, rule_label
from agentweaver.workflow.loader import load_workflow

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))

NODE = re.compile(r'^\s*(?P<id>\S+?)(?:\[|\{|\(|\(\(|\(\(\()+"(?P<label>[^"]*)"[\]})]+$')
SUBGRAPH = re.compile(r'^\s*subgraph (?P<id>\S+) \["(?P<label>[^"]*)"\]$')
EDGE = re.compile(
    r'^\s*(?P<src>s\d+) (?P<arrow>-->|-\.->)(?:\|"(?P<label>[^"]*)"\|)? (?P<dst>s\d+)$'
)
SAFE_ID = re.compile(r"^s\d+$")


def walk(machine: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, state) of every state, nested ones included."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, state in machine["States"].items():
        out.append((name, state))
        if state["Type"] == "Map":
            out.extend(walk(state["ItemProcessor"]))
        for branch in state.get("Branches", []):
            out.extend(walk(branch))
    return out


def parse(text: str) -> tuple[dict[str, str], dict[str, str], list[re.Match[str]], list[str]]:
    """Node id -> label, subgraph id -> label, edges; fails on any line it cannot read."""
    nodes: dict[str, str] = {}
    subgraphs: dict[str, str] = {}
    edges: list[re.Match[str]] = []
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    for line in lines[1:]:
        stripped = line.strip()
        if stripped == "end" or stripped.startswith(("%%", "classDef ", "class ")):
            continue
        if match := SUBGRAPH.match(line):
            subgraphs[match["id"]] = match["label"]
        elif match := EDGE.match(line):
            edges.append(match)
        elif match := NODE.match(line):
            nodes[match["id"]] = match["label"]
        else:
            pytest.fail(f"unexpected mermaid line: {line!r}")
    return nodes, subgraphs, edges, lines


def block(lines: list[str], subgraph_id: str) -> list[str]:
    """The lines inside ``subgraph <id> ... end`` (nested blocks included)."""
    start = next(
        i for i, line in enumerate(lines) if line.strip().startswith(f"subgraph {subgraph_id} ")
    )
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].strip() == "end" and len(lines[i]) - len(lines[i].lstrip()) == indent
    )
    return lines[start + 1 : end]


def labelled(name: str, label: str) -> bool:
    escaped = escape_label(name)
    return label == escaped or label.startswith(escaped + " (")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_state_of_an_example_is_drawn(path: Path) -> None:
    asl = compile_workflow(load_workflow(path))
    text = to_mermaid(asl)
    nodes, subgraphs, edges, _ = parse(text)
    labels = [*nodes.values(), *subgraphs.values()]
    for name, _ in walk(asl):
        assert any(labelled(name, label) for label in labels), f"state {name!r} not drawn"
    assert all(SAFE_ID.match(i) for i in [*nodes, *subgraphs])
    assert len(set(nodes) | set(subgraphs)) == len(nodes) + len(subgraphs)  # ids are unique
    for edge in edges:  # edges join declared things only
        assert edge["src"] in nodes or edge["src"] in subgraphs
        assert edge["dst"] in nodes or edge["dst"] in subgraphs


def test_map_contents_are_inside_its_subgraph() -> None:
    asl = compile_workflow(
        load_workflow(
            "w.yaml",
            "name: w\nagents:\n  a: {role: A, model: test}\n  b: {role: B, model: test}\n"
            "flow:\n  sequence:\n    - {foreach: $.items, do: a}\n    - {parallel: [a, b]}\n",
        )
    )
    text = to_mermaid(asl)
    _, subgraphs, _, lines = parse(text)
    maps = [(n, s) for n, s in walk(asl) if s["Type"] == "Map"]
    assert len(maps) >= 2
    for name, state in maps:
        sub_id = next(i for i, label in subgraphs.items() if labelled(name, label))
        inside = [NODE.match(line) for line in block(lines, sub_id)]
        inside_labels = [m["label"] for m in inside if m]
        for inner in state["ItemProcessor"]["States"]:
            assert any(labelled(inner, label) for label in inside_labels), (inner, sub_id)
    # the top level's own states are declared outside every subgraph
    top = [m["label"] for line in lines if line.startswith("    s") and (m := NODE.match(line))]
    for name, state in asl["States"].items():
        if state["Type"] not in ("Map", "Parallel"):
            assert any(labelled(name, label) for label in top), name


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_output_is_deterministic_and_independent_of_key_order(path: Path) -> None:
    first = to_mermaid(compile_workflow(load_workflow(path)))
    second = to_mermaid(compile_workflow(load_workflow(path)))
    assert first == second
    assert first.endswith("\n")
    # read back from the committed, key-sorted JSON: the same picture
    reread = json.loads(json.dumps(compile_workflow(load_workflow(path)), sort_keys=True))
    assert to_mermaid(reread) == first


NASTY: dict[str, Any] = {
    "Comment": 'a "quoted"\ncomment',
    "StartAt": 'say "hi" [0]',
    "States": {
        'say "hi" [0]': {
            "Type": "Task",
            "Resource": "arn:x",
            "Next": "pick.one #1",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "boom;end"}],
        },
        "pick.one #1": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.value.x", "IsPresent": True},
                        {"Variable": "$.value.x", "IsString": True},
                        {"Variable": "$.value.x", "StringEquals": 'a "b" | <c>'},
                    ],
                    "Next": "each [item]",
                },
                {"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.m", "Next": "fan{out}"},
                {"Not": {"Variable": "$.value.y", "IsNull": True}, "Next": "wait a bit"},
            ],
            "Default": "boom;end",
        },
        "each [item]": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "inner #x;",
                "States": {"inner #x;": {"Type": "Pass", "End": True}},
            },
            "Next": "done",
        },
        "fan{out}": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "b", "States": {"b": {"Type": "Task", "Resource": "r", "End": True}}},
                {"StartAt": "b", "States": {"b": {"Type": "Pass", "End": True}}},
            ],
            "Next": "done",
        },
        "wait a bit": {"Type": "Wait", "Seconds": 1, "Next": "done"},
        "done": {"Type": "Succeed"},
        "boom;end": {"Type": "Fail", "Error": "Boom"},
    },
}


def test_hand_written_asl_with_awkward_names() -> None:
    text = to_mermaid(NASTY)
    nodes, subgraphs, edges, lines = parse(text)
    assert all(SAFE_ID.match(i) for i in [*nodes, *subgraphs])
    # no raw quote inside any label; the name's quotes are entities
    assert nodes["s0"] == "say #quot;hi#quot; [0]"
    assert '"say #quot;hi#quot; [0]"' in text
    # "#x;" would be read as an HTML entity by mermaid: its '#' is escaped
    assert "inner #35;x;" in text
    assert "pick.one #1" in text  # a '#' that cannot start an entity stays readable
    # shapes by type
    by_label = {label: i for i, label in nodes.items()}
    shapes = {
        "pick.one #1": '{"',
        "wait a bit": '{{"',
        "done": '(("',
        "boom;end": '((("',
        "inner #35;x;": '(["',
    }
    for label, opening in shapes.items():
        assert f"{by_label[label]}{opening}{label}" in text
    # both branches of the Parallel, each in its own subgraph inside the Parallel's
    fan = next(i for i, label in subgraphs.items() if label.startswith("fan{out}"))
    branches = [i for i, label in subgraphs.items() if label.startswith("branch ")]
    assert len(branches) == 2
    inside = "\n".join(block(lines, fan))
    assert all(f"subgraph {b} " in inside for b in branches)
    # Choice edges carry a short rule; Default and Catch are labelled; Catch is dashed
    labels = {(e["src"], e["label"], e["arrow"]) for e in edges}
    choice = by_label["pick.one #1"]
    assert (choice, "value.x == 'a #quot;b#quot; #124; #lt;c#gt;'", "-->") in labels
    assert (choice, "n #gt;= m", "-->") in labels
    assert (choice, "not (value.y is null)", "-->") in labels
    assert (choice, "default", "-->") in labels
    assert ("s0", "catch", "-.->") in labels
    assert '%% a "quoted" comment' in text  # a comment: one line, never parsed
    assert to_mermaid(NASTY) == text


def test_rule_labels_are_short() -> None:
    long_value = {"Variable": "$.value.topic", "StringEquals": "x" * 200, "Next": "n"}
    assert len(rule_label(long_value)) == 40
    assert rule_label(long_value).endswith("…")
    assert rule_label({"Variable": "$.loop.n", "NumericLessThan": 3}) == "loop.n < 3"
    assert rule_label({"Variable": "$.ok", "BooleanEquals": True}) == "ok == true"
    assert rule_label({"Variable": "$.v", "IsPresent": False}) == "v missing"


def test_unknown_types_and_dangling_transitions_are_still_drawn() -> None:
    text = to_mermaid(
        {
            "StartAt": "a",
            "States": {
                "a": {"Type": "Frobnicate", "Next": "nowhere"},
                "unreachable": {"Type": "Pass", "End": True},
            },
        }
    )
    nodes, _, edges, _ = parse(text)
    assert nodes["s0"] == "a (Frobnicate)"
    assert "unreachable" in nodes.values()
    assert "nowhere (missing)" in nodes.values()
    assert [(e["src"], e["dst"]) for e in edges] == [
        ("s0", next(i for i, label in nodes.items() if label == "nowhere (missing)"))
    ]


def test_escape_label() -> None:
    assert escape_label('a"b') == "a#quot;b"
    assert escape_label("a\nb\tc") == "a b c"
    assert escape_label("x#amp;") == "x#35;amp;"
    assert escape_label("x#1 y") == "x#1 y"
    assert '"' not in escape_label('"""')
