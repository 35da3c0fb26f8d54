"""The same scenario on the AWS side: DynamoDB store and Step Functions (moto executes the
compiled ASL, the agent-step handler runs in-process), through FastAPI's test client and
through the Mangum handler with API Gateway HTTP API v2 events; Cognito JWTs signed by a
test key pool."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from support.api import DEFINITION, Api, create, wait
from support.moto_sfn import StepFunctionsHarness, step_functions

from agentweaver.api import Services, create_app
from agentweaver.api.auth import Authenticator
from agentweaver.aws.dynamodb_store import DynamoDBStore
from agentweaver.aws.lambda_env import StoreWorkflows
from agentweaver.aws.sfn_executor import StepFunctionsExecutor
from agentweaver.keys.vault import LocalKeyVault
from agentweaver.models.test import TestModel
from agentweaver.runtime.payloads import DirectoryPayloads
from agentweaver.runtime.serverless import StepEnvironment
from agentweaver.security.jwt import CognitoVerifier

REGION, POOL, CLIENT = "us-east-1", "us-east-1_TestPool", "console-client"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"


class Pool:
    """A Cognito user pool stand-in: an RSA key, its JWKS, and tokens for any user."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = pyjwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}

    def token(self, sub: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"sub": sub, "iss": ISSUER, "aud": CLIENT, "token_use": "id", "iat": now,
                "exp": now + 600, **claims}  # fmt: skip
        return pyjwt.encode(body, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[tuple[TestClient, Services, Pool, StepFunctionsHarness]]:
    pool = Pool()
    with step_functions() as sfn:
        store = DynamoDBStore(table_prefix="aw-test", region=REGION, create_tables=True)
        sfn.use(
            StepEnvironment(
                workflows=StoreWorkflows(store),
                store=store,
                payloads=DirectoryPayloads(tmp_path / "payloads"),
                model_override=TestModel(),
            )
        )
        executor = StepFunctionsExecutor(
            store,
            function_arn=sfn.function_arn,
            role_arn=sfn.role_arn,
            prefix="aw-test",
            client=sfn.sfn,
        )
        verifier = CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=lambda url: pool.jwks)
        services = Services(
            store=store,
            executor=executor,
            auth=Authenticator(store, jwt=verifier),
            vault=LocalKeyVault(tmp_path),
            compile_options={"function_arn": sfn.function_arn},
        )
        with TestClient(create_app(services, manage_executor=False)) as client:
            yield client, services, pool, sfn


def test_create_execute_poll_logs_usage_on_step_functions(aws: Any) -> None:
    client, services, pool, _ = aws
    api = Api(client, pool.token("tenant-a"))
    workflow = create(api)
    assert workflow["id"]
    record = services.store.get_workflow("tenant-a", workflow["id"])
    assert record.state_machine_arn  # one state machine per workflow version
    accepted = api.post(f"/workflows/{workflow['id']}/execute", json={"input_data": "hi"}).json()
    done = wait(api, accepted["execution_id"], timeout=30)
    assert done["status"] == "succeeded", done
    assert [s["step_id"] for s in done["step_records"]] == ["researcher", "writer"]
    logs = api.get(f"/executions/{accepted['execution_id']}/logs").json()["logs"]
    assert any("execution succeeded" in entry["message"] for entry in logs)
    usage = api.get("/usage").json()
    assert usage["totals"]["executions"] == 1
    assert usage["totals"]["input_tokens"] == done["input_tokens"] > 0
    # another tenant sees none of it
    other = Api(client, pool.token("tenant-b"))
    assert other.get(f"/executions/{accepted['execution_id']}").status_code == 404
    assert other.get("/workflows/").json() == []


def test_expired_or_foreign_tokens_are_refused(aws: Any) -> None:
    client, _, pool, _ = aws
    expired = pool.token("a", exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    wrong_aud = pool.token("a", aud="someone-else")
    for token in (expired, wrong_aud, Pool().token("a")):
        response = client.get("/workflows/", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


def _v2_event(
    method: str, path: str, token: str, body: Any = None, query: str = ""
) -> dict[str, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "host": "api.example.com",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:20:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
        },
        "body": base64.b64encode(raw).decode() if raw else None,
        "isBase64Encoded": bool(raw),
    }


def test_through_mangum_with_http_api_v2_events(aws: Any) -> None:
    from mangum import Mangum

    client, _, pool, _ = aws
    handler = Mangum(client.app, lifespan="off")
    token = pool.token("tenant-m")
    created = handler(_v2_event("POST", "/workflows/", token, DEFINITION), None)
    assert created["statusCode"] == 201, created
    wid = json.loads(created["body"])["id"]
    started = handler(
        _v2_event("POST", f"/workflows/{wid}/execute", token, {"input_data": 1}), None
    )
    assert started["statusCode"] == 202
    eid = json.loads(started["body"])["execution_id"]
    deadline = time.monotonic() + 30
    while True:
        got = handler(_v2_event("GET", f"/executions/{eid}", token), None)
        status = json.loads(got["body"])["status"]
        if status in ("succeeded", "failed"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == "succeeded"
    usage = handler(_v2_event("GET", "/usage", token), None)
    assert json.loads(usage["body"])["totals"]["executions"] == 1
    unauthorised = handler(_v2_event("GET", "/workflows/", "bad"), None)
    assert unauthorised["statusCode"] == 401


def test_saving_a_workflow_keeps_its_schedules_in_step(aws: Any) -> None:
    import boto3

    from agentweaver.aws.schedules import EventBridgeSchedules

    client, services, pool, sfn = aws
    scheduler = boto3.client("scheduler", region_name=REGION)
    scheduler.create_schedule_group(Name="aw-test")
    services.schedules = EventBridgeSchedules(
        "aw-test", role_arn=sfn.role_arn, target_arn=sfn.function_arn, client=scheduler
    )
    api = Api(client, pool.token("tenant-s"))
    nightly = {**DEFINITION, "triggers": [{"schedule": "cron(0 2 * * ? *)"}]}
    workflow = create(api, nightly)

    def expressions() -> list[str]:
        listed = scheduler.list_schedules(GroupName="aw-test")["Schedules"]
        return [scheduler.get_schedule(Name=s["Name"], GroupName="aw-test")["ScheduleExpression"]
                for s in listed]  # fmt: skip

    assert expressions() == ["cron(0 2 * * ? *)"]
    hourly = {**DEFINITION, "triggers": [{"schedule": "rate(1 hour)"}]}
    updated = api.put(f"/workflows/{workflow['id']}", json={"definition": hourly, "version": 1})
    assert updated.status_code == 200, updated.text
    assert expressions() == ["rate(1 hour)"]
    assert api.delete(f"/workflows/{workflow['id']}").status_code == 204
    assert expressions() == []


def test_no_secret_reaches_a_log_at_debug(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")  # every logger: ours, FastAPI's, botocore's, moto's
    client, _, pool, _ = aws
    jwt = pool.token("tenant-d")
    api = Api(client, jwt)
    provider_key = "sk-proj-DEBUGCHECK-0123456789abcdef"
    assert api.put("/me/provider-keys/openai", json={"key": provider_key}).status_code == 200
    created = api.post("/me/api-keys", json={"name": "ci"}).json()
    assert client.get("/workflows/", headers={"X-API-Key": created["key"]}).status_code == 200
    workflow = create(api)
    run = api.post(f"/workflows/{workflow['id']}/execute", json={"input_data": "x"}).json()
    assert wait(api, run["execution_id"], timeout=30)["status"] == "succeeded"
    refused = client.get("/workflows/", headers={"Authorization": "Bearer not-a-jwt"})
    assert refused.status_code == 401
    assert caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (jwt, jwt.split(".")[2], created["key"], provider_key):
        assert secret not in logged


def test_the_gateway_authorizer_passes_jwts_and_api_keys_only(aws: Any) -> None:
    from support.moto_sfn import load_handler

    client, services, pool, _ = aws
    handler = load_handler("authorizer")
    handler.AUTHENTICATOR = services.auth

    def decide(authorization: str | None) -> dict[str, Any]:
        headers = {"authorization": authorization} if authorization is not None else {}
        event = {"version": "2.0", "type": "REQUEST", "routeKey": "GET /workflows/",
                 "routeArn": "arn:aws:execute-api:us-east-1:1:api/$default/GET/workflows/",
                 "identitySource": [authorization], "headers": headers}  # fmt: skip
        result: dict[str, Any] = handler.handler(event, None)
        return result

    jwt = pool.token("tenant-g")
    assert decide(f"Bearer {jwt}") == {"isAuthorized": True,
                                       "context": {"owner": "tenant-g", "via": "jwt"}}  # fmt: skip
    key = Api(client, jwt).post("/me/api-keys", json={"name": "ci"}).json()["key"]
    assert decide(f"Bearer {key}")["context"]["owner"] == "tenant-g"
    unsigned = pyjwt.encode({"sub": "x", "iss": ISSUER, "aud": CLIENT, "token_use": "id",
                             "exp": int(time.time()) + 60}, key=None, algorithm="none")  # fmt: skip
    for bad in (None, "", f"Bearer {Pool().token('tenant-g')}", f"Bearer {unsigned}",
                "Bearer aw_0000_forged", f"Basic {jwt}"):
        assert decide(bad) == {"isAuthorized": False}, bad


def test_a_stored_definition_naming_foreign_code_never_runs_on_lambda(aws: Any) -> None:
    from agentweaver.stores.records import WorkflowRecord

    client, services, pool, _ = aws
    api = Api(client, pool.token("tenant-x"))
    smuggled = {**DEFINITION, "agents": {**DEFINITION["agents"],
                "writer": {"role": "W", "function": "os:system"}}}  # fmt: skip
    record = WorkflowRecord("tenant-x", "smuggled", "api-demo", smuggled, created_at=time.time())
    services.store.save_workflow(record, expected_version=0)
    run = api.post("/workflows/smuggled/execute", json={"input_data": "touch /tmp/x"}).json()
    done = wait(api, run["execution_id"], timeout=30)
    assert done["status"] == "failed"
    assert "agents.writer.function" in str(done["error"])
    assert all(s["agent"] != "writer" for s in done["step_records"])


def test_an_expression_scheduler_refuses_is_a_422_naming_the_trigger(aws: Any) -> None:
    import boto3
    from botocore.exceptions import ClientError

    from agentweaver.aws.schedules import EventBridgeSchedules

    client, services, pool, sfn = aws
    scheduler = boto3.client("scheduler", region_name=REGION)
    scheduler.create_schedule_group(Name="aw-test")

    class StrictScheduler:  # moto accepts any expression; the real service checks the fields
        def __getattr__(self, name: str) -> Any:
            return getattr(scheduler, name)

        def create_schedule(self, **request: Any) -> Any:
            if request["ScheduleExpression"].startswith("cron(a"):
                error = {"Error": {"Code": "ValidationException",
                                   "Message": "Invalid Schedule Expression"}}  # fmt: skip
                raise ClientError(error, "CreateSchedule")
            return scheduler.create_schedule(**request)

    services.schedules = EventBridgeSchedules(
        "aw-test", role_arn=sfn.role_arn, target_arn=sfn.function_arn, client=StrictScheduler()
    )
    api = Api(client, pool.token("tenant-v"))
    bad = {**DEFINITION, "triggers": [{"event": {"source": ["x"]}},
                                      {"schedule": "cron(a b c d ? f)"}]}  # fmt: skip
    response = api.post("/workflows/", json=bad)
    assert response.status_code == 422, response.text
    assert "triggers.1.schedule" in response.text
    assert api.get("/workflows/").json() == []


def test_the_authorizer_fails_rather_than_refuses_when_cognito_is_down(aws: Any) -> None:
    from support.moto_sfn import load_handler

    from agentweaver.exceptions import JwksUnavailable

    _, services, pool, _ = aws

    def unreachable(url: str) -> Any:
        raise OSError("connection refused")

    handler = load_handler("authorizer")
    handler.AUTHENTICATOR = Authenticator(
        services.store, jwt=CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=unreachable)
    )
    event = {"version": "2.0", "type": "REQUEST",
             "headers": {"authorization": f"Bearer {pool.token('tenant-c')}"}}  # fmt: skip
    with pytest.raises(JwksUnavailable):  # a Lambda error is not cached; a refusal would be
        handler.handler(event, None)
