"""The console's side of the API: the committed OpenAPI schema is current, the built console
is served at / with an SPA fallback that never shadows the API, and examples load once."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from agentweaver.api import create_app
from agentweaver.api.console import load_examples
from agentweaver.api.local import local_services
from agentweaver.api.services import Services

ROOT = Path(__file__).resolve().parents[2]


def _dump_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dump_openapi", ROOT / "frontend/scripts/dump_openapi.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_openapi_schema_is_current() -> None:
    dump = _dump_module()
    committed = (ROOT / "frontend/openapi.json").read_text(encoding="utf-8")
    assert committed == dump.render(dump.current_schema()), (
        "frontend/openapi.json is stale: run `make api-client` and commit the result "
        "(it regenerates frontend/src/api/schema.d.ts too)"
    )


@pytest.fixture
def console_dir(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    return dist


@pytest.fixture
def served(tmp_path: Path, console_dir: Path) -> Iterator[tuple[TestClient, Services, str]]:
    services, token = local_services(tmp_path / "home", model_override="test")
    with TestClient(create_app(services, console_dir=console_dir)) as client:
        yield client, services, token
    services.store.close()


def test_console_is_served_with_spa_fallback(served: tuple[TestClient, Services, str]) -> None:
    client, _, _ = served
    for path in ("/", "/runs/abc123", "/builder/new", "/analytics"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<title>console</title>" in response.text
        assert response.headers["cache-control"] == "no-cache"
    asset = client.get("/assets/app.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert client.get("/assets/missing.js").status_code == 404
    outside = client.get("/%2e%2e/secret.txt")  # beside the build, never served
    assert "top secret" not in outside.text
    # the console asks for a hosted stack's runtime config; locally there is none to give
    config = client.get("/config.json")
    assert config.status_code == 200
    assert config.json() == {}


def test_files_outside_the_build_are_not_served(
    served: tuple[TestClient, Services, str], console_dir: Path
) -> None:
    client, _, _ = served
    (console_dir.parent / "secret.txt").write_text("top secret")
    for path in ("/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        assert "top secret" not in client.get(path).text, path


def test_api_routes_keep_precedence(served: tuple[TestClient, Services, str]) -> None:
    client, _, token = served
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/workflows/", headers=headers).json() == []
    assert client.get("/workflows/").status_code == 401  # the API, not the console
    missing = client.get("/workflows/nope/extra", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["type"] == "NotFound"
    assert client.get("/executions/x/y/z").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "AgentWeaver API"
    assert "/{full_path}" not in client.get("/openapi.json").json()["paths"]


def test_without_a_build_root_answers_a_hint(tmp_path: Path) -> None:
    services, _ = local_services(tmp_path / "home")
    with TestClient(create_app(services, console_dir=tmp_path / "absent")) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert "make serve" in response.text
        assert "/docs" in response.text
        assert client.get("/runs/abc").status_code == 404
    services.store.close()


def test_examples_are_saved_once(tmp_path: Path) -> None:
    services, _ = local_services(tmp_path / "home")
    examples = ROOT / "examples"
    names = load_examples(services.store, examples, "local")
    assert sorted(names) == ["multi-perspective", "research-team", "support-triage"]
    assert load_examples(services.store, examples, "local") == []  # present: not saved again
    saved = {r.name: r for r in services.store.list_workflows("local")}
    assert saved["support-triage"].definition["flow"]["route"]["router"] == "triage"
    assert services.store.list_workflows("someone-else") == []
    services.store.close()


def test_an_invalid_example_is_skipped(tmp_path: Path) -> None:
    services, _ = local_services(tmp_path / "home")
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "bad.yaml").write_text("name: bad\nagents: {}\nflow: {sequence: [ghost]}\n")
    (folder / "good.yaml").write_text("name: good\nagents: {a: {role: A}}\n")
    assert load_examples(services.store, folder, "local") == ["good"]
    services.store.close()
