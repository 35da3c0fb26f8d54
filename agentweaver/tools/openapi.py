"""API connectors: each operation of an OpenAPI document becomes a tool the model can call.

The model fills in the operation's parameters and body; where the call goes (the server, the
allowed hosts) and how it authenticates (``headers``) are fixed when the connector is built,
from configuration. Header parameters that configuration already sets, and ``Authorization``
/ ``Cookie`` ones, are left out of the schemas, so the model cannot even try to override them.
Every call goes through ``safe_request``: by default only the server's own host is allowed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools.base import Tool
from agentweaver.tools.net import HttpPolicy, safe_request
from agentweaver.tools.redact import truncate

__all__ = ["OpenAPIConnector"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# OpenAPI keywords that are not JSON Schema: providers reject or ignore them.
_NOT_SCHEMA = {"example", "examples", "xml", "externalDocs", "discriminator", "nullable"}
_SWAGGER2_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum")
_IGNORED_HEADERS = {"authorization", "cookie", "accept", "content-type"}
_MAX_REF_DEPTH = 12


@dataclass
class _Param:
    prop: str  # the argument name the model sees
    name: str  # the name on the wire
    where: str  # path, query or header
    required: bool
    schema: dict[str, Any]


@dataclass
class _Operation:
    op_id: str
    method: str
    path: str
    description: str
    params: list[_Param] = field(default_factory=list)
    body_type: str | None = None  # media type of the request body, None: no body
    body_required: bool = False
    body_schema: dict[str, Any] = field(default_factory=dict)


def _load(spec: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    if isinstance(spec, Mapping):
        loaded: Any = dict(spec)
    else:
        text = str(spec)
        if isinstance(spec, os.PathLike) or _is_file(text):
            text = Path(spec).read_text(encoding="utf-8")
        try:
            loaded = json.loads(text)
        except ValueError:
            import yaml

            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ConfigurationError(f"OpenAPI document is not JSON or YAML: {exc}") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("paths"), dict):
        raise ConfigurationError("not an OpenAPI document: no 'paths' mapping")
    return loaded


def _is_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except OSError:  # a long JSON text is no file name
        return False


def _safe_name(text: str, limit: int = 64) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_-]", "_", text)).strip("_")[:limit] or "x"


class OpenAPIConnector:
    """The operations of one API, as tools; auth headers come from configuration only.

    ``spec`` is a parsed document, its JSON/YAML text or a file path. ``base_url`` defaults to
    the document's first server; ``allowed_hosts`` to that server's host (``[]``: any public
    host); ``operations`` keeps only the listed operation ids.
    """

    def __init__(
        self,
        spec: Mapping[str, Any] | str | os.PathLike[str],
        *,
        name: str,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        allowed_hosts: list[str] | tuple[str, ...] | None = None,
        operations: list[str] | None = None,
        timeout: float = 30.0,
        max_bytes: int = 2_000_000,
        max_chars: int = 20_000,
    ) -> None:
        self.spec = _load(spec)
        self.name = name
        self.base_url = (base_url or self._server_url()).rstrip("/")
        host = urlsplit(self.base_url).hostname
        if not host or urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ConfigurationError(f"{name}: base URL {self.base_url!r} is not an http(s) URL")
        hosts = (host,) if allowed_hosts is None else tuple(allowed_hosts)
        self.policy = HttpPolicy(allowed_hosts=hosts, max_bytes=max_bytes, timeout=timeout)
        self.headers = dict(headers or {})
        self.max_chars = max_chars
        found = self._operations()
        if operations is not None:
            unknown = sorted(set(operations) - {op.op_id for op in found})
            if unknown:
                known = ", ".join(op.op_id for op in found)
                raise ConfigurationError(f"{name}: unknown operations {unknown} (known: {known})")
            found = [op for op in found if op.op_id in operations]
        self.operations = found

    def tools(self) -> list[Tool]:
        made: list[Tool] = []
        names: set[str] = set()
        for op in self.operations:
            tool_name = base = _safe_name(f"{self.name}_{op.op_id}")
            counter = 2
            while tool_name in names:
                tool_name = f"{base[: 60 - len(str(counter))]}_{counter}"
                counter += 1
            names.add(tool_name)
            made.append(Tool(tool_name, op.description, self._caller(op), self._schema(op)))
        return made

    # --- reading the document --------------------------------------------------------------

    def _server_url(self) -> str:
        servers = self.spec.get("servers") or []
        if servers and isinstance(servers[0], dict) and servers[0].get("url"):
            url = str(servers[0]["url"])
            for var, spec in (servers[0].get("variables") or {}).items():
                url = url.replace("{" + var + "}", str(spec.get("default", "")))
        elif "host" in self.spec:  # Swagger 2.0
            scheme = (self.spec.get("schemes") or ["https"])[0]
            url = f"{scheme}://{self.spec['host']}{self.spec.get('basePath', '')}"
        else:
            raise ConfigurationError(f"{self.name}: the document names no server; pass base_url=")
        if not urlsplit(url).scheme:
            raise ConfigurationError(f"{self.name}: server URL {url!r} is relative; pass base_url=")
        return url

    def _deref(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or depth > _MAX_REF_DEPTH:
                return {}  # external or too deep a reference: accept anything
            node = self.spec
            for part in ref[2:].split("/"):
                node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
            depth += 1
        return node

    def _clean(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """A self-contained JSON Schema: references inlined, OpenAPI-only keywords removed."""
        schema = self._deref(schema)
        if not isinstance(schema, dict) or depth > _MAX_REF_DEPTH:
            return {}
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _NOT_SCHEMA:
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {k: self._clean(v, depth + 1) for k, v in value.items()}
            elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
                out[key] = self._clean(value, depth + 1)
            elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
                out[key] = [self._clean(v, depth + 1) for v in value]
            else:
                out[key] = value
        if schema.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out

    def _operations(self) -> list[_Operation]:
        found: list[_Operation] = []
        for path, item in self.spec["paths"].items():
            item = self._deref(item)
            if not isinstance(item, dict):
                continue
            for method in _METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    found.append(self._operation(path, method, item, op))
        return found

    def _operation(
        self, path: str, method: str, item: dict[str, Any], op: dict[str, Any]
    ) -> _Operation:
        op_id = op.get("operationId") or _safe_name(f"{method}_{path}")
        text = " ".join(str(op[k]).strip() for k in ("summary", "description") if op.get(k))
        description = f"{truncate(text, 900)} ({method.upper()} {path})".strip()
        result = _Operation(str(op_id), method.upper(), path, description)
        params: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = self._deref(raw)
            if isinstance(param, dict) and "name" in param and "in" in param:
                params[(str(param["name"]), str(param["in"]))] = param  # operation's win
        configured = {name.lower() for name in self.headers}
        taken = {"body"}
        for (wire, where), param in params.items():
            if where == "body":  # Swagger 2.0 body parameter
                self._set_body(result, "application/json", param.get("schema"), param)
                continue
            if where not in ("path", "query", "header"):
                continue  # cookie and formData parameters are not supported
            if where == "header" and wire.lower() in _IGNORED_HEADERS | configured:
                continue  # set by configuration (or by HTTP itself), never by the model
            schema = param.get("schema") or {
                k: param[k] for k in _SWAGGER2_SCHEMA_KEYS if k in param
            }
            schema = self._clean(schema)
            if param.get("description"):
                schema["description"] = str(param["description"])
            prop = _safe_name(wire)
            if prop in taken:
                prop = _safe_name(f"{where}_{wire}")
            taken.add(prop)
            required = where == "path" or bool(param.get("required"))
            result.params.append(_Param(prop, wire, where, required, schema))
        request_body = self._deref(op.get("requestBody"))
        if isinstance(request_body, dict):
            content = request_body.get("content") or {}
            media = next((m for m in content if "json" in m), next(iter(content), None))
            if media is not None:
                self._set_body(result, media, content[media].get("schema"), request_body)
        return result

    def _set_body(self, op: _Operation, media: str, schema: Any, spec: dict[str, Any]) -> None:
        op.body_type, op.body_required = media, bool(spec.get("required"))
        op.body_schema = self._clean(schema)
        op.body_schema.setdefault("description", spec.get("description") or f"request ({media})")

    def _schema(self, op: _Operation) -> dict[str, Any]:
        properties = {p.prop: p.schema for p in op.params}
        required = [p.prop for p in op.params if p.required]
        if op.body_type is not None:
            properties["body"] = op.body_schema
            if op.body_required:
                required.append("body")
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema

    # --- calling -----------------------------------------------------------------------------

    def _caller(self, op: _Operation) -> Any:
        async def call(**arguments: Any) -> Any:
            return await self._call(op, arguments)

        call.__name__ = _safe_name(op.op_id)
        return call

    async def _call(self, op: _Operation, arguments: dict[str, Any]) -> Any:
        props = {p.prop: p for p in op.params}
        accepted = [*props, *(["body"] if op.body_type else [])]
        unknown = sorted(set(arguments) - set(accepted))
        if unknown:
            raise ToolError(f"unknown arguments {unknown}; this tool takes: {', '.join(accepted)}")
        missing = [p.prop for p in op.params if p.required and arguments.get(p.prop) is None]
        if op.body_required and arguments.get("body") is None:
            missing.append("body")
        if missing:
            raise ToolError(f"missing required arguments: {', '.join(missing)}")
        path, query, headers = op.path, {}, {}
        for prop, value in arguments.items():
            param = props.get(prop)
            if param is None or value is None:
                continue
            if param.where == "path":
                path = path.replace("{" + param.name + "}", _path_value(prop, value))
            elif param.where == "query":
                query[param.name] = _query_value(value)
            else:
                headers[param.name] = _scalar(value)
        if re.search(r"\{[^}]*\}", path):
            raise ToolError(f"the path {path} still has unfilled parameters")
        headers.update(self.headers)  # configuration wins over anything the model set
        body, payload = arguments.get("body"), None
        if body is not None and op.body_type is not None:
            if "json" in op.body_type:
                payload = json.dumps(body).encode()
            elif op.body_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
                payload = urlencode(body, doseq=True).encode()
            else:
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers.setdefault("Content-Type", op.body_type)
        response = await safe_request(
            op.method,
            self.base_url + path,
            policy=self.policy,
            headers=headers,
            params=query,
            data=payload,
        )
        if "json" in response.headers.get("content-type", "") and response.content:
            try:
                data = response.json()
                text = json.dumps(data, ensure_ascii=False)
                if len(text) <= self.max_chars:
                    return {"status": response.status, "body": data}
            except ValueError:
                text = response.text
        else:
            text = response.text
        return {"status": response.status, "body": truncate(text, self.max_chars)}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _query_value(value: Any) -> Any:
    return [_scalar(v) for v in value] if isinstance(value, list) else _scalar(value)


def _path_value(prop: str, value: Any) -> str:
    """One path segment: encoded so ``../admin`` stays a value instead of moving the path."""
    text = _scalar(value)
    if text in ("", ".", "..") or isinstance(value, dict | list):
        raise ToolError(f"{prop} must be a single non-empty value, not {value!r}")
    return quote(text, safe="")
