"""The stack's edges: API + Cognito, triggers, console, monitoring; and across the whole
template: least privilege, two stages side by side, cfn-lint."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from agentweaver_infra.config import ConfigError, StageConfig
from agentweaver_infra.data import TABLES
from agentweaver_infra.runtime import FUNCTIONS
from aws_cdk.assertions import Match
from support.infra import Synth
from test_infra_stack import _actions, _function, _policy_statements, _tables_in

from agentweaver.aws.schedules import schedule_name
from agentweaver.aws.sfn_executor import state_machine_name

# api


def _authorizer(synth: Synth) -> tuple[str, dict[str, Any]]:
    ((logical, authorizer),) = synth.resources("AWS::ApiGatewayV2::Authorizer").items()
    return logical, authorizer["Properties"]


def test_every_route_but_health_has_the_lambda_authorizer(dev: Synth) -> None:
    authorizer, _ = _authorizer(dev)
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in dev.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert "GET /health" in routes
    assert {"GET /{proxy+}", "POST /{proxy+}", "PUT /{proxy+}", "DELETE /{proxy+}"} <= set(routes)
    assert not any(key.startswith(("ANY ", "OPTIONS ")) for key in routes)  # CORS preflight
    for key, props in routes.items():
        if key == "GET /health":
            assert props.get("AuthorizationType", "NONE") == "NONE"
            assert "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "CUSTOM", key
            assert props["AuthorizerId"] == {"Ref": authorizer}, key


def test_lambda_authorizer_accepts_jwts_and_api_keys(dev: Synth) -> None:
    fn, _ = _function(dev, "authorizer")
    _, props = _authorizer(dev)
    assert props["Name"] == "agentweaver-dev-authorizer"
    assert props["AuthorizerType"] == "REQUEST"
    assert props["AuthorizerPayloadFormatVersion"] == "2.0"
    assert props["EnableSimpleResponses"] is True
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["AuthorizerResultTtlInSeconds"] == 300
    assert "JwtConfiguration" not in props
    # the Lambda's invoke ARN: arn:<partition>:apigateway:<region>:lambda:path/.../invocations
    uri = json.dumps(props["AuthorizerUri"])
    assert ":apigateway:" in uri
    assert ":lambda:path/2015-03-31/functions/" in uri
    assert json.dumps({"Fn::GetAtt": [fn, "Arn"]}) in uri
    assert uri.rstrip('"]}').endswith("/invocations")


def test_api_gateway_may_invoke_the_authorizer(dev: Synth) -> None:
    fn, _ = _function(dev, "authorizer")
    authorizer, _ = _authorizer(dev)
    permissions = [
        p["Properties"]
        for p in dev.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn, "Arn"]}
    ]
    assert len(permissions) == 1
    (permission,) = permissions
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "apigateway.amazonaws.com"
    source = json.dumps(permission["SourceArn"])
    assert ":execute-api:" in source
    assert "/authorizers/" in source
    assert json.dumps({"Ref": authorizer}) in source


def test_cors_allows_the_console_and_throttles(dev: Synth, prod: Synth) -> None:
    (api,) = dev.resources("AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    origins = json.dumps(cors["AllowOrigins"])
    assert "ConsoleDistribution" in origins
    assert "http://localhost:5173" in origins
    assert "authorization" in cors["AllowHeaders"]
    (prod_api,) = prod.resources("AWS::ApiGatewayV2::Api").values()
    assert "localhost" not in json.dumps(prod_api["Properties"]["CorsConfiguration"])
    dev.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )


def test_cognito_hosted_sign_in_for_the_console(dev: Synth) -> None:
    dev.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "UsernameAttributes": ["email"],
        },
    )
    dev.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "CallbackURLs": Match.array_with(["http://localhost:5173/"]),
        },
    )
    dev.template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)


# triggers


def test_inbox_bucket_sends_object_created_events(dev: Synth) -> None:
    dev.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {}}},
    )
    rule = next(
        r["Properties"]
        for r in dev.resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.s3"]
    )
    assert rule["EventPattern"]["detail-type"] == ["Object Created"]
    assert "Inbox" in json.dumps(rule["EventPattern"]["detail"]["bucket"]["name"])
    assert "EventBusName" not in rule  # the default bus


def test_custom_bus_forwards_everything_to_the_triggers_function(dev: Synth) -> None:
    triggers, _ = _function(dev, "triggers")
    dev.template.has_resource_properties(
        "AWS::Events::EventBus", {"Name": "agentweaver-dev-events"}
    )
    rule = next(
        r["Properties"]
        for r in dev.resources("AWS::Events::Rule").values()
        if "EventBusName" in r["Properties"]
    )
    assert rule["EventPattern"] == {"source": [{"prefix": ""}]}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [triggers, "Arn"]}
    assert "Dlq" in json.dumps(target["DeadLetterConfig"])
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_triggers_dead_letters_are_encrypted_and_used(dev: Synth) -> None:
    for queue in dev.resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    dev.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 1,
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )


def test_schedule_group_and_scheduler_role(dev: Synth) -> None:
    triggers, _ = _function(dev, "triggers")
    dev.template.has_resource_properties(
        "AWS::Scheduler::ScheduleGroup", {"Name": "agentweaver-dev"}
    )
    ((logical, role),) = (
        (k, r) for k, r in dev.resources("AWS::IAM::Role").items() if "SchedulerRole" in k
    )
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    statements = [
        s
        for p in dev.resources("AWS::IAM::Policy").values()
        if {"Ref": logical} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    invoke = [s for s in statements if "lambda:InvokeFunction" in _actions(s)]
    assert len(invoke) == 1
    assert triggers in json.dumps(invoke[0]["Resource"])
    assert "AgentStep" not in json.dumps(invoke[0]["Resource"])


def test_api_manages_only_its_schedules_and_passes_only_its_roles(dev: Synth) -> None:
    statements = _policy_statements(dev, "api")
    scheduler = [s for s in statements if any(a.startswith("scheduler:") for a in _actions(s))]
    assert sorted(a for s in scheduler for a in _actions(s)) == [
        "scheduler:CreateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
        "scheduler:ListSchedules",  # EventBridgeSchedules finds stale schedules with it
        "scheduler:UpdateSchedule",
    ]
    # ListSchedules supports no resource type, so "*" -- alone in its own statement
    (listing,) = [s for s in scheduler if s["Resource"] == "*"]
    assert _actions(listing) == ["scheduler:ListSchedules"]
    assert "Sid" in listing  # CDK's minimizePolicies (cdk.json) does not merge statements with one
    group_scoped = [s for s in scheduler if s is not listing]
    assert group_scoped
    assert all(":schedule/agentweaver-dev/*" in json.dumps(s["Resource"]) for s in group_scoped)
    passes = [s for s in statements if "iam:PassRole" in _actions(s)]
    services = sorted(s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passes)
    assert services == ["scheduler.amazonaws.com", "states.amazonaws.com"]
    assert all("Fn::GetAtt" in s["Resource"] for s in passes)  # a role, never "*"


@pytest.mark.parametrize("function", ["api", "triggers"])
def test_workflow_control_is_scoped_to_the_stage(dev: Synth, function: str) -> None:
    states = [
        s
        for s in _policy_statements(dev, function)
        if any(a.startswith("states:") for a in _actions(s))
    ]
    actions = {a for s in states for a in _actions(s)}
    assert actions == {
        "states:CreateStateMachine",
        "states:UpdateStateMachine",
        "states:DescribeStateMachine",
        "states:StartExecution",
        "states:StopExecution",
        "states:DescribeExecution",
        "states:ListExecutions",
    }
    for statement in states:
        resource = json.dumps(statement["Resource"])
        assert (
            ":stateMachine:agentweaver-dev-*" in resource
            or ":execution:agentweaver-dev-*:*" in resource
        )


# console


def test_console_distribution_uses_origin_access_control_and_spa_routing(dev: Synth) -> None:
    dev.template.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    (dist,) = dev.resources("AWS::CloudFront::Distribution").values()
    config = dist["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert all("OriginAccessControlId" in o for o in config["Origins"])
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    assert set(errors) == {403, 404}
    assert all(
        e["ResponseCode"] == 200 and e["ResponsePagePath"] == "/index.html" for e in errors.values()
    )
    assert [b["PathPattern"] for b in config["CacheBehaviors"]] == ["/config.json"]


def test_runtime_config_names_the_api_and_user_pool(dev: Synth) -> None:
    deployments = dev.resources("Custom::CDKBucketDeployment")
    assert len(deployments) == 2
    (runtime,) = (
        d["Properties"] for d in deployments.values() if d["Properties"]["Prune"] is False
    )
    markers = json.dumps(runtime["SourceMarkers"])
    assert "HttpApi" in markers
    assert "UserPool" in markers
    assert "ConsoleClient" in markers
    asset = next(Path(dev.stack.node.root.outdir).glob("asset.*/config.json"), None)
    if asset is None:  # the app has not written its assets: synthesise them
        dev.stack.node.root.synth()
        asset = next(Path(dev.stack.node.root.outdir).glob("asset.*/config.json"))
    # tokens are markers the deployment replaces with JSON strings: stand in for them
    config = json.loads(re.sub(r"<<marker:0xbaba:\d+>>", '"x"', asset.read_text()))
    assert set(config) >= {"apiUrl", "region", "userPoolId", "userPoolClientId", "cognitoDomain"}
    (app,) = (d["Properties"] for d in deployments.values() if d["Properties"].get("Prune", True))
    assert app["Exclude"] == ["config.json"]


# monitoring


def test_alarms(dev: Synth) -> None:
    names = {a["Properties"]["AlarmName"] for a in dev.resources("AWS::CloudWatch::Alarm").values()}
    assert {
        f"agentweaver-dev-{n}"
        for n in (
            "ExecutionsFailed",
            "LambdaErrors",
            "LambdaThrottles",
            "Api5xx",
            "StepDurationP95",
            "DailyCost",
            "TriggersDlq",
            "StatusEventsDlq",
        )
    } <= names
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in dev.resources("AWS::CloudWatch::Alarm").values()
    }
    for name in ("LambdaErrors", "LambdaThrottles"):  # every function, the authorizer too
        metrics = json.dumps(alarms[f"agentweaver-dev-{name}"]["Metrics"])
        for function in ("agent-step", "api", "triggers", "execution-events", "authorizer"):
            assert _function(dev, function)[0] in metrics, (name, function)
    p95 = alarms["agentweaver-dev-StepDurationP95"]
    assert p95["ExtendedStatistic"] == "p95"
    assert p95["MetricName"] == "StepDuration"
    assert p95["Namespace"] == "AgentWeaver"
    assert p95["Dimensions"] == [{"Name": "service", "Value": "agentweaver-dev-agent-step"}]
    cost = json.dumps(alarms["agentweaver-dev-DailyCost"]["Metrics"])
    assert "CostUSD" in cost
    assert "86400" in cost
    assert "ExecutionsFailed" in json.dumps(alarms["agentweaver-dev-ExecutionsFailed"]["Metrics"])
    for alarm in alarms.values():
        assert alarm["TreatMissingData"] == "notBreaching"
        assert len(alarm["AlarmActions"]) == 1
    dev.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )


def test_dashboard(dev: Synth) -> None:
    (dashboard,) = dev.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "agentweaver-dev"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "StepDuration",
        "ExecutionsFailed",
        "ExecutionsSucceeded",
        "CostUSD",
        "Throttles",
        "Errors",
        "5xx",
    ):
        assert metric in body, metric


# least privilege, stages, lint

_DATA_SERVICES = ("dynamodb", "s3", "kms", "sqs", "states", "scheduler", "lambda")


def _all_statements(synth: Synth) -> list[dict[str, Any]]:
    statements = []
    for kind in ("AWS::IAM::Policy", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
        for resource in synth.resources(kind).values():
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_no_wildcard_actions_on_data_resources(stage: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(stage)
    for statement in _all_statements(synth):
        if statement["Effect"] == "Deny":
            continue  # the TLS-only policies deny s3:* to insecure transport: that is the point
        for action in _actions(statement):
            assert action != "*", statement
            service, _, name = action.partition(":")
            assert not (service in _DATA_SERVICES and name == "*"), statement


def test_agent_step_reads_only_its_tables_and_key(dev: Synth) -> None:
    statements = _policy_statements(dev, "agent-step")
    write_actions = {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }
    readable: set[str] = set()
    writable: set[str] = set()
    for statement in statements:
        actions = set(_actions(statement))
        if any(a.startswith("dynamodb:") for a in actions):
            tables = _tables_in(statement, dev)
            assert tables, statement
            readable |= tables
            if actions & write_actions:
                writable |= tables
    assert readable == {
        "workflows",
        "provider-keys",
        "executions",
        "steps",
        "logs",
        "usage",
        "idempotency",
    }
    assert writable == {"executions", "steps", "logs", "usage", "idempotency"}
    assert "api-keys" not in readable
    kms = [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]
    assert [_actions(s) for s in kms] == [["kms:Decrypt"]]
    assert kms[0]["Condition"] == {"Null": {"kms:EncryptionContext:agentweaver:owner": "false"}}
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    assert [sorted(_actions(s)) for s in s3] == [["s3:GetObject", "s3:PutObject"]]
    assert "/payloads/*" in json.dumps(s3[0]["Resource"])
    assert not any(
        a.startswith(("states:", "iam:", "scheduler:")) for s in statements for a in _actions(s)
    )


def test_authorizer_touches_only_the_api_keys_table(dev: Synth) -> None:
    statements = _policy_statements(dev, "authorizer")
    assert statements
    assert all(s["Effect"] == "Allow" for s in statements)
    assert all(a.startswith(("dynamodb:", "xray:")) for s in statements for a in _actions(s))
    statements = [s for s in statements if not _actions(s)[0].startswith("xray:")]
    assert set().union(*(_tables_in(s, dev) for s in statements)) == {"api-keys"}
    granted: dict[str, set[str]] = {}
    for statement in statements:
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        for resource in resources:
            where = "index" if "/index/*" in json.dumps(resource) else "table"
            for action in _actions(statement):
                granted.setdefault(action, set()).add(where)
    assert granted == {
        "dynamodb:GetItem": {"table", "index"},
        "dynamodb:Query": {"table", "index"},
        "dynamodb:UpdateItem": {"table"},
    }
    # beyond that only X-Ray (above) and CloudWatch Logs (the basic execution role)
    role = _function(dev, "authorizer")[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    managed = json.dumps(dev.json["Resources"][role]["Properties"]["ManagedPolicyArns"])
    assert managed.count("arn:") == 1
    assert ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in managed


def test_triggers_reads_and_writes_only_its_tables(dev: Synth) -> None:
    statements = _policy_statements(dev, "triggers")
    put_update = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    readable: set[str] = set()
    writable: set[str] = set()
    deletable: set[str] = set()
    for statement in statements:
        actions = set(_actions(statement))
        if any(a.startswith("dynamodb:") for a in actions):
            tables = _tables_in(statement, dev)
            assert tables, statement
            readable |= tables
            if actions & put_update:
                writable |= tables
            if "dynamodb:DeleteItem" in actions:
                deletable |= tables
    assert readable == {"workflows", "executions", "logs", "idempotency"}
    # StepFunctionsExecutor saves the ARN of a state machine it had to create
    assert writable == {"workflows", "executions", "logs", "idempotency"}
    assert "workflows" not in deletable
    workflows_writes = {
        a
        for s in statements
        if _tables_in(s, dev) == {"workflows"}
        for a in _actions(s)
        if a in put_update | {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    }
    assert workflows_writes == put_update


def test_triggers_never_reads_the_inbox(dev: Synth) -> None:
    """The trigger hands the object's bucket and key to the workflow as its input; the
    function itself reads no object, so its S3 access is the payloads prefix only."""
    ((inbox, _),) = (
        (k, r) for k, r in dev.resources("AWS::S3::Bucket").items() if k.startswith("TriggersInbox")
    )
    statements = _policy_statements(dev, "triggers")
    assert not [s for s in statements if inbox in json.dumps(s["Resource"])]
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    assert [sorted(_actions(s)) for s in s3] == [["s3:GetObject", "s3:PutObject"]]
    assert "/payloads/*" in json.dumps(s3[0]["Resource"])
    assert "Artifacts" in json.dumps(s3[0]["Resource"])


def test_execution_events_touches_executions_and_logs_only(dev: Synth) -> None:
    statements = _policy_statements(dev, "execution-events")
    tables = set().union(*(_tables_in(s, dev) for s in statements))
    assert tables == {"executions", "logs"}
    assert all(a.startswith(("dynamodb:", "xray:")) for s in statements for a in _actions(s))


def test_two_stages_share_no_physical_name(dev: Synth, prod: Synth) -> None:
    keys = (
        "TableName",
        "FunctionName",
        "RoleName",
        "QueueName",
        "Name",
        "StateMachineName",
        "LogGroupName",
        "AliasName",
        "UserPoolName",
        "DashboardName",
        "AlarmName",
        "TopicName",
        "LayerName",
    )

    def names(synth: Synth) -> set[str]:
        found = set()
        for resource in synth.json["Resources"].values():
            for key in keys:
                value = resource.get("Properties", {}).get(key)
                if isinstance(value, str):
                    found.add(value)
        return found

    dev_names, prod_names = names(dev), names(prod)
    assert len(dev_names) > 30
    assert not dev_names & prod_names


_REGION, _ACCOUNT = "us-east-1", "123456789012"


def _resolve(value: Any, synth: Synth) -> str:
    """A policy resource as the concrete string IAM would see (region/account made up)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(part, synth) for part in parts)
    if "Fn::Sub" in value:
        return (
            str(value["Fn::Sub"])
            .replace("${AWS::AccountId}", _ACCOUNT)
            .replace("${AWS::Region}", _REGION)
        )
    pseudo = {"AWS::Region": _REGION, "AWS::AccountId": _ACCOUNT, "AWS::Partition": "aws"}
    if "Ref" in value:
        return pseudo.get(value["Ref"], value["Ref"])
    logical, _attr = value["Fn::GetAtt"]
    resource = synth.json["Resources"][logical]
    props, kind = resource.get("Properties", {}), resource["Type"]
    arn = f"arn:aws:{{}}:{_REGION}:{_ACCOUNT}:{{}}".format
    if kind == "AWS::DynamoDB::Table":
        return arn("dynamodb", f"table/{props['TableName']}")
    if kind == "AWS::Lambda::Function":
        return arn("lambda", f"function:{props['FunctionName']}")
    if kind == "AWS::SQS::Queue":
        return arn("sqs", props["QueueName"])
    if kind == "AWS::IAM::Role":
        return f"arn:aws:iam::{_ACCOUNT}:role/{props['RoleName']}"
    return f"arn:aws:{logical}"  # buckets, keys: auto-named, matched by exact ARN anyway


def _stage_patterns(synth: Synth) -> list[str]:
    """Every resource pattern in the stage's IAM policies and event rules, except ``*``
    (granted on purpose: X-Ray, ListSchedules, CDK's own custom resources)."""
    patterns = []
    for statement in _all_statements(synth):
        if statement["Effect"] != "Allow":
            continue
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            patterns.append(_resolve(resource, synth))
    rule = next(
        r["Properties"]["EventPattern"]
        for r in synth.resources("AWS::Events::Rule").values()
        if "aws.states" in r["Properties"]["EventPattern"].get("source", [])
    )
    for match in rule["detail"]["stateMachineArn"]:
        patterns.append(_resolve(match["prefix"], synth) + "*")
    return [p for p in patterns if p != "*"]


def _stage_resource_names(prefix: str) -> list[str]:
    """ARNs of what a stage with ``prefix`` creates, at deploy time and at run time."""

    def arn(service: str, rest: str) -> str:
        return f"arn:aws:{service}:{_REGION}:{_ACCOUNT}:{rest}"

    machine = state_machine_name(prefix, "alice@example.com", "wf1", 3)
    names = [
        arn("states", f"stateMachine:{machine}"),
        arn("states", f"stateMachine:{prefix}-example-research-team"),
        arn("states", f"execution:{machine}:run-1"),
        arn("scheduler", f"schedule/{prefix}/{schedule_name('alice@example.com', 'wf1', 0)}"),
        arn("scheduler", f"schedule-group/{prefix}"),
        arn("events", f"event-bus/{prefix}-events"),
        arn("sqs", f"{prefix}-triggers-dlq"),
        arn("logs", f"log-group:/aws/apigateway/{prefix}-api:*"),
        f"arn:aws:iam::{_ACCOUNT}:role/{prefix}-states",
    ]
    for kind in TABLES:
        names += [arn("dynamodb", f"table/{prefix}-{kind}"),
                  arn("dynamodb", f"table/{prefix}-{kind}/index/by_owner")]  # fmt: skip
    for function in FUNCTIONS:
        names += [arn("lambda", f"function:{prefix}-{function}"),
                  arn("lambda", f"function:{prefix}-{function}:1"),
                  arn("logs", f"log-group:/aws/lambda/{prefix}-{function}:*")]  # fmt: skip
    return names


def test_stage_patterns_do_not_reach_a_stage_whose_name_extends_it(dev: Synth) -> None:
    """``agentweaver-dev-*`` and stage ``dev2``'s ``agentweaver-dev2-...``: the hyphen after
    the prefix keeps them apart; fnmatch is stricter than IAM (its ``*`` crosses ``:`` too)."""
    patterns = _stage_patterns(dev)
    own = _stage_resource_names(dev.config.prefix)
    # the prefix-based patterns are there and do reach dev's own run-time resources
    for fragment in (":stateMachine:agentweaver-dev-", ":execution:agentweaver-dev-",
                     ":schedule/agentweaver-dev/"):  # fmt: skip
        matching = [p for p in patterns if fragment in p]
        assert matching, fragment
        assert all(any(fnmatchcase(name, p) for name in own) for p in matching), fragment
    for other in ("agentweaver-dev2", "agentweaver-devx"):
        reached = {
            (p, name)
            for p in patterns
            for name in _stage_resource_names(other)
            if fnmatchcase(name, p)
        }
        assert reached == set(), other


@pytest.mark.parametrize("prefix", ["agentweaver-dev-2", "agentweaver-dev-eu", "agentweaver"])
def test_a_prefix_that_would_fall_under_another_stages_patterns_is_refused(prefix: str) -> None:
    """A prefix ``agentweaver-dev-2`` would put its state machines under stage dev's
    ``agentweaver-dev-*`` (and ``agentweaver`` would reach every default stage's): refused."""
    with pytest.raises(ConfigError, match="prefix"):
        StageConfig(stage="qa", prefix=prefix)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_reports_no_errors(stage: str, request: pytest.FixtureRequest) -> None:
    from cfnlint.api import ManualArgs, lint_file

    synth: Synth = request.getfixturevalue(stage)
    matches = lint_file(synth.path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []
