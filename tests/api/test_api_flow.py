"""The main scenario through the embedded API: create, execute, poll, logs, usage."""

from __future__ import annotations

from support.api import DEFINITION, Api, create, wait


def test_create_execute_poll_logs_usage(api: Api) -> None:
    workflow = create(api)
    assert workflow["version"] == 1
    started = api.post(f"/workflows/{workflow['id']}/execute", json={"input_data": "hello"})
    assert started.status_code == 202
    accepted = started.json()
    assert accepted["status"] == "queued"
    done = wait(api, accepted["execution_id"])
    assert done["status"] == "succeeded", done
    assert [s["step_id"] for s in done["step_records"]] == ["researcher", "writer"]
    assert done["input_tokens"] > 0
    logs = api.get(f"/executions/{accepted['execution_id']}/logs").json()
    messages = [entry["message"] for entry in logs["logs"]]
    assert any("succeeded" in m for m in messages)
    usage = api.get("/usage").json()
    assert usage["totals"]["executions"] == 1
    assert usage["totals"]["input_tokens"] == done["input_tokens"]
    assert "cost_usd" in usage["totals"]
    assert usage["by_workflow"][workflow["id"]]["executions"] == 1
    assert usage["by_model"]  # per model breakdown
    assert usage["totals"]["api_calls"] >= 3


def test_idempotency_key_starts_one_execution(api: Api) -> None:
    workflow = create(api)
    headers = {**api.headers, "Idempotency-Key": "order-42"}
    first = api.client.post(f"/workflows/{workflow['id']}/execute", json={}, headers=headers)
    again = api.client.post(f"/workflows/{workflow['id']}/execute", json={}, headers=headers)
    assert first.json()["execution_id"] == again.json()["execution_id"]
    wait(api, first.json()["execution_id"])
    page = api.get("/executions").json()
    assert len(page["items"]) == 1


def test_update_with_a_stale_version_is_a_conflict(api: Api) -> None:
    workflow = create(api)
    changed = {**DEFINITION, "description": "changed"}
    ok = api.put(f"/workflows/{workflow['id']}", json={"version": 1, "definition": changed})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    stale = api.put(f"/workflows/{workflow['id']}", json={"version": 1, "definition": changed})
    assert stale.status_code == 409
    assert "version 2" in stale.json()["detail"]


def test_list_search_asl_delete(api: Api) -> None:
    workflow = create(api)
    create(api, {**DEFINITION, "name": "other-flow"})
    names = [w["name"] for w in api.get("/workflows/", params={"q": "demo"}).json()]
    assert names == ["api-demo"]
    asl = api.get(f"/workflows/{workflow['id']}/asl").json()
    assert asl["StartAt"] == "Start execution"
    assert api.delete(f"/workflows/{workflow['id']}").status_code == 204
    assert api.get(f"/workflows/{workflow['id']}").status_code == 404


def test_events_stream_ends_with_the_execution(api: Api) -> None:
    workflow = create(api)
    accepted = api.post(f"/workflows/{workflow['id']}/execute", json={"input_data": "x"}).json()
    eid = accepted["execution_id"]
    with api.client.stream("GET", f"/executions/{eid}/events", params={"interval": 0.05},
                           headers=api.headers) as response:  # fmt: skip
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    kinds = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
    assert "step" in kinds
    assert kinds[-1] == "execution"
    assert '"status":"succeeded"' in text


def test_health_and_metrics(api: Api) -> None:
    assert api.client.get("/health").json()["status"] == "ok"
    workflow = create(api)
    eid = api.post(f"/workflows/{workflow['id']}/execute", json={}).json()["execution_id"]
    wait(api, eid)
    text = api.client.get("/metrics").text
    for name in (
        "agentweaver_workflow_executions_total",
        "agentweaver_workflow_execution_duration_seconds",
        "agentweaver_active_executions",
        "agentweaver_api_calls_total",
    ):
        assert name in text
    assert 'status="succeeded"' in text
