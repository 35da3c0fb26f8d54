"""The synthesised stack: every resource of issue 7 with its key properties, the contract
with the Python side (table schemas, environment variables), least privilege, cfn-lint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from support.infra import Synth

from agentweaver.aws.dynamodb_models import TABLES as MODELS
from agentweaver.aws.dynamodb_models import bind_models, table_name

KINDS = [
    "workflows",
    "executions",
    "steps",
    "logs",
    "usage",
    "api-keys",
    "provider-keys",
    "idempotency",
]


def _table(synth: Synth, kind: str) -> dict[str, Any]:
    name = f"{synth.config.prefix}-{kind}"
    found = [
        r
        for r in synth.resources("AWS::DynamoDB::Table").values()
        if r["Properties"]["TableName"] == name
    ]
    assert len(found) == 1, name
    return found[0]


def _function(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    full = f"{synth.config.prefix}-{name}"
    for logical, resource in synth.resources("AWS::Lambda::Function").items():
        if resource["Properties"].get("FunctionName") == full:
            return logical, resource
    raise AssertionError(f"no function {full}")


def _policy_statements(synth: Synth, function: str) -> list[dict[str, Any]]:
    _logical, resource = _function(synth, function)
    role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _tables_in(statement: dict[str, Any], synth: Synth) -> set[str]:
    """The table kinds a statement's resources name."""
    text = json.dumps(statement["Resource"])
    by_logical = {
        logical: r["Properties"]["TableName"].removeprefix(f"{synth.config.prefix}-")
        for logical, r in synth.resources("AWS::DynamoDB::Table").items()
    }
    return {kind for logical, kind in by_logical.items() if f'"{logical}"' in text}


# data


@pytest.mark.parametrize("kind", KINDS)
def test_tables_match_the_pynamodb_models(dev: Synth, kind: str) -> None:
    models = bind_models(dev.config.prefix, "us-east-1", None)
    model = getattr(models, kind.replace("-", "_"))
    assert model.Meta.table_name == table_name(dev.config.prefix, kind.replace("-", "_"))
    schema = model._get_schema()
    props = _table(dev, kind)["Properties"]
    assert sorted(props["KeySchema"], key=lambda k: k["KeyType"]) == sorted(
        schema["key_schema"], key=lambda k: k["KeyType"]
    )
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        schema["attribute_definitions"], key=lambda a: a["AttributeName"]
    )
    want_indexes = {
        i["index_name"]: sorted(i["key_schema"], key=lambda k: k["KeyType"])
        for i in schema.get("global_secondary_indexes", [])
    }
    got_indexes = {
        i["IndexName"]: sorted(i["KeySchema"], key=lambda k: k["KeyType"])
        for i in props.get("GlobalSecondaryIndexes", [])
    }
    assert got_indexes == want_indexes
    assert all(
        i["Projection"] == {"ProjectionType": "ALL"}
        for i in props.get("GlobalSecondaryIndexes", [])
    )
    ttl = model._ttl_attribute()
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl.attr_name, "Enabled": True}


def test_every_model_has_a_table(dev: Synth) -> None:
    kinds = {table_name(dev.config.prefix, kind) for kind in MODELS}
    names = {r["Properties"]["TableName"] for r in dev.resources("AWS::DynamoDB::Table").values()}
    assert names == kinds


def test_tables_are_on_demand_encrypted_with_point_in_time_recovery(dev: Synth) -> None:
    for kind in KINDS:
        props = _table(dev, kind)["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_data_is_retained_in_prod_only(dev: Synth, prod: Synth) -> None:
    for kind in KINDS:
        assert _table(dev, kind)["DeletionPolicy"] == "Delete"
        assert _table(prod, kind)["DeletionPolicy"] == "Retain"
        assert _table(prod, kind)["Properties"]["DeletionProtectionEnabled"] is True
    prod.template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_provider_key_rotates(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    dev.template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": "alias/agentweaver-dev-provider-keys"}
    )


def test_buckets_are_private_encrypted_and_tls_only(dev: Synth) -> None:
    buckets = dev.resources("AWS::S3::Bucket")
    assert len(buckets) == 3  # artifacts, inbox, console
    for props in (b["Properties"] for b in buckets.values()):
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    policies = dev.resources("AWS::S3::BucketPolicy").values()
    secured = {
        json.dumps(p["Properties"]["Bucket"])
        for p in policies
        if '"aws:SecureTransport": "false"' in json.dumps(p)
    }
    assert secured == {json.dumps({"Ref": logical}) for logical in buckets}


def test_artifacts_bucket_expires_payloads(dev: Synth) -> None:
    dev.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Prefix": "payloads/", "ExpirationInDays": 90, "Status": "Enabled"}
                        )
                    ]
                )
            }
        },
    )


# runtime


FUNCTIONS = ["agent-step", "api", "triggers", "execution-events"]  # the ones with user code
ALL_FUNCTIONS = [*FUNCTIONS, "authorizer"]
COMMON_ENV = [
    "AGENTWEAVER_STORE",
    "AGENTWEAVER_TABLE_PREFIX",
    "AGENTWEAVER_MODULES",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
]
ENV = {
    "agent-step": ["AGENTWEAVER_PAYLOAD_BUCKET", "AGENTWEAVER_KMS_KEY_ID"],
    "api": [
        "AGENTWEAVER_STEP_FUNCTION_ARN",
        "AGENTWEAVER_SFN_ROLE_ARN",
        "AGENTWEAVER_COGNITO_POOL_ID",
        "AGENTWEAVER_COGNITO_CLIENT_ID",
        "AGENTWEAVER_KMS_KEY_ID",
        "AGENTWEAVER_PAYLOAD_BUCKET",
        "AGENTWEAVER_SCHEDULE_GROUP",
        "AGENTWEAVER_SCHEDULER_ROLE_ARN",
        "AGENTWEAVER_TRIGGERS_FUNCTION_ARN",
        "AGENTWEAVER_TRIGGERS_DLQ_ARN",
    ],
    "triggers": ["AGENTWEAVER_STEP_FUNCTION_ARN", "AGENTWEAVER_SFN_ROLE_ARN"],
    "execution-events": [],
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_follow_the_contract(dev: Synth, name: str) -> None:
    _, resource = _function(dev, name)
    props = resource["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert len(props["Layers"]) == 1
    env = props["Environment"]["Variables"]
    assert set(COMMON_ENV + ENV[name]) <= set(env)
    assert env["AGENTWEAVER_STORE"] == "dynamodb"
    assert env["AGENTWEAVER_TABLE_PREFIX"] == "agentweaver-dev"
    assert env["AGENTWEAVER_MODULES"] == "my_agents,helpers"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "AgentWeaver"
    assert env["POWERTOOLS_SERVICE_NAME"] == f"agentweaver-dev-{name}"
    assert "Cognito" not in json.dumps(env) or name == "api"


def test_authorizer_function_is_small_quick_and_runs_no_user_code(dev: Synth) -> None:
    _, resource = _function(dev, "authorizer")
    props = resource["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert len(props["Layers"]) == 1
    assert props["MemorySize"] == 256
    assert props["Timeout"] == 5
    env = props["Environment"]["Variables"]
    assert set(env) == {
        "AGENTWEAVER_STORE",
        "AGENTWEAVER_TABLE_PREFIX",
        "AGENTWEAVER_COGNITO_POOL_ID",
        "AGENTWEAVER_COGNITO_CLIENT_ID",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
    }
    assert env["AGENTWEAVER_STORE"] == "dynamodb"
    assert env["AGENTWEAVER_TABLE_PREFIX"] == "agentweaver-dev"
    assert env["POWERTOOLS_SERVICE_NAME"] == "agentweaver-dev-authorizer"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "AgentWeaver"
    assert env["LOG_LEVEL"] == "INFO"
    api_env = _function(dev, "api")[1]["Properties"]["Environment"]["Variables"]
    for key in ("AGENTWEAVER_COGNITO_POOL_ID", "AGENTWEAVER_COGNITO_CLIENT_ID"):
        assert env[key] == api_env[key]
    assert "UserPool" in json.dumps(env["AGENTWEAVER_COGNITO_POOL_ID"])
    assert "ConsoleClient" in json.dumps(env["AGENTWEAVER_COGNITO_CLIENT_ID"])
    staged = dev.config.asset_dir / "dev" / "authorizer"
    assert (staged / "handler.py").is_file()
    assert "NotImplementedError" not in (staged / "handler.py").read_text()
    assert not (staged / "my_agents").exists()
    assert not (staged / "helpers.py").exists()


XRAY_WRITE = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_function_is_traced_with_x_ray(stage: str, request: pytest.FixtureRequest) -> None:
    """The handlers' Powertools Tracer records only under active tracing, and the role must
    be allowed to send the segments (X-Ray has no resource-level permissions: ``*``)."""
    synth: Synth = request.getfixturevalue(stage)
    for name in ALL_FUNCTIONS:
        _, resource = _function(synth, name)
        assert resource["Properties"]["TracingConfig"] == {"Mode": "Active"}, name
        xray = [
            s
            for s in _policy_statements(synth, name)
            if any(a.startswith("xray:") for a in _actions(s))
        ]
        assert [(sorted(_actions(s)), s["Resource"]) for s in xray] == [(XRAY_WRITE, "*")], name


def test_environment_values_point_at_the_right_resources(dev: Synth) -> None:
    agent_step, _ = _function(dev, "agent-step")
    triggers, _ = _function(dev, "triggers")
    env = _function(dev, "api")[1]["Properties"]["Environment"]["Variables"]
    assert env["AGENTWEAVER_STEP_FUNCTION_ARN"] == {"Fn::GetAtt": [agent_step, "Arn"]}
    assert env["AGENTWEAVER_TRIGGERS_FUNCTION_ARN"] == {"Fn::GetAtt": [triggers, "Arn"]}
    assert env["AGENTWEAVER_SCHEDULE_GROUP"] == "agentweaver-dev"
    assert "StateMachineRole" in env["AGENTWEAVER_SFN_ROLE_ARN"]["Fn::GetAtt"][0]
    assert "SchedulerRole" in env["AGENTWEAVER_SCHEDULER_ROLE_ARN"]["Fn::GetAtt"][0]
    assert "ProviderKeys" in env["AGENTWEAVER_KMS_KEY_ID"]["Fn::GetAtt"][0]
    assert "Artifacts" in env["AGENTWEAVER_PAYLOAD_BUCKET"]["Ref"]
    # schedules dead-letter to the triggers DLQ (the scheduler role may send to it)
    dlq = env["AGENTWEAVER_TRIGGERS_DLQ_ARN"]["Fn::GetAtt"]
    assert dlq[1] == "Arn"
    queue = dev.json["Resources"][dlq[0]]["Properties"]
    assert queue["QueueName"] == "agentweaver-dev-triggers-dlq"


def test_agent_step_is_generous_and_the_api_fits_the_gateway(dev: Synth) -> None:
    assert _function(dev, "agent-step")[1]["Properties"]["Timeout"] == 900
    assert _function(dev, "api")[1]["Properties"]["Timeout"] <= 29


def test_prod_runs_on_x86_64(prod: Synth) -> None:
    for name in ALL_FUNCTIONS:
        assert _function(prod, name)[1]["Properties"]["Architectures"] == ["x86_64"]
    prod.template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleArchitectures": ["x86_64"], "CompatibleRuntimes": ["python3.12"]},
    )


def test_user_modules_are_packaged_beside_each_handler(dev: Synth) -> None:
    for directory in ("agent_step", "api", "triggers", "execution_events"):
        staged = dev.config.asset_dir / "dev" / directory
        assert (staged / "handler.py").is_file()
        assert (staged / "my_agents" / "__init__.py").is_file()
        assert (staged / "helpers.py").is_file()


def test_state_machine_role_invokes_the_agent_step_only(dev: Synth) -> None:
    agent_step, _ = _function(dev, "agent-step")
    roles = {k: r for k, r in dev.resources("AWS::IAM::Role").items() if "StateMachineRole" in k}
    ((logical, role),) = roles.items()
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "states.amazonaws.com"}]
    statements = [
        s
        for p in dev.resources("AWS::IAM::Policy").values()
        if {"Ref": logical} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert [_actions(s) for s in statements] == [["lambda:InvokeFunction"]]
    assert agent_step in json.dumps(statements[0]["Resource"])
    assert "Triggers" not in json.dumps(statements[0]["Resource"])


def test_status_change_rule(dev: Synth) -> None:
    dev.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.states"],
                "detail-type": ["Step Functions Execution Status Change"],
                "detail": {
                    "status": ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"],
                    "stateMachineArn": [{"prefix": Match.any_value()}],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 4}),
                    }
                )
            ],
        },
    )
    rule = next(
        r
        for r in dev.resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.states"]
    )
    prefix = json.dumps(rule["Properties"]["EventPattern"]["detail"]["stateMachineArn"])
    assert ":stateMachine:agentweaver-dev-" in prefix


def test_example_state_machines_substitute_the_agent_step(dev: Synth, prod: Synth) -> None:
    agent_step, _ = _function(dev, "agent-step")
    machines = dev.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 5
    for machine in machines.values():
        props = machine["Properties"]
        assert props["StateMachineName"].startswith("agentweaver-dev-example-")
        assert "${AgentStepFunctionArn}" in props["DefinitionString"]
        assert props["DefinitionSubstitutions"] == {
            "AgentStepFunctionArn": {"Fn::GetAtt": [agent_step, "Arn"]}
        }
    assert not prod.resources("AWS::StepFunctions::StateMachine")
