"""Step Functions and Lambda under moto, with the agent-step handler running in-process.

What this gives a test (see ``../shared/notes/aws-testing.md`` for the facts it rests on):
moto's ASL interpreter executes the compiled definition; every ``lambda:invoke`` calls
``functions/agent_step/handler.py`` in this process with the Lambda error contract (an
exception becomes ``x-amz-function-error`` and ``{"errorType": <class name>, ...}``), and
retry backoff is instant but recorded, so tests can check the intervals Step Functions
would have waited.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from agentweaver.compiler import compile_workflow
from agentweaver.runtime.serverless import StepEnvironment, error_of
from agentweaver.workflow.ir import Workflow

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
FUNCTION = "agentweaver-agent-step"


def load_handler(name: str = "agent_step") -> ModuleType:
    """``functions/<name>/handler.py`` as a fresh module (as Lambda imports it)."""
    path = ROOT / "functions" / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"aw_lambda_{name}_{uuid.uuid4().hex}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _InstantTime:
    """Stands in for ``time`` in moto's retrier: records each backoff instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class SfnRun:
    """A finished execution: status, output, and the history events to assert on."""

    execution_arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]] = field(repr=False)

    def count(self, event_type: str) -> int:
        return sum(1 for e in self.history if e["type"] == event_type)

    @property
    def transitions(self) -> int:
        """State transitions as Standard workflows bill them: one per state entered."""
        return sum(1 for e in self.history if e["type"].endswith("StateEntered"))


class StepFunctionsHarness:
    def __init__(self, handler: ModuleType, clock: _InstantTime) -> None:
        self.handler = handler
        self.sleeps = clock.sleeps
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.function_arn = ""
        self.role_arn = ""
        self.invocations = 0

    def use(self, env: StepEnvironment) -> None:
        self.handler.ENVIRONMENT = env

    def deploy(self, workflow: Workflow, asl: dict[str, Any] | None = None) -> str:
        definition = asl or compile_workflow(workflow, function_arn=self.function_arn)
        name = f"{workflow.name}-{uuid.uuid4().hex[:8]}"
        created = self.sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=self.role_arn
        )
        arn: str = created["stateMachineArn"]
        return arn

    def run(
        self,
        machine_arn: str,
        value: Any,
        *,
        execution_id: str | None = None,
        owner: str = "local",
        timeout: float = 60.0,
    ) -> SfnRun:
        execution_id = execution_id or uuid.uuid4().hex
        started = self.sfn.start_execution(
            stateMachineArn=machine_arn,
            name=execution_id,
            input=json.dumps({"execution_id": execution_id, "owner": owner, "value": value}),
        )
        arn = started["executionArn"]
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_id} still RUNNING after {timeout}s")
            time.sleep(0.002)
        history = self._settled_history(arn)
        output = described.get("output")
        return SfnRun(
            execution_arn=arn,
            status=described["status"],
            output=_json_or_text(output),
            error=described.get("error"),
            cause=described.get("cause"),
            history=history,
        )

    def _settled_history(self, arn: str) -> list[dict[str, Any]]:
        """The history once moto's worker threads stop adding to it.

        moto marks an execution terminal before aborted Map/Parallel branches finish
        unwinding in their threads; reading the history meanwhile can race the list
        being appended to. Read until two reads agree.
        """
        previous: list[dict[str, Any]] | None = None
        for _ in range(500):
            try:
                history = self._history(arn)
            except Exception:  # moto serialising a list another thread is appending to
                time.sleep(0.01)
                continue
            if previous is not None and len(previous) == len(history):
                return history
            previous = history
            time.sleep(0.02)
        raise TimeoutError(f"history of {arn} never settled")

    def _history(self, arn: str) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = self.sfn.get_execution_history(**kwargs)
            history.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return history


_TREES: dict[str, Any] = {}
_TREES_LOCK = threading.Lock()


def _cached_parse(definition: str) -> tuple[Any, Any]:
    """moto's ASL parse, with the ANTLR tree (the slow half) cached per definition.

    The evaluation components are rebuilt from the tree on every call, so no execution
    shares state with another; only the pure syntax tree is reused.
    """
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    with _TREES_LOCK:
        tree = _TREES.get(definition)
    if tree is None:
        _, tree = _ORIGINAL_PARSE(definition)
        with _TREES_LOCK:
            _TREES[definition] = tree
    return Preprocessor().visit(tree), tree


_ORIGINAL_PARSE = AmazonStateLanguageParser.parse


@contextmanager
def step_functions(env: StepEnvironment | None = None) -> Iterator[StepFunctionsHarness]:
    """moto with ASL execution on, the agent-step Lambda in-process, instant retry waits."""
    handler = load_handler()
    clock = _InstantTime()

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        harness.invocations += 1
        event = json.loads(body) if body else {}
        try:
            result = handler.handler(event, None)
        except Exception as exc:  # Lambda's error contract: the class name is the error type
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(error_of(exc)).encode()
        return json.dumps(result).encode()

    logging.getLogger("moto").setLevel(logging.CRITICAL)  # it logs whole ASL trees on errors
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with (
        mock_aws(config=config),  # type: ignore[arg-type]
        mock.patch.object(LambdaSimpleBackend, "invoke", invoke),
        mock.patch.object(retrier_decl, "time", clock),
        mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_cached_parse)),
    ):
        harness = StepFunctionsHarness(handler, clock)
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}],
        }  # fmt: skip
        role = iam.create_role(
            RoleName="agentweaver-test", AssumeRolePolicyDocument=json.dumps(trust)
        )
        harness.role_arn = role["Role"]["Arn"]
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Role=harness.role_arn,
            Handler="handler.handler",
            Code={"ZipFile": b"in-process"},
        )
        harness.function_arn = function["FunctionArn"]
        if env is not None:
            harness.use(env)
        yield harness


def _json_or_text(output: str | None) -> Any:
    """moto's describe_execution gives a string output unquoted (the history has it as JSON)."""
    if output is None:
        return None
    try:
        return json.loads(output)
    except ValueError:
        return output
