"""Tenant isolation over every route with an id, and credentials that must not work."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import DEFINITION, Api, create, wait


@pytest.fixture
def owned(api: Api) -> dict[str, Any]:
    workflow = create(api)
    accepted = api.post(f"/workflows/{workflow['id']}/execute", json={"input_data": "x"}).json()
    wait(api, accepted["execution_id"])
    return {"wid": workflow["id"], "eid": accepted["execution_id"]}


ROUTES = [
    ("GET", "/workflows/{wid}", None),
    ("PUT", "/workflows/{wid}", {"version": 1, "definition": DEFINITION}),
    ("DELETE", "/workflows/{wid}", None),
    ("GET", "/workflows/{wid}/asl", None),
    ("POST", "/workflows/{wid}/execute", {"input_data": 1}),
    ("GET", "/executions/{eid}", None),
    ("GET", "/executions/{eid}/logs", None),
    ("GET", "/executions/{eid}/events", None),
    ("POST", "/executions/{eid}/cancel", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_another_tenants_ids_are_not_found(
    api: Api, other: Api, owned: dict[str, Any], method: str, path: str, body: Any
) -> None:
    url = path.format(**owned)
    response = other.client.request(method, url, json=body, headers=other.headers)
    assert response.status_code == 404, (url, response.text)
    # and the owner still sees it unchanged
    assert api.get(f"/workflows/{owned['wid']}").json()["version"] == 1


def test_lists_never_show_another_tenants_items(
    api: Api, other: Api, owned: dict[str, Any]
) -> None:
    assert other.get("/workflows/").json() == []
    assert other.get("/executions").json()["items"] == []
    assert other.get("/usage").json()["totals"].get("executions", 0) == 0
    assert other.get("/me/api-keys").json()[0]["name"] == "b's key"
    assert [k["name"] for k in api.get("/me/api-keys").json()] == []


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer aw_forged_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"X-API-Key": "aw_x_y"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
    ],
)
def test_bad_credentials_are_401(api: Api, header: dict[str, str]) -> None:
    response = api.client.get("/workflows/", headers=header)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_api_key_stops_working(api: Api) -> None:
    created = api.post("/me/api-keys", json={"name": "ci"}).json()
    secret = created["key"]
    assert api.client.get("/workflows/", headers={"X-API-Key": secret}).status_code == 200
    listed = api.get("/me/api-keys").json()
    assert all("key" not in k for k in listed)  # the secret is shown once
    assert api.delete(f"/me/api-keys/{created['key_id']}").status_code == 204
    assert api.client.get("/workflows/", headers={"X-API-Key": secret}).status_code == 401


def test_provider_keys_are_write_only(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    secret = "sk-test-0123456789abcdefSECRET"
    put = api.put("/me/provider-keys/openai", json={"key": secret})
    assert put.status_code == 200, put.text
    assert secret not in put.text
    shown = api.get("/me/provider-keys/openai").json()
    assert shown["hint"].endswith("CRET")
    assert secret not in api.get("/me/provider-keys").text
    assert api.get("/me/provider-keys/anthropic").status_code == 404
    assert api.put("/me/provider-keys/nonsense", json={"key": secret}).status_code == 404
    assert secret not in caplog.text
    assert api.headers["Authorization"].split()[1] not in caplog.text
    assert api.delete("/me/provider-keys/openai").status_code == 204
