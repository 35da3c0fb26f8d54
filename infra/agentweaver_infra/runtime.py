"""Runtime: the layer, the five functions, the Step Functions role, the status-change rule.

Each function's code asset is its handler directory plus the user's agent modules
(``packaging``; not for the API Gateway authorizer, which runs no user code); everything
else (the core library, Powertools, provider SDKs) is the shared layer, so a code change
redeploys kilobytes, not megabytes. Permissions are granted per function from the contract
in the module docstrings of ``agentweaver/aws``: the agent-step role reads only the tables
and the key it needs, the authorizer's only the API keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from agentweaver_infra.config import StageConfig
from agentweaver_infra.data import PAYLOAD_PREFIX, Data
from agentweaver_infra.packaging import UserModules, stage_function_code

__all__ = ["FUNCTIONS", "FunctionSpec", "Runtime"]

RUNTIME = lambda_.Runtime.PYTHON_3_12
KMS_CONTEXT_KEY = "agentweaver:owner"  # agentweaver.aws.kms_vault.OWNER_CONTEXT_KEY


@dataclass(frozen=True)
class FunctionSpec:
    directory: str  # under functions/
    memory: int
    timeout: int  # seconds
    description: str
    required: bool = True  # False: a placeholder handler is staged when the file is missing
    user_code: bool = True  # False: no user modules in the asset, no AGENTWEAVER_MODULES


FUNCTIONS: dict[str, FunctionSpec] = {
    # 900 s: Lambda's maximum; each Task's own TimeoutSeconds (from the agent) is the real limit
    "agent-step": FunctionSpec("agent_step", 1024, 900, "runs one agent step of a workflow"),
    # 29 s: an HTTP API integration cannot wait longer
    "api": FunctionSpec("api", 1024, 29, "the AgentWeaver HTTP API (FastAPI on Mangum)"),
    "triggers": FunctionSpec(
        "triggers", 512, 60, "starts workflows on S3, custom and scheduled events", False
    ),
    "execution-events": FunctionSpec(
        "execution_events", 256, 30, "records Step Functions status changes on executions"
    ),
    # in the request path of every API call: small and quick (API Gateway waits 10 s at most)
    "authorizer": FunctionSpec(
        "authorizer",
        256,
        5,
        "API Gateway authorizer: Cognito JWTs and API keys",
        user_code=False,
    ),
}


class Runtime(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        data: Data,
        modules: UserModules,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.data = data
        stack = Stack.of(self)
        self.architecture = (
            lambda_.Architecture.ARM_64
            if config.architecture == "arm64"
            else lambda_.Architecture.X86_64
        )
        self.layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            layer_version_name=f"{config.prefix}-core",
            code=lambda_.Code.from_asset(str(config.layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[self.architecture],
            description="agentweaver core + providers + Powertools (built by `make layer`)",
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.functions: dict[str, lambda_.Function] = {}
        for name, spec in FUNCTIONS.items():
            self.functions[name] = self._function(name, spec, modules)

        agent_step = self.functions["agent-step"]
        self.sfn_role = iam.Role(
            self,
            "StateMachineRole",
            role_name=f"{config.prefix}-states",
            description="assumed by every AgentWeaver state machine: invokes the agent step only",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        self.sfn_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[agent_step.function_arn, f"{agent_step.function_arn}:*"],
            )
        )
        self._grant_agent_step(agent_step)
        self._grant_api(self.functions["api"])
        data.grant_tables(self.functions["execution-events"], write=("executions", "logs"))
        triggers = self.functions["triggers"]
        data.grant_tables(
            triggers, read=("workflows",), write=("executions", "logs", "idempotency")
        )
        # StepFunctionsExecutor saves the ARN of a state machine it had to (re)create
        data.grant_table_actions(triggers, "workflows", "dynamodb:PutItem", "dynamodb:UpdateItem")
        self._grant_authorizer(self.functions["authorizer"])
        self._grant_payloads(triggers, "s3:GetObject", "s3:PutObject")
        for fn in (self.functions["api"], triggers):
            self.grant_workflow_control(fn)
            fn.add_environment("AGENTWEAVER_STEP_FUNCTION_ARN", agent_step.function_arn)
            fn.add_environment("AGENTWEAVER_SFN_ROLE_ARN", self.sfn_role.role_arn)
            fn.add_environment("AGENTWEAVER_PAYLOAD_BUCKET", data.artifacts.bucket_name)

        self.status_dlq = sqs.Queue(
            self,
            "StatusEventsDlq",
            queue_name=f"{config.prefix}-status-events-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.status_rule = events.Rule(
            self,
            "ExecutionStatusRule",
            rule_name=f"{config.prefix}-execution-status",
            description="Step Functions status changes of this stage's state machines",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"],
                    "stateMachineArn": events.Match.prefix(
                        f"arn:aws:states:{stack.region}:{stack.account}:stateMachine:"
                        f"{config.prefix}-"
                    ),
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.functions["execution-events"],
                    dead_letter_queue=self.status_dlq,
                    retry_attempts=4,
                    max_event_age=Duration.hours(2),
                )
            ],
        )

    # functions

    def _function(self, name: str, spec: FunctionSpec, modules: UserModules) -> lambda_.Function:
        config = self.config
        function_name = f"{config.prefix}-{name}"
        if not spec.user_code:
            modules = UserModules((), ())
        code_dir = stage_function_code(
            config.functions_dir / spec.directory,
            modules,
            config.asset_dir / config.stage / spec.directory,
            required=spec.required,
        )
        log_group = logs.LogGroup(
            self,
            f"{_camel(name)}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        environment = {
            "AGENTWEAVER_STORE": "dynamodb",
            "AGENTWEAVER_TABLE_PREFIX": config.prefix,
            "POWERTOOLS_SERVICE_NAME": config.service(name),
            "POWERTOOLS_METRICS_NAMESPACE": "AgentWeaver",
            "LOG_LEVEL": config.log_level,
        }
        if spec.user_code:
            environment["AGENTWEAVER_MODULES"] = modules.env
            environment["AGENTWEAVER_PAYLOAD_PREFIX"] = PAYLOAD_PREFIX
        return lambda_.Function(
            self,
            f"{_camel(name)}Function",
            function_name=function_name,
            description=f"AgentWeaver {config.stage}: {spec.description}",
            runtime=RUNTIME,
            architecture=self.architecture,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(code_dir)),
            layers=[self.layer],
            memory_size=spec.memory,
            timeout=Duration.seconds(spec.timeout),
            log_group=log_group,
            environment=environment,
            # the handlers' Powertools Tracer (agentweaver.aws.observability) records only
            # under active tracing; CDK adds xray:PutTraceSegments/PutTelemetryRecords to the
            # role (resource "*": X-Ray has no resource-level permissions for them)
            tracing=lambda_.Tracing.ACTIVE,
        )

    # permissions

    def _grant_payloads(self, fn: lambda_.IFunction, *actions: str) -> None:
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.data.artifacts.arn_for_objects(f"{PAYLOAD_PREFIX}/*")],
            )
        )

    def _grant_key(self, fn: lambda_.IFunction, *actions: str) -> None:
        """Only with the owner in the encryption context, which is how the vault calls KMS."""
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.data.provider_key.key_arn],
                conditions={"Null": {f"kms:EncryptionContext:{KMS_CONTEXT_KEY}": "false"}},
            )
        )

    def _grant_agent_step(self, fn: lambda_.Function) -> None:
        self.data.grant_tables(
            fn,
            read=("workflows", "provider-keys"),
            write=("executions", "steps", "logs", "usage", "idempotency"),
        )
        self._grant_payloads(fn, "s3:GetObject", "s3:PutObject")
        self._grant_key(fn, "kms:Decrypt")
        fn.add_environment("AGENTWEAVER_PAYLOAD_BUCKET", self.data.artifacts.bucket_name)
        fn.add_environment("AGENTWEAVER_KMS_KEY_ID", self.data.provider_key.key_arn)
        # the Bedrock adapter calls Converse with the function's own credentials
        stack = Stack.of(self)
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                resources=[
                    "arn:aws:bedrock:*::foundation-model/*",
                    f"arn:aws:bedrock:*:{stack.account}:inference-profile/*",
                ],
            )
        )

    def _grant_api(self, fn: lambda_.Function) -> None:
        self.data.grant_tables(fn, write=tuple(self.data.tables))
        self._grant_payloads(fn, "s3:GetObject", "s3:PutObject")
        self._grant_key(fn, "kms:Encrypt", "kms:Decrypt")
        fn.add_environment("AGENTWEAVER_KMS_KEY_ID", self.data.provider_key.key_arn)

    def _grant_authorizer(self, fn: lambda_.Function) -> None:
        """Look an API key up by hash (``GetItem``; ``Query`` on its indexes) and record
        when it was last used (``UpdateItem``): the api-keys table only, no other action."""
        self.data.grant_table_actions(
            fn, "api-keys", "dynamodb:GetItem", "dynamodb:Query", indexes=True
        )
        self.data.grant_table_actions(fn, "api-keys", "dynamodb:UpdateItem")

    def grant_workflow_control(self, fn: lambda_.IFunction) -> None:
        """Create/update this stage's state machines (``<prefix>-*``, one per workflow
        version, made at run time by ``StepFunctionsExecutor``) and run them; pass only the
        Step Functions role."""
        stack = Stack.of(self)
        base = f"arn:aws:states:{stack.region}:{stack.account}"
        machines = f"{base}:stateMachine:{self.config.prefix}-*"
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "states:CreateStateMachine",
                    "states:UpdateStateMachine",
                    "states:DescribeStateMachine",
                    "states:StartExecution",
                    "states:ListExecutions",
                ],
                resources=[machines],
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "states:StopExecution",
                    "states:DescribeExecution",
                ],
                resources=[f"{base}:execution:{self.config.prefix}-*:*"],
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.sfn_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}},
            )
        )


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def _retention(days: int) -> logs.RetentionDays:
    if days not in _RETENTION:
        raise ValueError(f"log retention must be one of {sorted(_RETENTION)} days, not {days}")
    return _RETENTION[days]
