"""Bad input answers 4xx with a message that says what is wrong; never 500."""

from __future__ import annotations

from support.api import DEFINITION, Api, create


def test_invalid_definition_lists_the_problems(api: Api) -> None:
    bad = {**DEFINITION, "flow": {"sequence": ["researcher", "nobody"]}}
    response = api.post("/workflows/", json=bad)
    assert response.status_code == 422
    body = response.json()
    assert "nobody" in body["detail"] or any("nobody" in i["message"] for i in body["issues"])


def test_schema_errors_name_the_field(api: Api) -> None:
    response = api.post("/workflows/", json={"name": "x"})
    assert response.status_code == 422
    assert response.json()["issues"]
    assert api.post("/workflows/", content=b"{not json", headers={**api.headers,
                    "Content-Type": "application/json"}).status_code == 422  # fmt: skip


def test_function_agents_are_refused_over_the_api(api: Api) -> None:
    bad = {**DEFINITION, "agents": {**DEFINITION["agents"],
           "writer": {"role": "W", "model": "test", "function": "os:system"}}}  # fmt: skip
    response = api.post("/workflows/", json=bad)
    assert response.status_code == 422
    assert "not in this deployment's agent modules" in response.text


def test_oversized_body_is_413(api: Api) -> None:
    big = {**DEFINITION, "description": "x" * (2 * 1024 * 1024)}
    assert api.post("/workflows/", json=big).status_code == 413


def test_unknown_ids_and_bad_query_values(api: Api) -> None:
    assert api.get("/workflows/nope").status_code == 404
    assert api.get("/executions/nope").status_code == 404
    assert api.get("/executions/nope/logs").status_code == 404
    assert api.post("/workflows/nope/execute", json={}).status_code == 404
    assert api.get("/executions", params={"cursor": "garbage!!"}).status_code == 400
    assert api.get("/executions", params={"limit": 0}).status_code == 422
    assert api.get("/executions", params={"status": "weird"}).status_code == 422
    assert api.get("/usage", params={"start": "yesterday"}).status_code == 400
    assert api.get("/usage", params={"start": "2026-02-01", "end": "2026-01-01"}).status_code == 400


def test_execute_body_is_validated(api: Api) -> None:
    workflow = create(api)
    response = api.post(f"/workflows/{workflow['id']}/execute", json={"input": "typo"})
    assert response.status_code == 422
    assert "input" in response.json()["detail"]
