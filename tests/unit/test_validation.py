"""Definition loading and validation: one bad input per error, with its message and line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from agentweaver import AgentWorkflow, TestModel, agent
from agentweaver.exceptions import DefinitionError, ValidationIssue, WorkflowValidationError
from agentweaver.tools.base import ToolRegistry, tool
from agentweaver.workflow.definition import (
    AgentNode,
    ExecutionMode,
    ParallelNode,
    RouteNode,
    SequenceNode,
    WorkflowDefinition,
)
from agentweaver.workflow.ir import AgentStep, Parallel, Route, Sequence, build_workflow
from agentweaver.workflow.loader import load_definition, load_workflow, parse_definition
from agentweaver.workflow.runner import LocalRunner

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

AGENTS = """\
name: t
agents:
  writer:
    role: Writer
    model: test
  editor:
    role: Editor
    model: test
"""


def problems(text: str, source: str = "wf.yaml") -> list[ValidationIssue]:
    """The issues loading ``text`` raises (the test fails if it loads)."""
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow(source, textwrap.dedent(text))
    assert info.value.source == source
    return info.value.issues


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line containing ``needle``: what an issue should cite."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def only(text: str) -> ValidationIssue:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# -- agents and flow references --------------------------------------------------------------


def test_unknown_agent_lists_the_known_ones() -> None:
    text = AGENTS + "flow:\n  sequence:\n    - writer\n    - reviewer\n"
    issue = only(text)
    assert issue.message == "unknown agent 'reviewer' (known: writer, editor)"
    assert issue.path == "flow.sequence[1]"
    assert issue.line == line_of(text, "- reviewer") == 12


def test_unknown_agent_in_the_error_text() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow("wf.yaml", AGENTS + "flow: {agent: ghost}\n")
    assert str(info.value) == (
        "wf.yaml: invalid workflow: line 9: flow: unknown agent 'ghost' (known: writer, editor)"
    )
    assert info.value.issues[0].line == 9


def test_duplicate_node_id() -> None:
    text = AGENTS + textwrap.dedent(
        """\
        flow:
          sequence:
            - {agent: writer, id: draft}
            - {agent: editor, id: review}
            - {agent: writer, id: draft}
        """
    )
    issue = only(text)
    assert issue.message == "duplicate node id 'draft' (also used at flow.sequence[0])"
    assert issue.path == "flow.sequence[2]"
    assert issue.line == line_of(text, "id: draft", nth=2) == 13


def test_a_repeated_agent_gets_a_numbered_id_not_an_error() -> None:
    workflow = load_workflow("wf.yaml", AGENTS + "flow:\n  sequence: [writer, editor, writer]\n")
    assert [s.id for s in workflow.agent_steps()] == ["writer", "editor", "writer_2"]


def test_duplicate_agent_names_in_agent_workflow() -> None:
    @agent(role="Writer", model=TestModel())
    def writer(text: str) -> None: ...

    @agent(role="Other Writer", model=TestModel(), name="writer")
    def other(text: str) -> None: ...

    with pytest.raises(DefinitionError, match="two agents are named 'writer'"):
        AgentWorkflow([writer, other])


def test_empty_sequence() -> None:
    issue = only(AGENTS + "flow:\n  sequence: []\n")
    assert (issue.path, issue.line) == ("flow.sequence", 10)
    assert issue.message == "empty sequence: add at least one step"


def test_empty_parallel() -> None:
    issue = only(AGENTS + "flow:\n  sequence:\n    - writer\n    - parallel: []\n")
    assert (issue.path, issue.line) == ("flow.sequence[1].parallel", 12)
    assert issue.message == "empty parallel: add at least one branch"


def test_a_workflow_needs_agents() -> None:
    found = problems("name: t\nagents: {}\nflow: writer\n")
    assert [(i.path, i.line, i.message) for i in found] == [
        ("agents", 2, "a workflow needs at least one agent"),
        ("flow", 3, "unknown agent 'writer' (known: none defined)"),
    ]


def test_flow_node_with_two_kinds() -> None:
    issue = only(AGENTS + "flow:\n  sequence:\n    - {agent: writer, loop: editor}\n")
    assert issue.path == "flow.sequence[0]"
    assert issue.line == 11
    assert issue.message == (
        "a flow node needs exactly one of: agent, sequence, parallel, foreach, route, loop"
    )


def test_bad_agent_name() -> None:
    issue = only("name: t\nagents:\n  9lives: {role: Cat, model: test}\nflow: 9lives\n")
    assert issue.path == "agents.9lives"
    assert issue.line == 3
    assert "start with a letter" in issue.message


# -- routes ----------------------------------------------------------------------------------


def test_route_with_no_cases() -> None:
    issue = only(AGENTS + "flow:\n  route:\n    cases: []\n    default: writer\n")
    assert (issue.path, issue.line) == ("flow.route.cases", 11)
    assert issue.message == "a route needs at least one case"


def test_unreachable_case_after_a_catch_all() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    cases:
      - name: anything
        do: writer
      - name: urgent
        when: {path: $.urgent, equals: true}
        do: editor
"""
    )
    assert issue.path == "flow.route.cases[1]"
    assert issue.line == 14  # the "- name: urgent" line
    assert issue.message == "unreachable: case 'anything' before it has no 'when'"


def test_default_after_a_catch_all() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    cases:
      - name: urgent
        when: {path: $.urgent, equals: true}
        do: editor
      - name: anything
        do: writer
    default: editor
"""
    )
    assert issue.path == "flow.route.default"
    assert issue.line == 17
    assert issue.message == "unreachable: case 'anything' always matches"


def test_when_with_a_router() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    router: editor
    cases:
      - name: short
        when: {path: $.words, lt: 100}
        do: writer
"""
    )
    assert issue.path == "flow.route.cases[0].when"
    assert issue.line == 14
    assert issue.message == "'when' is only used when routing by rules, not by agent"


def test_when_with_skills() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    by: skills
    cases:
      - name: short
        when: {path: $.words, lt: 100}
        do: writer
"""
    )
    assert issue.message == "'when' is only used when routing by rules, not by skills"


def test_skills_case_must_be_one_agent() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    by: skills
    cases:
      - name: write
        do: writer
      - name: both
        do:
          sequence: [writer, editor]
"""
    )
    assert issue.path == "flow.route.cases[1].do"
    assert issue.line == 16
    assert issue.message == "routing by skills needs each case to be one agent"


def test_router_with_rules() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    by: rules
    router: editor
    cases:
      - name: short
        when: {path: $.words, lt: 100}
        do: writer
"""
    )
    assert issue.path == "flow.route.router"
    assert issue.line == 12
    assert issue.message == "a router agent is only used with by: agent, not rules"


def test_by_agent_needs_a_router() -> None:
    issue = only(AGENTS + "flow:\n  route:\n    by: agent\n    cases: [{name: a, do: writer}]\n")
    assert issue.message == "by: agent needs a router agent"
    assert issue.path == "flow.route.router"


def test_duplicate_case_name() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    router: editor
    cases:
      - {name: a, do: writer}
      - {name: a, do: editor}
"""
    )
    assert (issue.path, issue.line) == ("flow.route.cases[1].name", 14)
    assert issue.message == "duplicate case name 'a'"


def test_router_of_an_unknown_agent() -> None:
    issue = only(AGENTS + "flow:\n  route:\n    router: boss\n    cases: [{name: a, do: writer}]\n")
    assert issue.message == "unknown agent 'boss' (known: writer, editor)"
    assert (issue.path, issue.line) == ("flow.route.router", 11)


# -- retry policies --------------------------------------------------------------------------


def test_negative_retries() -> None:
    issue = only(AGENTS + "retry:\n  retries: -1\n")
    assert (issue.path, issue.line) == ("retry.retries", 10)
    assert issue.message == "Input should be greater than or equal to 0"


def test_unknown_error_name() -> None:
    issue = only(AGENTS + "retry:\n  errors: [ModelRateLimited, Timeout]\n")
    assert (issue.path, issue.line) == ("retry.errors", 10)
    assert issue.message.startswith("unknown error name(s) 'Timeout'; retryable ones are ")
    assert "StepTimeout" in issue.message


def test_backoff_rate_below_one() -> None:
    issue = only(
        AGENTS.replace("    model: test\n", "    model: test\n    retry: {backoff_rate: 0.5}\n", 1)
    )
    assert (issue.path, issue.line) == ("agents.writer.retry.backoff_rate", 6)
    assert issue.message == "Input should be greater than or equal to 1"


def test_empty_errors_list() -> None:
    issue = only(AGENTS + "flow:\n  agent: writer\n  retry:\n    errors: []\n")
    assert (issue.path, issue.line) == ("flow.retry.errors", 12)
    assert issue.message == "errors is empty: use retries: 0 to never retry"


def test_several_retry_problems_at_once() -> None:
    found = problems(
        AGENTS + "retry:\n  retries: -1\n  backoff_rate: 0.5\n  errors: [Nope]\n  jitter: some\n"
    )
    assert sorted((i.line, i.path) for i in found) == [
        (10, "retry.retries"),
        (11, "retry.backoff_rate"),
        (12, "retry.errors"),
        (13, "retry.jitter"),
    ]
    jitter = next(i for i in found if i.path == "retry.jitter")
    assert jitter.message == "Input should be 'none' or 'full' (got 'some')"


# -- models and tools ------------------------------------------------------------------------


def test_unknown_tool() -> None:
    issue = only(AGENTS.replace("    model: test\n", "    model: test\n    tools: [serch]\n", 1))
    assert (issue.path, issue.line) == ("agents.writer.tools[0]", 6)
    assert issue.message.startswith("unknown tool 'serch' (known: ")


def test_registered_tool_is_known_and_listed() -> None:
    @tool(name="vt_lookup")
    def lookup(query: str) -> str:
        """Look something up."""
        return query

    try:
        text = AGENTS.replace("    model: test\n", "    model: test\n    tools: [vt_lookup]\n", 1)
        load_workflow("wf.yaml", text)
        issue = only(text.replace("[vt_lookup]", "[vt_lookup, vt_nope]"))
        assert issue.message.startswith("unknown tool 'vt_nope' (known: ")
        assert "vt_lookup" in issue.message
    finally:
        ToolRegistry.unregister("vt_lookup")


def test_unknown_model_alias_lists_the_aliases() -> None:
    issue = only(AGENTS.replace("model: test", "model: gtp", 1))
    assert (issue.path, issue.line) == ("agents.writer.model", 5)
    assert issue.message.startswith(
        "unknown model alias 'gtp': use one of claude, gemini, gpt, llama, o3, or 'provider:model'"
    )


def test_unknown_provider() -> None:
    issue = only(AGENTS.replace("model: test", "model: acme:rocket-1", 1))
    assert (issue.path, issue.line) == ("agents.writer.model", 5)
    assert issue.message.startswith("unknown model provider 'acme' in 'acme:rocket-1' (known: ")
    assert "anthropic" in issue.message
    assert "openai" in issue.message


def test_missing_model_after_provider() -> None:
    issue = only(AGENTS.replace("model: test", "model: 'openai:'", 1))
    assert issue.message == "model name missing after 'openai': write 'openai:<model>'"


def test_models_resolve_without_keys() -> None:
    text = AGENTS.replace("model: test", "model: claude", 1).replace("model: test", "model: o3")
    workflow = load_workflow("wf.yaml", text + "flow: writer\n")
    assert workflow.agents["writer"].model == "claude"


# -- conditions ------------------------------------------------------------------------------


def test_bad_condition_path() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  loop: writer
  until:
    path: approved
    equals: true
"""
    )
    assert (issue.path, issue.line) == ("flow.until.path", 12)
    assert issue.message.startswith("bad path 'approved': use '$' for the whole value")


def test_bad_foreach_path() -> None:
    issue = only(AGENTS + "flow:\n  foreach: items\n  do: writer\n")
    assert (issue.path, issue.line) == ("flow.foreach", 10)
    assert issue.message.startswith("bad path 'items'")


def test_condition_with_two_operators() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  loop: writer
  until:
    path: $.score
    gt: 3
    lt: 9
"""
    )
    assert (issue.path, issue.line) == ("flow.until", 11)
    assert issue.message.startswith("a condition needs exactly one operator (equals, not_equals")
    assert issue.message.endswith("; found gt, lt")


def test_condition_with_no_operator() -> None:
    issue = only(AGENTS + "flow:\n  loop: writer\n  until:\n    path: $.score\n")
    assert (issue.path, issue.line) == ("flow.until", 11)
    assert issue.message.endswith("; found none")


def test_condition_in_a_route_case() -> None:
    issue = only(
        AGENTS
        + """\
flow:
  route:
    cases:
      - name: a
        when: {path: $.x, equal: 1}
        do: writer
"""
    )
    assert issue.line == 13
    assert issue.message == "unknown field 'equal'"


# -- fields, syntax, shape -------------------------------------------------------------------


def test_unknown_field_points_at_its_own_line() -> None:
    issue = only(
        """\
name: t
agents:
  writer:
    role: Writer
    model: test
    temprature: 0.2
flow: writer
"""
    )
    assert issue.message == "unknown field 'temprature'"
    assert issue.path == "agents.writer"
    assert issue.line == 6


def test_unknown_top_level_field() -> None:
    issue = only(AGENTS + "flow: writer\nbugdet: {max_steps: 3}\n")
    assert (issue.path, issue.message, issue.line) == ("", "unknown field 'bugdet'", 10)


def test_unknown_field_in_a_flow_node() -> None:
    issue = only(AGENTS + "flow:\n  sequence:\n    - agent: writer\n      timout: 5\n")
    assert issue.path == "flow.sequence[0]"
    assert issue.message == "unknown field 'timout'"
    assert issue.line == 12


def test_invalid_yaml_with_its_line() -> None:
    issue = only(
        """\
name: t
agents:
  writer:
    role: Writer
    model: "test
flow: writer
"""
    )
    assert issue.path == ""
    assert issue.message.startswith("invalid YAML: ")
    assert issue.line == 7  # PyYAML reports the unterminated string at the end of the input


def test_invalid_yaml_bad_indentation() -> None:
    issue = only("name: t\nagents:\n  writer:\n    role: Writer\n   model: test\n")
    assert issue.message.startswith("invalid YAML: ")
    assert issue.line == 5


def test_yaml_list_is_not_a_workflow() -> None:
    issue = only("- writer\n- editor\n")
    assert issue.line == 1
    assert issue.message == (
        "a workflow file must be a mapping with name, agents and flow; got list"
    )


def test_empty_file() -> None:
    assert only("").message.endswith("got nothing")


def test_invalid_json_with_its_line() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        parse_definition('{"name": "t",\n "agents": ,\n "flow": "w"}', "wf.json")
    issue = info.value.issues[0]
    assert issue.message == "invalid JSON: Expecting value"
    assert issue.line == 2
    assert info.value.source == "wf.json"


def test_invalid_json_text_is_reported_as_json() -> None:
    text = '{"name": "t",\n  "agents": {"a": {"role": "A", "model": "test"}},\n  "flow": a}'
    found = problems(text, "wf.json")  # the name says JSON
    assert [(i.message, i.line) for i in found] == [("invalid JSON: Expecting value", 3)]
    with pytest.raises(WorkflowValidationError) as info:
        parse_definition('{"name": "t",\n  "agents": [}')  # guessed, and not YAML either
    assert [(i.message, i.line) for i in info.value.issues] == [
        ("invalid JSON: Expecting value", 2)
    ]


def test_yaml_flow_mapping_is_not_mistaken_for_json() -> None:
    text = "{name: t, agents: {a: {role: A, model: test}}, flow: a}"
    workflow = load_workflow("wf.yaml", text)
    assert [s.id for s in workflow.agent_steps()] == ["a"]
    assert parse_definition(text).agents["a"].role == "A"  # guessed JSON, then YAML


def test_json_text_loads() -> None:
    text = json.dumps({"name": "t", "agents": {"a": {"role": "A", "model": "test"}}, "flow": "a"})
    assert load_workflow("wf.json", text).name == "t"
    assert parse_definition(text, fmt="json").name == "t"
    with pytest.raises(WorkflowValidationError, match="invalid JSON"):
        parse_definition("{name: t}", fmt="json")


def test_json_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_text(
        json.dumps(
            {
                "name": "t",
                "agents": {"writer": {"role": "Writer", "model": "test"}},
                "flow": {"sequence": ["writer"]},
            }
        )
    )
    workflow = load_workflow(path)
    assert [s.id for s in workflow.agent_steps()] == ["writer"]


def test_missing_file() -> None:
    with pytest.raises(WorkflowValidationError, match="cannot read file"):
        load_definition("/nonexistent/wf.yaml")


def test_missing_name() -> None:
    issue = only("agents:\n  writer: {role: Writer, model: test}\nflow: writer\n")
    assert issue.path == "name"
    assert issue.message == "required field is missing"


def test_bad_name() -> None:
    issue = only(AGENTS.replace("name: t", "name: '#bad'"))
    assert issue.path == "name"
    assert issue.line == 1
    assert "should match pattern" in issue.message


def test_missing_role() -> None:
    issue = only("name: t\nagents:\n  writer:\n    model: test\nflow: writer\n")
    assert (issue.path, issue.line) == ("agents.writer.role", 3)
    assert issue.message == "required field is missing"


def test_bad_error_handling() -> None:
    issue = only(AGENTS + "error_handling: retry_forever\n")
    assert (issue.path, issue.line) == ("error_handling", 9)
    assert issue.message == (
        "unknown error_handling 'retry_forever': use 'retry_<n>_times', 'fail' or 'continue'"
    )


def test_bad_mode_lists_the_choices() -> None:
    issue = only(AGENTS + "mode: random\n")
    assert issue.path == "mode"
    assert issue.message == (
        "Input should be 'sequential', 'parallel' or 'conditional' (got 'random')"
    )


def test_bad_function_import_path() -> None:
    issue = only(
        AGENTS.replace("    model: test\n", "    model: test\n    function: mymodule.writer\n", 1)
    )
    assert (issue.path, issue.line) == ("agents.writer.function", 6)
    assert issue.message == ("function must look like 'package.module:name', got 'mymodule.writer'")


async def test_unimportable_function_fails_when_bound() -> None:
    text = AGENTS.replace(
        "    model: test\n", "    model: test\n    function: no_such_pkg.mod:writer\n", 1
    )
    workflow = load_workflow("wf.yaml", text + "flow: writer\n")
    with pytest.raises(DefinitionError, match=r"cannot import 'no_such_pkg\.mod'"):
        await LocalRunner().run(workflow, "x")


async def test_function_that_does_not_exist_in_its_module() -> None:
    text = AGENTS.replace("    model: test\n", "    model: test\n    function: json:nope\n", 1)
    workflow = load_workflow("wf.yaml", text + "flow: writer\n")
    with pytest.raises(DefinitionError, match="'json' has no 'nope'"):
        await LocalRunner().run(workflow, "x")


def test_several_problems_reported_at_once() -> None:
    found = problems(
        """\
name: t
agents:
  writer:
    role: Writer
    model: gtp
  editor:
    role: Editor
    model: test
    tools: [nope]
flow:
  sequence:
    - writer
    - ghost
    - parallel: []
    - {agent: editor, id: writer}
"""
    )
    by_path = {i.path: (i.line, i.message) for i in found}
    assert len(found) == 5
    assert by_path["agents.writer.model"][0] == 5
    assert by_path["agents.editor.tools[0]"][0] == 9
    assert by_path["flow.sequence[1]"] == (13, "unknown agent 'ghost' (known: writer, editor)")
    assert by_path["flow.sequence[2].parallel"] == (14, "empty parallel: add at least one branch")
    assert by_path["flow.sequence[3]"] == (
        15,
        "duplicate node id 'writer' (also used at flow.sequence[0])",
    )


def test_several_schema_problems_at_once() -> None:
    found = problems(
        """\
agents:
  writer:
    role: Writer
    model: test
    temperature: 5
    colour: blue
flow: writer
"""
    )
    assert sorted((i.path, i.line, i.message) for i in found) == [
        ("agents.writer", 6, "unknown field 'colour'"),
        ("agents.writer.temperature", 5, "Input should be less than or equal to 2"),
        ("name", 1, "required field is missing"),  # no line of its own: the document's
    ]


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow("wf.yaml", AGENTS + "flow:\n  sequence:\n    - ghost\n    - parallel: []\n")
    text = str(info.value)
    assert text.startswith("wf.yaml: invalid workflow (2 problems):\n")
    assert "  - line 11: flow.sequence[0]: unknown agent 'ghost'" in text
    assert "  - line 12: flow.sequence[1].parallel: empty parallel" in text
    data = info.value.to_dict()
    assert data["type"] == "WorkflowValidationError"
    assert data["issues"][0] == {
        "path": "flow.sequence[0]",
        "message": "unknown agent 'ghost' (known: writer, editor)",
        "line": 11,
    }


# -- Python-built definitions ----------------------------------------------------------------


def test_python_definition_errors_have_no_lines() -> None:
    definition = WorkflowDefinition(
        name="t",
        agents={"writer": {"role": "Writer", "model": "test"}},  # type: ignore[dict-item]
        flow=SequenceNode(sequence=[AgentNode(agent="writer"), AgentNode(agent="ghost")]),
    )
    with pytest.raises(WorkflowValidationError) as info:
        build_workflow(definition)
    issue = info.value.issues[0]
    assert (issue.path, issue.line) == ("flow.sequence[1]", None)
    assert issue.message == "unknown agent 'ghost' (known: writer)"


def test_agent_workflow_validates_its_flow() -> None:
    @agent(role="Writer", model=TestModel())
    def writer(text: str) -> None: ...

    with pytest.raises(WorkflowValidationError, match="unknown agent 'ghost' \\(known: writer\\)"):
        AgentWorkflow([writer], flow={"sequence": ["writer", "ghost"]})


def test_agent_workflow_rejects_a_bad_error_handling() -> None:
    @agent(role="Writer", model=TestModel())
    def writer(text: str) -> None: ...

    with pytest.raises(WorkflowValidationError, match="unknown error_handling 'retry_always'"):
        AgentWorkflow([writer], error_handling="retry_always")


def test_bad_agent_settings_fail_at_definition_time() -> None:
    with pytest.raises(DefinitionError, match=r"temperature 3 is outside 0\.\.2"):

        @agent(role="Writer", model=TestModel(), temperature=3)
        def writer(text: str) -> None: ...

    with pytest.raises(DefinitionError, match="unknown model alias 'gtp'"):
        agent(role="Writer", model="gtp")(lambda text: None)


# -- the IR: ids, precedence, shorthand ------------------------------------------------------


def test_ids_and_precedence_in_the_ir() -> None:
    workflow = load_workflow(
        "wf.yaml",
        """\
name: t
agents:
  writer: {role: Writer, model: test, timeout: 12, retry: {retries: 1}}
  editor: {role: Editor, model: test}
retry: {retries: 5}
on_error: continue
flow:
  sequence:
    - writer
    - {agent: writer, retry: {retries: 0}, timeout: 3, on_error: fail}
    - editor
    - route:
        router: editor
        cases: [{name: a, do: writer}]
      id: pick
""",
    )
    steps = {s.id: s for s in workflow.agent_steps()}
    assert list(steps) == ["writer", "writer_2", "editor", "pick_router", "writer_3"]
    assert steps["writer"].retry.retries == 1  # the agent's policy beats the workflow's
    assert steps["writer"].timeout == 12
    assert steps["writer"].on_error == "continue"
    assert steps["writer_2"].retry.retries == 0  # the node's policy beats the agent's
    assert steps["writer_2"].timeout == 3
    assert steps["writer_2"].on_error == "fail"
    assert steps["editor"].retry.retries == 5  # the workflow's
    assert steps["editor"].timeout == 30
    assert isinstance(workflow.root, Sequence)
    route = workflow.root.steps[3]
    assert isinstance(route, Route)
    assert route.id == "pick"
    assert route.strategy == "agent"


def test_error_handling_shorthand_sets_retry_and_on_error() -> None:
    w = load_workflow("wf.yaml", AGENTS + "flow: writer\nerror_handling: retry_2_times\n")
    assert isinstance(w.root, AgentStep)
    assert w.root.retry.retries == 2
    assert w.root.on_error == "fail"
    w = load_workflow("wf.yaml", AGENTS + "flow: writer\nerror_handling: continue\n")
    assert isinstance(w.root, AgentStep)
    assert (w.root.retry.retries, w.root.on_error) == (0, "continue")
    # an explicit retry beats the shorthand
    w = load_workflow(
        "wf.yaml", AGENTS + "flow: writer\nerror_handling: retry_2_times\nretry: {retries: 7}\n"
    )
    assert isinstance(w.root, AgentStep)
    assert w.root.retry.retries == 7


def test_mode_shorthand() -> None:
    seq = load_workflow("wf.yaml", AGENTS)
    assert isinstance(seq.root, Sequence)
    assert [s.id for s in seq.root.steps] == ["writer", "editor"]  # type: ignore[union-attr]
    par = load_workflow("wf.yaml", AGENTS + "mode: parallel\nmax_parallel: 2\n")
    assert isinstance(par.root, Parallel)
    assert par.root.max_parallel == 2
    cond = load_workflow("wf.yaml", AGENTS + "mode: conditional\n")
    assert isinstance(cond.root, Route)
    assert cond.root.router is not None
    assert cond.root.router.agent == "writer"
    assert [c.name for c in cond.root.cases] == ["editor"]
    assert cond.root.cases[0].description == "Editor"
    definition = cond.definition
    assert definition.mode is ExecutionMode.CONDITIONAL
    assert isinstance(definition.effective_flow(), RouteNode)
    assert isinstance(par.definition.effective_flow(), ParallelNode)


# -- the examples ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_load_and_validate(path: Path) -> None:
    workflow = load_workflow(path)
    assert workflow.name == path.stem.replace("_", "-")
    assert workflow.agent_steps()
    # and the YAML round-trips through the definition model unchanged
    again = WorkflowDefinition.model_validate(workflow.definition.model_dump(exclude_unset=True))
    assert build_workflow(again).agent_steps() == workflow.agent_steps()


def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES.glob("*.yaml")} >= {
        "multi_perspective.yaml",
        "research_team.yaml",
        "support_triage.yaml",
    }


def test_a_mode_derived_flow_over_bad_agent_names_is_a_validation_error() -> None:
    issue = only("name: t\nmode: conditional\nagents:\n  r: {role: R}\n  '0': {role: Z}\n")
    assert issue.path == "agents.0"
    assert "start with a letter" in issue.message
