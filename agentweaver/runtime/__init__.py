"""The step runtime shared by every executor."""

from agentweaver.runtime.budget import BudgetTracker
from agentweaver.runtime.step import StepDeps, StepInput, StepOutput, execute_step

__all__ = ["BudgetTracker", "StepDeps", "StepInput", "StepOutput", "execute_step"]
