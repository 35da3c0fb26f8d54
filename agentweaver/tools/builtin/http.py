"""``http_request``: the model calls a web API or fetches a page, through the SSRF-safe client.

Everything that widens what the model can do (allowed hosts, size and time limits, credentials)
comes from ``tool_settings.http_request``; the model only picks the method, URL, extra headers
and body. Credentials are configuration: configured headers always win over the model's, and
the model's own ``Authorization``/``Cookie``/``Proxy-*`` headers are dropped unless
``allow_model_auth_headers`` is set, so a prompt-injected page cannot make the agent replay or
invent credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from agentweaver.exceptions import ConfigurationError
from agentweaver.tools.base import Tool, tool
from agentweaver.tools.context import ToolContext
from agentweaver.tools.net import HttpPolicy, SafeResponse, safe_request
from agentweaver.tools.redact import truncate

__all__ = ["TOOLS", "http_request"]

# Response headers worth a model's attention; the rest is noise (and may carry cookies).
_SHOWN_HEADERS = (
    "content-type",
    "content-length",
    "location",
    "last-modified",
    "etag",
    "retry-after",
    "link",
    "www-authenticate",
)
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "yaml", "csv", "x-www-form-urlencoded")


def _is_auth_header(name: str) -> bool:
    lower = name.lower()
    return lower in ("authorization", "cookie") or lower.startswith("proxy-")


def _configured_headers(settings: Mapping[str, Any]) -> dict[str, str]:
    headers = settings.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ConfigurationError("tool_settings.http_request.headers must map names to strings")
    return dict(headers)


def _merge_headers(
    model: Mapping[str, str] | None, configured: dict[str, str], allow_auth: bool
) -> tuple[dict[str, str], list[str]]:
    """The headers to send, and the names of the model's headers that were dropped."""
    taken = {name.lower() for name in configured}
    merged: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in (model or {}).items():
        if name.lower() in taken or (_is_auth_header(name) and not allow_auth):
            dropped.append(name)
        else:
            merged[name] = value
    merged.update(configured)
    return merged, dropped


def _body_text(response: SafeResponse) -> str:
    content_type = response.headers.get("content-type", "").lower()
    if not response.content:
        return ""
    if content_type and not any(kind in content_type for kind in _TEXT_TYPES):
        try:  # servers mislabel text often; only truly binary bodies are withheld
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            return f"[{len(response.content)} bytes of {content_type}: binary, not shown]"
    return response.text


@tool(register=False)
async def http_request(
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
    url: str,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    *,
    ctx: ToolContext,
) -> dict[str, Any]:
    """Send an HTTP request to a public http(s) URL; returns status, main headers and body text.
    Use it to call a web API or read a page. Put JSON in `body` as a string (Content-Type then
    defaults to application/json). Long bodies are cut. Private and internal addresses are
    refused. Credentials are added by configuration: do not send Authorization or Cookie.

    Configuration (``tool_settings.http_request``): ``allowed_hosts``, ``max_bytes``,
    ``timeout``, ``max_redirects``, ``allow_http``, ``headers`` (always sent, never overridden
    by the model), ``allow_model_auth_headers``, ``max_chars``.
    """
    settings = ctx.settings_for("http_request")
    policy = HttpPolicy.from_settings(settings)
    max_chars = settings.get("max_chars", 20_000)
    allow_auth = settings.get("allow_model_auth_headers", False)
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars <= 0:
        raise ConfigurationError("tool_settings.http_request.max_chars must be a positive integer")
    if not isinstance(allow_auth, bool):
        raise ConfigurationError(
            "tool_settings.http_request.allow_model_auth_headers must be true or false"
        )
    sent, dropped = _merge_headers(headers, _configured_headers(settings), allow_auth)
    if body is not None and not any(name.lower() == "content-type" for name in sent):
        try:
            json.loads(body)
            sent["Content-Type"] = "application/json"
        except ValueError:
            sent["Content-Type"] = "text/plain; charset=utf-8"
    response = await safe_request(method, url, policy=policy, headers=sent, data=body)
    text = _body_text(response)
    result: dict[str, Any] = {
        "status": response.status,
        "url": response.url,
        "headers": {k: response.headers[k] for k in _SHOWN_HEADERS if k in response.headers},
        "body": truncate(text, max_chars),
    }
    if len(text) > max_chars:
        result["truncated"] = True
    if dropped:
        result["note"] = (
            f"headers not sent: {', '.join(dropped)} (credentials come from configuration)"
        )
    return result


TOOLS: list[Tool] = [http_request]
