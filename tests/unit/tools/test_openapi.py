"""OpenAPI connectors: a tool per operation, SSRF-safe calls, auth from config."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools import Tool, net
from agentweaver.tools.openapi import OpenAPIConnector
from tests.providers.conftest import FakeProvider

PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "example": "Rex"},
        "tag": {"type": "string", "nullable": True},
        "owner": {"$ref": "#/components/schemas/Owner"},
    },
}


def petstore(server_url: str) -> dict[str, Any]:
    pet_body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": server_url}],
        "paths": {
            "/pets/{petId}": {
                "parameters": [
                    {
                        "name": "petId",
                        "in": "path",
                        "required": True,
                        "description": "The pet's id",
                        "schema": {"type": "integer"},
                    }
                ],
                "get": {
                    "operationId": "getPet",
                    "summary": "Get one pet",
                    "parameters": [
                        {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}
                    ],
                },
                "put": {
                    "operationId": "updatePet",
                    "summary": "Replace a pet",
                    "description": "Overwrites every field.",
                    "parameters": [
                        {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                        {"name": "X-Api-Key", "in": "header", "required": True},
                        {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                    ],
                    "requestBody": pet_body,
                },
            },
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "description": "List pets, optionally by tag.",
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"name": "tag", "in": "query", "schema": {"type": "array"}},
                    ],
                },
                "post": {"summary": "Create a pet", "requestBody": pet_body},
            },
        },
        "components": {
            "schemas": {
                "Pet": PET,
                "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
            "parameters": {
                "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}
            },
        },
    }


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    srv = FakeProvider()
    monkeypatch.setattr(net, "_TEST_LOOPBACK_PORTS", frozenset({srv.server.server_address[1]}))
    yield srv
    srv.close()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    guarded = socket.socket.connect

    def record(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return seen


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return names


def connector(server: FakeProvider, **kwargs: Any) -> OpenAPIConnector:
    kwargs.setdefault("headers", {"X-Api-Key": "key-from-config", "Authorization": "Bearer cfg"})
    return OpenAPIConnector(petstore(f"{server.url}/api"), name="petstore", **kwargs)


def by_name(tools: list[Tool]) -> dict[str, Tool]:
    return {t.name: t for t in tools}


def test_one_tool_per_operation(server: FakeProvider) -> None:
    tools = by_name(connector(server).tools())
    assert set(tools) == {
        "petstore_getPet",
        "petstore_updatePet",
        "petstore_listPets",
        "petstore_post_pets",  # no operationId: made from the method and path
    }
    assert tools["petstore_updatePet"].description == (
        "Replace a pet Overwrites every field. (PUT /pets/{petId})"
    )
    assert tools["petstore_post_pets"].description == "Create a pet (POST /pets)"


def test_schemas(server: FakeProvider) -> None:
    tools = by_name(connector(server).tools())
    update = tools["petstore_updatePet"].parameters
    assert set(update["properties"]) == {"petId", "dryRun", "X-Request-Id", "body"}
    assert update["required"] == ["petId", "body"]
    assert update["properties"]["petId"] == {"type": "integer", "description": "The pet's id"}
    body = update["properties"]["body"]
    assert body["properties"]["owner"] == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    }
    assert body["properties"]["name"] == {"type": "string"}  # "example" is not JSON Schema
    assert body["properties"]["tag"] == {"type": ["string", "null"]}
    assert "$ref" not in json.dumps(update)
    listing = tools["petstore_listPets"].parameters
    assert listing == {
        "type": "object",
        "properties": {"limit": {"type": "integer"}, "tag": {"type": "array"}},
    }
    for item in tools.values():
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", item.name)
        for prop in item.parameters["properties"]:
            assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", prop)


async def test_call_with_path_query_header_and_body(server: FakeProvider) -> None:
    update = by_name(connector(server).tools())["petstore_updatePet"]
    server.reply(200, {"id": 7, "name": "Rex"})
    result = await update.call(
        {"petId": 7, "dryRun": True, "X-Request-Id": "r-1", "body": {"name": "Rex", "tag": None}}
    )
    assert result == {"status": 200, "body": {"id": 7, "name": "Rex"}}
    sent = server.last
    assert (sent.method, sent.path) == ("PUT", "/api/pets/7?dryRun=true")
    assert sent.json == {"name": "Rex", "tag": None}
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-request-id"] == "r-1"
    assert sent.headers["x-api-key"] == "key-from-config"
    assert sent.headers["authorization"] == "Bearer cfg"


async def test_list_query_and_text_response(server: FakeProvider) -> None:
    listing = by_name(connector(server).tools())["petstore_listPets"]
    server.reply(200, body=b"plain " * 10, headers={"content-type": "text/plain"})
    result = await listing.call({"limit": 2, "tag": ["a", "b c"]})
    assert server.last.path == "/api/pets?limit=2&tag=a&tag=b+c"
    assert result == {"status": 200, "body": "plain " * 10}


@pytest.mark.parametrize(
    "arguments",
    [
        {"petId": 1, "body": {}, "X-Api-Key": "from-model"},
        {"petId": 1, "body": {}, "Authorization": "Bearer from-model"},
        {"petId": 1, "body": {}, "headers": {"X-Api-Key": "from-model"}},
        {"petId": 1, "body": {}, "session": "stolen"},
    ],
)
async def test_model_cannot_set_auth(arguments: dict[str, Any], server: FakeProvider) -> None:
    update = by_name(connector(server).tools())["petstore_updatePet"]
    with pytest.raises(ToolError, match="unknown arguments"):
        await update.call(arguments)
    assert server.requests == []


async def test_config_headers_win_even_over_declared_params(server: FakeProvider) -> None:
    # without configured headers, the spec's X-Api-Key header parameter is the model's to fill
    free = by_name(connector(server, headers={}).tools())["petstore_updatePet"]
    assert "X-Api-Key" in free.parameters["properties"]
    assert "Authorization" not in free.parameters["properties"]  # never from the model
    server.reply(200, {})
    await free.call({"petId": 1, "body": {}, "X-Api-Key": "model-key"})
    assert server.last.headers["x-api-key"] == "model-key"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"body": {"name": "x"}}, "missing required arguments: petId"),
        ({"petId": 1}, "missing required arguments: body"),
        ({"petId": None, "body": None}, "missing required arguments: petId, body"),
        ({"petId": "..", "body": {}}, "petId must be a single non-empty value"),
        ({"petId": "", "body": {}}, "petId must be a single non-empty value"),
        ({"petId": [1, 2], "body": {}}, "petId must be a single non-empty value"),
    ],
)
async def test_bad_arguments_never_call(
    arguments: dict[str, Any], message: str, server: FakeProvider
) -> None:
    update = by_name(connector(server).tools())["petstore_updatePet"]
    with pytest.raises(ToolError, match=re.escape(message)):
        await update.call(arguments)
    assert server.requests == []


async def test_path_values_cannot_move_the_path(server: FakeProvider) -> None:
    get = by_name(connector(server).tools())["petstore_getPet"]
    server.reply(200, {}).reply(200, {})
    await get.call({"petId": "../../admin?x=1#"})
    assert server.last.path == "/api/pets/..%2F..%2Fadmin%3Fx%3D1%23"
    await get.call({"petId": 5, "verbose": False})
    assert server.last.path == "/api/pets/5?verbose=false"


async def test_only_the_servers_host_is_allowed(
    server: FakeProvider, dns: dict[str, str], connects: list[Any]
) -> None:
    dns["elsewhere.test"] = "127.0.0.1"
    get = by_name(connector(server).tools())["petstore_getPet"]
    port = server.server.server_address[1]
    server.reply(302, {}, headers={"location": f"http://elsewhere.test:{port}/steal"})
    with pytest.raises(ToolError, match="not in the allowed hosts"):
        await get.call({"petId": 1})
    assert len(server.requests) == 1  # the redirect was refused, not followed
    assert {address[1] for address in connects} == {port}


@pytest.mark.parametrize(
    "base_url", ["http://169.254.169.254/latest", "http://metadata.test/", "http://10.0.0.5:8080/"]
)
async def test_internal_servers_are_refused(
    base_url: str, dns: dict[str, str], connects: list[Any]
) -> None:
    dns["metadata.test"] = "169.254.169.254"
    tools = OpenAPIConnector(petstore(base_url), name="meta").tools()
    with pytest.raises(ToolError, match="blocked"):
        await by_name(tools)["meta_getPet"].call({"petId": 1})
    assert connects == []


def test_spec_from_yaml_text_and_file(server: FakeProvider, tmp_path: Path) -> None:
    import yaml

    text = yaml.safe_dump(petstore(f"{server.url}/api"))
    path = tmp_path / "pets.yaml"
    path.write_text(text)
    for spec in (text, str(path), path, json.dumps(petstore(f"{server.url}/api"))):
        made = OpenAPIConnector(spec, name="p", operations=["getPet"]).tools()
        assert [t.name for t in made] == ["p_getPet"]


def test_configuration_errors(server: FakeProvider) -> None:
    spec = petstore("/relative")
    with pytest.raises(ConfigurationError, match="relative; pass base_url"):
        OpenAPIConnector(spec, name="p")
    assert OpenAPIConnector(spec, name="p", base_url=f"{server.url}/v2/").base_url.endswith("/v2")
    with pytest.raises(ConfigurationError, match=r"unknown operations \['nope'\]"):
        OpenAPIConnector(petstore(server.url), name="p", operations=["nope"])
    with pytest.raises(ConfigurationError, match="no 'paths'"):
        OpenAPIConnector({"openapi": "3.0.0"}, name="p")
    with pytest.raises(ConfigurationError, match="not an http"):
        OpenAPIConnector(petstore("file:///etc"), name="p")


def test_long_and_odd_names_are_sanitized(server: FakeProvider) -> None:
    spec = petstore(server.url)
    spec["paths"]["/pets"]["get"]["operationId"] = "list pets/by:tag" + "x" * 80
    made = OpenAPIConnector(spec, name="my api!", operations=None).tools()
    names = [t.name for t in made]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", n) for n in names)
    assert any(n.startswith("my_api_list_pets_by_tagxxx") and len(n) == 64 for n in names)


def test_swagger2_document(server: FakeProvider) -> None:
    spec = {
        "swagger": "2.0",
        "host": "api.example.com",
        "basePath": "/v1",
        "schemes": ["https"],
        "paths": {
            "/things/{id}": {
                "post": {
                    "operationId": "addThing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "string"},
                        {"name": "payload", "in": "body", "required": True, "schema": PET},
                    ],
                }
            }
        },
    }
    conn = OpenAPIConnector(spec, name="s")
    assert conn.base_url == "https://api.example.com/v1"
    assert conn.policy.allowed_hosts == ("api.example.com",)
    (made,) = conn.tools()
    assert made.parameters["required"] == ["id", "body"]
    assert made.parameters["properties"]["id"] == {"type": "string"}


async def test_connector_tool_through_an_agent(server: FakeProvider, tmp_path: Path) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    tools = connector(server).tools()
    call = ToolCall("petstore_getPet", {"petId": 3, "verbose": True}, "c1")
    model = TestModel(script=[[call], "done"])
    worker = agent(role="Clerk", model=model, tools=tools)(lambda task: None)
    server.reply(200, {"id": 3, "name": "Tom"})
    result = await LocalRunner(sandbox_root=tmp_path).run(AgentWorkflow([worker], name="w"), "go")
    assert result.status == "succeeded", result.errors
    (record,) = result.steps[0].tool_calls
    assert record["name"] == "petstore_getPet"
    assert not record["is_error"]
    assert "Tom" in record["result"]
    assert server.last.path == "/api/pets/3?verbose=true"
    assert server.last.headers["authorization"] == "Bearer cfg"
