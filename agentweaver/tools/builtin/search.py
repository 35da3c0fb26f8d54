"""``web_search``: the model looks things up on the web through a provider the workflow chose.

The provider, its API key and its endpoint are configuration (``tool_settings.web_search``),
never the model's arguments: a model can choose what to search for, not whose account pays or
which server answers. Every request goes through the SSRF-safe client
(``agentweaver.tools.net.safe_request``), so even a ``base_url`` pointing inside the network
cannot reach an internal service. Providers answer in different shapes; the model always gets
the same one: a short, de-duplicated list of ``{title, url, snippet}``.
"""

from __future__ import annotations

import asyncio
import html
import importlib
import inspect
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools.base import Tool, tool
from agentweaver.tools.builtin._duckduckgo import DuckDuckGoPage
from agentweaver.tools.context import ToolContext

__all__ = ["PROVIDERS", "TOOLS", "search_web", "web_search"]

PROVIDERS = ("tavily", "brave", "duckduckgo", "function")
MAX_RESULTS = 20  # Tavily's and Brave's own per-request maximum
MAX_QUERY_CHARS = 400  # Brave refuses longer queries; Tavily advises staying under it
_BASE_URLS = {
    "tavily": "https://api.tavily.com",
    "brave": "https://api.search.brave.com",
    "duckduckgo": "https://html.duckduckgo.com",
}
_ENV_KEYS = {"tavily": "TAVILY_API_KEY", "brave": "BRAVE_API_KEY"}
_NAMES = {"tavily": "Tavily", "brave": "Brave Search", "duckduckgo": "DuckDuckGo"}
# DuckDuckGo's HTML endpoint turns away clients that do not look like a browser.
_BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
_TAG = re.compile(r"<[^>]+>")


class _Response(Protocol):
    """What the search code reads of a response (``agentweaver.tools.net.SafeResponse``)."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


Fetch = Callable[..., Awaitable[_Response]]

# The HTTP function every provider request goes through; ``None`` means
# ``agentweaver.tools.net.safe_request``. Tests replace it with a loopback client.
fetch: Fetch | None = None


@tool(name="web_search", register=False)
async def web_search(query: str, max_results: int = 5, *, ctx: ToolContext) -> list[dict[str, str]]:
    """Search the web; returns up to max_results (1-20) results, each a title, url and snippet.

    Use a short keyword query (under 400 characters), not a whole question or prompt. Snippets
    are excerpts: fetch a result's url with another tool when you need the page itself.
    """
    return await search_web(query, max_results, ctx.settings_for("web_search"))


async def search_web(
    query: str, max_results: int, settings: Mapping[str, Any], *, fetch: Fetch | None = None
) -> list[dict[str, str]]:
    """The tool without the tool: search with ``settings`` (the ``web_search`` tool settings)."""
    text = " ".join(str(query).split())
    if not text:
        raise ToolError("the search query is empty: pass the words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise ToolError(
            f"the search query is {len(text)} characters long; use at most {MAX_QUERY_CHARS}"
            " (a few keywords, not a whole prompt)"
        )
    count = min(max(int(max_results), 1), MAX_RESULTS)
    provider = settings.get("provider")
    if provider == "function":
        found = await _call_function(settings, text, count)
    elif provider in _BASE_URLS:
        found = await _SEARCHES[provider](text, count, settings, fetch)
    else:
        raise ToolError(
            "web search is not configured here"
            + (f" (unknown provider {provider!r})" if provider else "")
            + "; do not retry. An operator sets tool_settings.web_search.provider to one of: "
            + ", ".join(PROVIDERS)
        )
    limit = settings.get("snippet_chars", 500)
    return _clean(found, count, limit if isinstance(limit, int) and limit > 0 else 500)


# --- providers ------------------------------------------------------------------------------


async def _tavily(text: str, count: int, settings: Mapping[str, Any], fetch: Fetch | None) -> Any:
    """``POST /search`` with a bearer key; results carry ``title``, ``url`` and ``content``."""
    headers = {"Authorization": f"Bearer {_api_key('tavily', settings)}"}
    body = {**_options(settings), "query": text, "max_results": count}
    response = await _send("tavily", "POST", "/search", settings, fetch, headers=headers, json=body)
    data = _json("tavily", response)
    return [
        {"title": r.get("title"), "url": r.get("url"), "snippet": r.get("content")}
        for r in _items(data.get("results") if isinstance(data, dict) else None)
    ]


async def _brave(text: str, count: int, settings: Mapping[str, Any], fetch: Fetch | None) -> Any:
    """``GET /res/v1/web/search?q=&count=`` with ``X-Subscription-Token``; ``web.results``."""
    headers = {"X-Subscription-Token": _api_key("brave", settings), "Accept": "application/json"}
    params = {**_options(settings), "q": text, "count": count}
    path = "/res/v1/web/search"
    response = await _send("brave", "GET", path, settings, fetch, headers=headers, params=params)
    data = _json("brave", response)
    web = data.get("web") if isinstance(data, dict) else None
    return [  # Brave marks matches up: "<strong>asyncio</strong> &amp; more"
        {"title": _unmark(r.get("title")), "url": r.get("url"),
         "snippet": _unmark(r.get("description"))}
        for r in _items(web.get("results") if isinstance(web, dict) else None)
    ]  # fmt: skip


async def _duckduckgo(
    text: str, count: int, settings: Mapping[str, Any], fetch: Fetch | None
) -> Any:
    """The HTML endpoint (no key): result links ``a.result__a``, snippets ``.result__snippet``."""
    headers = {"User-Agent": _BROWSER_AGENT, "Accept": "text/html"}
    params = {**_options(settings), "q": text}
    response = await _send("duckduckgo", "GET", "/html/", settings, fetch, headers=headers,
                           params=params)  # fmt: skip
    page = response.text
    if response.status == 202 or "anomaly-modal" in page:  # its bot check, not results
        raise ToolError(
            "web_search (duckduckgo): DuckDuckGo refused the automated request (bot check);"
            " try again later, or have an operator configure the tavily or brave provider"
        )
    parser = DuckDuckGoPage()
    parser.feed(page)
    parser.close()
    return parser.results


_SEARCHES = {"tavily": _tavily, "brave": _brave, "duckduckgo": _duckduckgo}


async def _call_function(settings: Mapping[str, Any], text: str, count: int) -> Any:
    """A user's ``package.module:callable``, sync or async, called as ``(query=, max_results=)``.

    Keyword arguments on purpose: a path that names some unrelated callable (``os:system``)
    fails on the unexpected keywords instead of receiving the model's text.
    """
    spec = settings.get("function")
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ConfigurationError(
            "tool_settings.web_search.function must be 'package.module:callable'"
        )
    module_name, attribute = spec.split(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"web_search function {spec!r} cannot be loaded: {exc}") from exc
    if not callable(target) or inspect.isclass(target):
        raise ConfigurationError(f"web_search function {spec!r} is not a function")
    try:
        if inspect.iscoroutinefunction(target):
            result = await target(query=text, max_results=count)
        else:
            result = await asyncio.to_thread(target, query=text, max_results=count)
            if inspect.isawaitable(result):
                result = await result
    except ToolError:
        raise
    except Exception as exc:
        raise ToolError(f"web_search function {spec}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, list | tuple) or not all(isinstance(r, Mapping) for r in result):
        raise ToolError(
            f"web_search function {spec} returned {type(result).__name__}, expected a list of"
            " {title, url, snippet} dicts"
        )
    return [
        {"title": r.get("title"), "url": r.get("url"),
         "snippet": r.get("snippet", r.get("content", r.get("description")))}
        for r in result
    ]  # fmt: skip


# --- HTTP -----------------------------------------------------------------------------------


def _api_key(provider: str, settings: Mapping[str, Any]) -> str:
    key = settings.get("api_key") or os.environ.get(_ENV_KEYS[provider], "")
    if not isinstance(key, str) or not key.strip():
        raise ToolError(
            f"web search ({provider}) has no API key; do not retry. An operator sets"
            f" tool_settings.web_search.api_key or the {_ENV_KEYS[provider]} environment variable"
        )
    return key.strip()


def _options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Extra provider parameters (Tavily ``search_depth``, Brave ``country``...) from settings."""
    options = settings.get("options", {})
    if not isinstance(options, Mapping):
        raise ConfigurationError("tool_settings.web_search.options must be a mapping")
    return dict(options)


async def _send(
    provider: str,
    method: str,
    path: str,
    settings: Mapping[str, Any],
    fetch_override: Fetch | None,
    **kwargs: Any,
) -> _Response:
    from agentweaver.tools.net import HttpPolicy, safe_request

    base = settings.get("base_url") or _BASE_URLS[provider]
    if not isinstance(base, str):
        raise ConfigurationError("tool_settings.web_search.base_url must be a URL")
    send: Fetch = fetch_override or fetch or safe_request
    policy = HttpPolicy.from_settings(settings)
    response = await send(method, base.rstrip("/") + path, policy=policy, **kwargs)
    if response.status >= 400:
        raise _http_error(provider, response)
    return response


def _http_error(provider: str, response: _Response) -> ToolError:
    """An error that tells the model whether trying again can help."""
    name, status = _NAMES[provider], response.status
    if status in (401, 403):
        env = f" or {_ENV_KEYS[provider]}" if provider in _ENV_KEYS else ""
        hint = (
            f"{name} refused the credentials; do not retry (an operator must fix"
            f" tool_settings.web_search.api_key{env})"
        )
    elif status in (429, 432, 433):  # Tavily uses 432/433 for plan and pay-as-you-go limits
        wait = response.headers.get("retry-after")
        hint = f"{name} rate limit or quota reached; " + (
            f"retry after {wait} seconds" if wait else "try again later"
        ) + " or continue without web search"  # fmt: skip
    elif status >= 500:
        hint = f"{name} is unavailable right now; try again later"
    else:
        hint = f"{name} rejected the request"
    detail = _error_detail(response)
    return ToolError(
        f"web_search ({provider}): HTTP {status}: {hint}" + (f" ({detail})" if detail else "")
    )


def _error_detail(response: _Response) -> str:
    """The provider's own explanation: Tavily ``detail.error``, Brave ``error.detail``..."""
    try:
        data = response.json()
    except ValueError:
        return " ".join(_TAG.sub(" ", response.text).split())[:200]
    for path in (("detail", "error"), ("error", "detail"), ("detail",), ("error",), ("message",)):
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


def _json(provider: str, response: _Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ToolError(
            f"web_search ({provider}): {_NAMES[provider]} answered with something other than"
            " JSON; try again later"
        ) from None


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# --- results --------------------------------------------------------------------------------


def _unmark(value: Any) -> Any:
    """HTML-marked text as plain text."""
    return html.unescape(_TAG.sub("", value)) if isinstance(value, str) else value


def _plain(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _clean(found: Iterable[Mapping[str, Any]], count: int, limit: int) -> list[dict[str, str]]:
    """At most ``count`` results with a web URL, each URL once, snippets at most ``limit``."""
    results: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in found:
        url = item.get("url")
        if not isinstance(url, str):
            continue
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            continue  # javascript:, relative links, ads' tracking paths
        key = urlunsplit(
            (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
        )
        if key in seen:
            continue
        seen.add(key)
        snippet = _plain(item.get("snippet"))
        if len(snippet) > limit:
            snippet = snippet[: limit - 1].rstrip() + "…"
        results.append({"title": _plain(item.get("title")) or url, "url": url, "snippet": snippet})
        if len(results) == count:
            break
    return results


TOOLS: list[Tool] = [web_search]
