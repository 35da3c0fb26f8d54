"""Powertools in the functions: a compiled workflow run under moto prints EMF metrics (what the
alarms read) and JSON log lines with the request id, and never the step's input or output."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from support.moto_sfn import load_handler, step_functions

from agentweaver.exceptions import InvalidData
from agentweaver.models.test import TestModel
from agentweaver.runtime.payloads import DirectoryPayloads
from agentweaver.runtime.serverless import LoadedWorkflow, StepEnvironment
from agentweaver.stores.sqlite import SQLiteStore
from agentweaver.workflow.binding import bind_agents
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import build_workflow

SECRET_INPUT = "customer-ssn-078-05-1120"


def _emf(out: str) -> list[dict[str, Any]]:
    docs = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            docs.append(json.loads(line))
    return docs


def test_a_run_emits_step_and_execution_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = build_workflow(WorkflowDefinition.model_validate({
        "name": "observed", "agents": {"a": {"role": "A"}, "b": {"role": "B"}},
        "flow": {"sequence": ["a", "b"]},
    }))  # fmt: skip
    loaded = LoadedWorkflow(workflow, bind_agents(workflow.agents))
    store = SQLiteStore(":memory:")
    with step_functions() as sfn:
        env = StepEnvironment(workflows=lambda owner, ref: loaded, store=store,
                              payloads=DirectoryPayloads(tmp_path), model_override=TestModel(),
                              on_metric=sfn.handler.OBSERVE.metric)  # fmt: skip
        sfn.use(env)
        run = sfn.run(sfn.deploy(workflow), SECRET_INPUT)
    assert run.status == "SUCCEEDED"
    docs = _emf(capsys.readouterr().out)
    assert docs, "no EMF metrics were printed"
    names: dict[str, list[float]] = {}
    for doc in docs:
        [directive] = doc["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "AgentWeaver"
        assert ["service"] in directive["Dimensions"]
        for metric in directive["Metrics"]:
            value = doc[metric["Name"]]
            names.setdefault(metric["Name"], []).extend(value if isinstance(value, list)
                                                        else [value])  # fmt: skip
    assert len(names["StepDuration"]) == 2
    assert names["ExecutionsSucceeded"] == [1.0]
    assert names["CostUSD"][0] >= 0
    assert "StepsFailed" not in names
    store.close()


def test_logs_are_json_with_the_request_id_and_no_payloads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "execution-events")  # as in Lambda
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
    package = logging.getLogger("agentweaver")
    saved = (package.handlers[:], package.propagate, package.level)
    try:
        handler = load_handler("execution_events")
        handler.STORE = SQLiteStore(":memory:")
        out = io.StringIO()  # Powertools caches its handler per service, stream and all
        previous = handler.OBSERVE.logger.registered_handler.setStream(out)
        arn = "arn:aws:lambda:us-east-1:1:function:f"
        context = SimpleNamespace(aws_request_id="req-123", function_name="f",
                                  memory_limit_in_mb=512, function_version="$LATEST",
                                  invoked_function_arn=arn)  # fmt: skip
        result = handler.handler({"detail": {"input": SECRET_INPUT}}, context)
        handler.OBSERVE.logger.registered_handler.setStream(previous)
    finally:  # the Powertools handler must not outlive the test
        package.handlers[:], package.propagate = saved[0], saved[1]
        package.setLevel(saved[2])
    assert result["applied"] is None
    assert result["error"]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    [line] = [entry for entry in lines if "dropped an event" in entry["message"]]
    assert line["request_id"] == "req-123"
    assert line["service"] == "execution-events"
    assert line["level"] == "WARNING"
    assert SECRET_INPUT not in json.dumps(lines)


def test_a_failed_step_counts_as_failed(tmp_path: Path) -> None:
    seen: list[tuple[str, float, str]] = []
    env = StepEnvironment(workflows=lambda owner, ref: (_ for _ in ()).throw(InvalidData("x")),
                          on_metric=lambda *m: seen.append(m))  # fmt: skip
    assert env.on_metric is not None
    env.metric("StepsFailed", 1)
    assert seen == [("StepsFailed", 1, "Count")]
