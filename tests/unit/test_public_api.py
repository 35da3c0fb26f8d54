"""The public API: the exported names, lazy loading, and what ``import agentweaver`` costs."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import subprocess
import sys
import textwrap

import pytest

import agentweaver

#: the spec's names plus ours; changing this list is an API change
EXPORTED = [
    "agent",
    "Agent",
    "AgentConfig",
    "AgentNode",
    "AgentResult",
    "AgentSpec",
    "AgentWeaverError",
    "AgentWorkflow",
    "Budget",
    "CommunicationHub",
    "Condition",
    "CoordinatorAgent",
    "Event",
    "ExecutionMode",
    "ForeachNode",
    "FunctionModel",
    "load_workflow",
    "LocalRunner",
    "LoopNode",
    "Message",
    "Model",
    "ModelType",
    "ParallelNode",
    "RetryPolicy",
    "RouteCase",
    "RouteNode",
    "RouteSpec",
    "SequenceNode",
    "TestModel",
    "Tool",
    "tool",
    "ToolRegistry",
    "Usage",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowResult",
]

VENDOR_SDKS = ("anthropic", "openai", "google.genai", "boto3", "botocore")
HEAVY = ("yaml", "typer", "rich")


def run_python(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the modules it had imported afterwards."""
    script = textwrap.dedent(code) + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def imported(loaded: list[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in loaded)


def test_all_is_pinned() -> None:
    assert sorted(agentweaver.__all__) == sorted(EXPORTED)
    assert len(set(agentweaver.__all__)) == len(agentweaver.__all__)


@pytest.mark.parametrize("name", EXPORTED)
def test_every_name_resolves(name: str) -> None:
    value = getattr(agentweaver, name)
    assert value is not None
    assert getattr(value, "__name__", name) == name
    assert name in dir(agentweaver)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        agentweaver.nope  # noqa: B018


def test_version() -> None:
    assert agentweaver.__version__ == "0.1.0"


def test_agent_is_the_decorator_even_after_importing_submodules() -> None:
    import agentweaver.agents
    import agentweaver.workflow
    from agentweaver import agent

    assert inspect.isfunction(agent)
    assert agent is agentweaver.agents.agent
    assert vars(agentweaver)["agent"] is agentweaver.agents.agent  # cached by __getattr__


def test_agent_is_the_decorator_in_a_fresh_interpreter() -> None:
    code = """
    import inspect
    import agentweaver.agents
    import agentweaver.workflow
    from agentweaver import agent, tool
    assert inspect.isfunction(agent), agent
    assert inspect.isfunction(tool), tool
    import agentweaver
    assert agentweaver.agent is agent
    """
    run_python(code)


def test_no_submodule_shadows_an_exported_name() -> None:
    # ``import agentweaver.<name>`` would replace the exported attribute with a module
    for name in EXPORTED:
        assert importlib.util.find_spec(f"agentweaver.{name}") is None, name


def test_import_agentweaver_is_light() -> None:
    loaded = run_python("import agentweaver")
    for module in (*VENDOR_SDKS, *HEAVY):
        assert not imported(loaded, module), module
    assert "agentweaver.agents" not in loaded
    assert "agentweaver.workflow" not in loaded


def test_agent_and_workflow_import_no_vendor_sdk() -> None:
    loaded = run_python("from agentweaver import agent, AgentWorkflow")
    assert "agentweaver.agents" in loaded
    assert "agentweaver.workflow" in loaded
    for module in VENDOR_SDKS:
        assert not imported(loaded, module), module
