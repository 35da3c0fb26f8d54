"""IR -> Amazon States Language (JSONPath). See ``agentweaver.compiler.asl``."""

from agentweaver.compiler.asl import DEFAULT_FUNCTION_ARN, compile_workflow
from agentweaver.compiler.checks import static_check
from agentweaver.compiler.mermaid import to_mermaid

__all__ = ["DEFAULT_FUNCTION_ARN", "compile_workflow", "static_check", "to_mermaid"]
