"""The AgentWeaver CDK app's constructs: data, runtime, api, triggers, console, monitoring."""

from agentweaver_infra.config import ConfigError, StageConfig
from agentweaver_infra.stack import AgentWeaverStack

__all__ = ["AgentWeaverStack", "ConfigError", "StageConfig"]
