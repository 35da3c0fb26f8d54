"""``AgentWeaverStack``: one stage of AgentWeaver in one stack, composed from the constructs.

Order matters only for references: the console's distribution exists before the API (CORS
and Cognito callbacks name its URL), and its ``config.json`` is published last (it names
the API). Everything a stage creates is named from ``config.prefix``, so two stages share
an account without touching each other.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from agentweaver_infra.api import Api
from agentweaver_infra.config import StageConfig
from agentweaver_infra.console import Console
from agentweaver_infra.data import Data
from agentweaver_infra.monitoring import Monitoring
from agentweaver_infra.packaging import find_user_modules
from agentweaver_infra.runtime import Runtime
from agentweaver_infra.triggers import Triggers

__all__ = ["AgentWeaverStack"]

ASL_PLACEHOLDER = "AgentStepFunctionArn"  # statemachines/*.asl.json: ${AgentStepFunctionArn}


class AgentWeaverStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"AgentWeaver {config.stage}: multi-agent LLM workflows on Step Functions",
            **kwargs,
        )
        self.config = config
        Tags.of(self).add("agentweaver:stage", config.stage)
        modules = find_user_modules(config.project_root)

        self.data = Data(self, "Data", config=config)
        self.runtime = Runtime(self, "Runtime", config=config, data=self.data, modules=modules)
        functions = self.runtime.functions
        self.console = Console(self, "Console", config=config)
        self.api = Api(
            self,
            "Api",
            config=config,
            function=functions["api"],
            authorizer_function=functions["authorizer"],
            console_url=self.console.url,
        )
        self.triggers = Triggers(
            self,
            "Triggers",
            config=config,
            function=functions["triggers"],
            api_function=functions["api"],
        )
        self.console.publish(
            {
                "apiUrl": self.api.url,
                "region": self.region,
                "userPoolId": self.api.user_pool.user_pool_id,
                "userPoolClientId": self.api.client.user_pool_client_id,
                "cognitoDomain": self.api.cognito_domain,
                "stage": config.stage,
            }
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            functions=functions,
            http_api=self.api.http_api,
            queues={"Triggers": self.triggers.dlq, "StatusEvents": self.runtime.status_dlq},
        )
        if config.example_state_machines:
            self._examples()

        for name, value, what in (
            ("ApiUrl", self.api.url, "the HTTP API"),
            ("ConsoleUrl", self.console.url, "the web console"),
            ("UserPoolId", self.api.user_pool.user_pool_id, "Cognito user pool"),
            ("UserPoolClientId", self.api.client.user_pool_client_id, "console app client"),
            ("CognitoDomain", self.api.cognito_domain, "hosted sign-in"),
            ("InboxBucket", self.triggers.inbox.bucket_name, "objects put here trigger workflows"),
            ("EventBusName", self.triggers.bus.event_bus_name, "custom trigger events"),
            ("ArtifactsBucket", self.data.artifacts.bucket_name, "offloaded payloads"),
            ("AlarmTopicArn", self.monitoring.topic.topic_arn, "subscribe to get alarms"),
        ):
            CfnOutput(self, name, value=value, description=what)

    def _examples(self) -> None:
        """The compiled examples of ``statemachines/`` as ready-made state machines."""
        agent_step = self.runtime.functions["agent-step"]
        for path in sorted(self.config.statemachines_dir.glob("*.asl.json")):
            stem = path.name.removesuffix(".asl.json")
            sfn.CfnStateMachine(
                self,
                f"Example{''.join(p.title() for p in stem.split('_'))}",
                state_machine_name=f"{self.config.prefix}-example-{stem.replace('_', '-')}",
                state_machine_type="STANDARD",
                role_arn=self.runtime.sfn_role.role_arn,
                definition_string=path.read_text(encoding="utf-8"),
                definition_substitutions={ASL_PLACEHOLDER: agent_step.function_arn},
            )
