"""The step runtime shared by every executor."""

# The workflow package imports runtime.step (runner) and runtime.step imports the workflow
# package (its Event): load the workflow package first so that importing a runtime module
# before anything else (the agent-step Lambda's cold start) does not hit the cycle half-way.
import agentweaver.workflow  # noqa: F401
from agentweaver.runtime.budget import BudgetTracker
from agentweaver.runtime.step import StepDeps, StepInput, StepOutput, execute_step

__all__ = ["BudgetTracker", "StepDeps", "StepInput", "StepOutput", "execute_step"]
