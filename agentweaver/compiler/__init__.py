"""IR -> Amazon States Language (JSONPath). See ``agentweaver.compiler.asl``."""

from typing import Any

from agentweaver.compiler.asl import DEFAULT_FUNCTION_ARN, compile_workflow
from agentweaver.compiler.checks import static_check
from agentweaver.compiler.mermaid import to_mermaid
from agentweaver.workflow.ir import Workflow

__all__ = ["DEFAULT_FUNCTION_ARN", "compile", "compile_workflow", "static_check", "to_mermaid"]


def compile(workflow: Workflow, **options: Any) -> dict[str, Any]:
    """``compile_workflow`` under the short name the docs use: ``compiler.compile(wf)``."""
    return compile_workflow(workflow, **options)
