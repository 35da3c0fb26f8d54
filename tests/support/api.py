"""An API client for tests: one tenant's credentials and the calls every scenario makes."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient


class Api:
    """A test client with one tenant's credentials, and helpers for the common calls."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.put(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.delete(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)


DEFINITION: dict[str, Any] = {
    "name": "api-demo",
    "description": "two agents in a row",
    "agents": {
        "researcher": {"role": "Researcher", "model": "claude"},
        "writer": {"role": "Writer", "model": "gpt"},
    },
    "flow": {"sequence": ["researcher", "writer"]},
}


def create(api: Api, definition: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/workflows/", json=definition or DEFINITION)
    assert response.status_code == 201, response.text
    return response.json()


def wait(api: Api, execution_id: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(f"/executions/{execution_id}").json()
        if body["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.02)
