"""``web_search``: each provider's real wire format against a loopback server, and its failures.

The tool's HTTP function is swapped (``search.fetch``) for a plain loopback client, so these
tests exercise the provider code (request sent, response parsed) without the SSRF-safe
client's test hatch; one test checks that, left alone, the tool uses the safe client, which
refuses the very same loopback server.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools import ToolContext
from agentweaver.tools.builtin import search
from agentweaver.tools.builtin.search import TOOLS, search_web, web_search
from agentweaver.tools.net import HttpPolicy, SafeResponse
from tests.providers.conftest import FakeProvider

DATA = Path(__file__).parent / "data"
KEY = "tvly-dev-0123456789abcdef"  # the shape of a Tavily key (and of a secret to redact)


class LoopbackFetch:
    """``safe_request``'s signature over plain httpx: what the tests inject as ``fetch``."""

    def __init__(self) -> None:
        self.policies: list[HttpPolicy] = []

    async def __call__(
        self,
        method: str,
        url: str,
        *,
        policy: HttpPolicy,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
    ) -> SafeResponse:
        self.policies.append(policy)
        async with httpx.AsyncClient(trust_env=False) as client:
            r = await client.request(
                method, url, headers=headers, params=params, json=json, content=data
            )
        headers_out = {k.lower(): v for k, v in r.headers.items()}
        return SafeResponse(r.status_code, headers_out, str(r.url), r.content)


@pytest.fixture
def server() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> LoopbackFetch:
    fetch = LoopbackFetch()
    monkeypatch.setattr(search, "fetch", fetch)
    monkeypatch.delenv("TAVILY_API_KEY", raising=False)
    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    return fetch


def ctx(**settings: Any) -> ToolContext:
    return ToolContext("acme", "e1", "s1", None, {"web_search": settings})


async def run(query: str, max_results: int = 5, **settings: Any) -> Any:
    return await web_search.call({"query": query, "max_results": max_results}, ctx(**settings))


def tavily_reply(*results: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "query": "q", "follow_up_questions": None, "answer": None, "images": [],
        "results": [
            {"title": t, "url": u, "content": c, "score": 0.9, "raw_content": None}
            for t, u, c in results
        ],
        "response_time": 1.07, "request_id": "123e4567-e89b-12d3-a456-426614174111",
    }  # fmt: skip


def brave_reply(*results: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "type": "search",
        "query": {"original": "q", "show_strict_warning": False, "more_results_available": True},
        "mixed": {"type": "mixed", "main": [{"type": "web", "index": 0, "all": False}]},
        "web": {"type": "search", "family_friendly": True, "results": [
            {"title": t, "url": u, "description": d, "type": "search_result",
             "subtype": "generic", "is_source_local": False, "language": "en",
             "profile": {"name": "Example", "url": u, "long_name": "example.com"},
             "meta_url": {"scheme": "https", "netloc": "example.com", "path": "› docs"}}
            for t, u, d in results
        ]},
    }  # fmt: skip


# --- the tool ---------------------------------------------------------------------------------


def test_the_tool_shows_the_model_only_the_query_and_count() -> None:
    assert [web_search] == TOOLS
    assert web_search.name == "web_search"
    assert set(web_search.parameters["properties"]) == {"query", "max_results"}
    assert web_search.parameters["required"] == ["query"]
    assert web_search.description.startswith("Search the web")


# --- Tavily -----------------------------------------------------------------------------------


async def test_tavily_posts_the_query_with_a_bearer_key(
    server: FakeProvider, loopback: LoopbackFetch
) -> None:
    server.reply(200, tavily_reply(
        ("Asyncio docs", "https://docs.python.org/3/library/asyncio.html", "Write async code."),
        ("Dup", "https://docs.python.org/3/library/asyncio.html/", "the same page again"),
        ("PEP 492", "https://peps.python.org/pep-0492/", "  async   and\nawait "),
        ("Third", "https://example.com/3", "beyond max_results"),
    ))  # fmt: skip
    settings = {"provider": "tavily", "api_key": KEY, "base_url": server.url + "/",
                "options": {"search_depth": "advanced"}, "timeout": 3}  # fmt: skip

    results = await run("  python   asyncio ", 2, **settings)

    assert results == [
        {"title": "Asyncio docs", "url": "https://docs.python.org/3/library/asyncio.html",
         "snippet": "Write async code."},
        {"title": "PEP 492", "url": "https://peps.python.org/pep-0492/",
         "snippet": "async and await"},
    ]  # fmt: skip
    sent = server.last
    assert (sent.method, sent.path) == ("POST", "/search")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json == {"search_depth": "advanced", "query": "python asyncio", "max_results": 2}
    assert loopback.policies[0].timeout == 3.0  # the policy comes from the settings


async def test_tavily_key_from_the_environment(
    server: FakeProvider, loopback: LoopbackFetch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-from-env")
    server.reply(200, tavily_reply(("T", "https://example.com/", "abcdefghij")))
    results = await run("q", provider="tavily", base_url=server.url, snippet_chars=5)
    assert results == [{"title": "T", "url": "https://example.com/", "snippet": "abcd…"}]
    assert server.last.headers["authorization"] == "Bearer tvly-from-env"


@pytest.mark.parametrize(("asked", "sent"), [(0, 1), (-3, 1), (1, 1), (7, 7), (20, 20), (50, 20)])
async def test_max_results_is_clamped_to_1_to_20(
    server: FakeProvider, loopback: LoopbackFetch, asked: int, sent: int
) -> None:
    server.reply(200, tavily_reply(*[(f"T{i}", f"https://e.com/{i}", "s") for i in range(25)]))
    results = await run("q", asked, provider="tavily", api_key=KEY, base_url=server.url)
    assert server.last.json["max_results"] == sent
    assert len(results) == sent


# --- Brave ------------------------------------------------------------------------------------


async def test_brave_gets_the_query_with_a_subscription_token(
    server: FakeProvider, loopback: LoopbackFetch
) -> None:
    server.reply(200, brave_reply(
        ("The <strong>Python</strong> Tutorial", "https://docs.python.org/3/tutorial/",
         "Python is an easy to learn, <strong>powerful</strong> language &amp; more."),
        ("Real Python", "https://realpython.com/", "Tutorials."),
    ))  # fmt: skip
    settings = {"provider": "brave", "api_key": "BSA-key", "base_url": server.url,
                "options": {"country": "us"}}  # fmt: skip

    results = await run("python tutorial", 2, **settings)

    assert results[0] == {
        "title": "The Python Tutorial", "url": "https://docs.python.org/3/tutorial/",
        "snippet": "Python is an easy to learn, powerful language & more.",
    }  # fmt: skip
    assert [r["url"] for r in results] == [
        "https://docs.python.org/3/tutorial/",
        "https://realpython.com/",
    ]
    sent = server.last
    path = urlsplit(sent.path)
    assert (sent.method, path.path) == ("GET", "/res/v1/web/search")
    assert parse_qs(path.query) == {"q": ["python tutorial"], "count": ["2"], "country": ["us"]}
    assert sent.headers["x-subscription-token"] == "BSA-key"
    assert sent.headers["accept"] == "application/json"
    assert "authorization" not in sent.headers


async def test_brave_without_web_results_is_an_empty_list(
    server: FakeProvider, loopback: LoopbackFetch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAVE_API_KEY", "BSA-env")
    server.reply(200, {"type": "search", "query": {"original": "zzqx"}, "mixed": {}})
    assert await run("zzqx", provider="brave", base_url=server.url) == []
    assert server.last.headers["x-subscription-token"] == "BSA-env"


# --- DuckDuckGo -------------------------------------------------------------------------------


async def test_duckduckgo_html_page_is_parsed(
    server: FakeProvider, loopback: LoopbackFetch
) -> None:
    page = (DATA / "duckduckgo_results.html").read_bytes()
    server.reply(200, body=page, headers={"content-type": "text/html; charset=UTF-8"})

    results = await run("python asyncio timeout", 10, provider="duckduckgo", base_url=server.url)

    assert results == [
        {"title": "Coroutines and Tasks — Python 3.13 documentation",
         "url": "https://docs.python.org/3/library/asyncio-task.html#timeouts",
         "snippet": "An asynchronous context manager for cancelling overdue coroutines."
                    " asyncio.timeout(delay) returns a context manager that can be used to"
                    " limit the amount of time spent waiting on something."},
        {"title": "python - asyncio force timeout - Stack Overflow",
         "url": "https://stackoverflow.com/questions/28609534/python-asyncio-force-timeout",
         "snippet": "Use asyncio.wait_for(coro, timeout) & catch TimeoutError; it cancels the"
                    " task <and> waits for the cancellation."},
        {"title": "Async IO in Python: A Complete Walkthrough – Real Python",
         "url": "https://realpython.com/async-io-python/",
         "snippet": "Get a solid understanding of asynchronous programming: timeouts, tasks &"
                    " event loops."},
        {"title": "PEP 492 – Coroutines with async and await syntax | peps.python.org",
         "url": "https://peps.python.org/pep-0492/",
         "snippet": "This proposal introduces new syntax and semantics to enhance coroutine"
                    " support in Python."},
    ]  # fmt: skip
    sent = server.last
    path = urlsplit(sent.path)
    assert (sent.method, path.path) == ("GET", "/html/")
    assert parse_qs(path.query) == {"q": ["python asyncio timeout"]}
    assert sent.headers["user-agent"].startswith("Mozilla/5.0")
    assert not any(h in sent.headers for h in ("authorization", "x-subscription-token"))


async def test_duckduckgo_limits_results(server: FakeProvider, loopback: LoopbackFetch) -> None:
    page = (DATA / "duckduckgo_results.html").read_bytes()
    server.reply(200, body=page, headers={"content-type": "text/html"})
    results = await run("q", 2, provider="duckduckgo", base_url=server.url)
    assert [r["url"].split("/")[2] for r in results] == ["docs.python.org", "stackoverflow.com"]


async def test_duckduckgo_bot_check_is_a_clear_error(
    server: FakeProvider, loopback: LoopbackFetch
) -> None:
    page = b'<html><body><div class="anomaly-modal__title">Unfortunately, bots...</div></body>'
    server.reply(202, body=page, headers={"content-type": "text/html"})
    with pytest.raises(ToolError, match=r"refused the automated request.*tavily or brave"):
        await run("q", provider="duckduckgo", base_url=server.url)


# --- HTTP errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "status", "reply", "headers", "expected"),
    [
        ("tavily", 401, {"detail": {"error": "Unauthorized: missing or invalid API key."}}, {},
         r"HTTP 401: Tavily refused the credentials; do not retry.*TAVILY_API_KEY.*"
         r"\(Unauthorized: missing or invalid API key.\)"),
        ("brave", 403, {"type": "ErrorResponse", "error": {
            "code": "SUBSCRIPTION_TOKEN_INVALID", "detail": "The provided token is invalid.",
            "status": 403}}, {},
         r"HTTP 403: Brave Search refused the credentials.*\(The provided token is invalid.\)"),
        ("brave", 429, {"type": "ErrorResponse", "error": {"code": "RATE_LIMITED",
         "detail": "Request rate limit exceeded for plan.", "status": 429}}, {"retry-after": "2"},
         r"HTTP 429: Brave Search rate limit or quota reached; retry after 2 seconds"),
        ("tavily", 432, {"detail": {"error": "This request exceeds your plan's set usage limit."}},
         {}, r"HTTP 432: Tavily rate limit or quota reached; try again later"),
        ("tavily", 500, None, {}, r"HTTP 500: Tavily is unavailable right now; try again later"),
        ("brave", 503, {"message": "Service Unavailable"}, {},
         r"HTTP 503: Brave Search is unavailable.*\(Service Unavailable\)"),
        ("brave", 422, {"type": "ErrorResponse", "error": {"code": "VALIDATION",
         "detail": "Unable to validate request parameter(s).", "status": 422}}, {},
         r"HTTP 422: Brave Search rejected the request \(Unable to validate"),
    ],
)  # fmt: skip
async def test_provider_errors_say_whether_to_retry(
    server: FakeProvider,
    loopback: LoopbackFetch,
    provider: str,
    status: int,
    reply: Any,
    headers: dict[str, str],
    expected: str,
) -> None:
    if reply is None:
        server.reply(status, body=b"<html><h1>Internal Server Error</h1></html>",
                     headers={"content-type": "text/html"})  # fmt: skip
    else:
        server.reply(status, reply, headers=headers)
    with pytest.raises(ToolError, match=expected) as caught:
        await run("q", provider=provider, api_key=KEY, base_url=server.url)
    assert KEY not in str(caught.value)
    # positive control: the same settings work once the provider answers properly
    good = tavily_reply(("T", "https://e.com", "s")) if provider == "tavily" else brave_reply(
        ("T", "https://e.com", "s"))  # fmt: skip
    server.reply(200, good)
    assert len(await run("q", provider=provider, api_key=KEY, base_url=server.url)) == 1


async def test_a_non_json_answer_is_a_tool_error(
    server: FakeProvider, loopback: LoopbackFetch
) -> None:
    server.reply(200, body=b"<html>maintenance</html>", headers={"content-type": "text/html"})
    with pytest.raises(ToolError, match="something other than JSON"):
        await run("q", provider="tavily", api_key=KEY, base_url=server.url)


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{}, {"provider": ""}, {"api_key": KEY}])
async def test_no_provider_lists_the_options(
    server: FakeProvider, loopback: LoopbackFetch, settings: dict[str, Any]
) -> None:
    with pytest.raises(ToolError, match=r"not configured.*tavily, brave, duckduckgo, function"):
        await run("q", **settings, base_url=server.url)
    assert server.requests == []


async def test_unknown_provider_and_missing_key(
    server: FakeProvider, loopback: LoopbackFetch
) -> None:
    with pytest.raises(ToolError, match="unknown provider 'google'"):
        await run("q", provider="google", base_url=server.url)
    with pytest.raises(ToolError, match=r"no API key.*TAVILY_API_KEY"):
        await run("q", provider="tavily", base_url=server.url)
    with pytest.raises(ToolError, match=r"no API key.*BRAVE_API_KEY"):
        await run("q", provider="brave", api_key="  ", base_url=server.url)
    with pytest.raises(ConfigurationError, match="options must be a mapping"):
        await run("q", provider="brave", api_key="k", options=["x"], base_url=server.url)
    assert server.requests == []


@pytest.mark.parametrize("query", ["", "   \n\t ", "x" * 401])
async def test_bad_queries_are_refused_before_any_request(
    server: FakeProvider, loopback: LoopbackFetch, query: str
) -> None:
    with pytest.raises(ToolError, match="query"):
        await run(query, provider="tavily", api_key=KEY, base_url=server.url)
    assert server.requests == []
    server.reply(200, tavily_reply(("T", "https://e.com", "s")))  # control: the limit itself
    assert len(await run("x" * 400, provider="tavily", api_key=KEY, base_url=server.url)) == 1


async def test_by_default_requests_go_through_the_ssrf_safe_client(
    server: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model cannot aim the tool anywhere, but a base_url could: internal ones are refused."""
    monkeypatch.setattr(search, "fetch", None)
    port = server.url.rsplit(":", 1)[1]
    probes = [server.url, f"http://localhost:{port}", f"http://[::1]:{port}",
              f"http://2130706433:{port}", "http://169.254.169.254", "http://10.0.0.1",
              "file:///etc/passwd"]  # fmt: skip
    for base in probes:
        with pytest.raises(ToolError, match="blocked"):
            await run("q", provider="tavily", api_key=KEY, base_url=base)
    assert server.requests == []
    # control: the same server answers the same request through a loopback client
    server.reply(200, tavily_reply(("T", "https://e.com", "s")))
    results = await search_web(
        "q",
        5,
        {"provider": "tavily", "api_key": KEY, "base_url": server.url},
        fetch=LoopbackFetch(),
    )
    assert results == [{"title": "T", "url": "https://e.com", "snippet": "s"}]


# --- user function ----------------------------------------------------------------------------


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "aw_user_search.py").write_text(
        "import asyncio\n"
        "calls = []\n"
        "def sync_search(query, max_results):\n"
        "    calls.append((query, max_results))\n"
        "    return [{'title': f' {query} ', 'url': 'https://a.example/1',"
        " 'snippet': 'one'},\n"
        "            {'title': 'again', 'url': 'HTTPS://A.EXAMPLE/1/', 'snippet': 'dup'},\n"
        "            {'title': 'bad', 'url': 'javascript:alert(1)'},\n"
        "            {'url': 'https://b.example/', 'content': 'from content'}]\n"
        "async def async_search(query, max_results):\n"
        "    await asyncio.sleep(0)\n"
        "    return [{'title': str(max_results), 'url': 'https://c.example/'}]\n"
        "class Finder:\n"
        "    def search(self, query, max_results):\n"
        "        return []\n"
        "finder = Finder()\n"
        "def broken(query, max_results):\n"
        "    raise RuntimeError('index offline')\n"
        "def wrong(query, max_results):\n"
        "    return {'title': 'not a list'}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "aw_user_search", raising=False)
    return "aw_user_search"


async def test_user_function_provider(user_module: str) -> None:
    results = await run(
        "llm agents", 30, provider="function", function=f"{user_module}:sync_search"
    )
    assert results == [
        {"title": "llm agents", "url": "https://a.example/1", "snippet": "one"},
        {"title": "https://b.example/", "url": "https://b.example/", "snippet": "from content"},
    ]
    assert sys.modules[user_module].calls == [("llm agents", 20)]
    results = await run("x", 3, provider="function", function=f"{user_module}:async_search")
    assert results == [{"title": "3", "url": "https://c.example/", "snippet": ""}]
    assert await run("x", provider="function", function=f"{user_module}:finder.search") == []


async def test_user_function_failures(user_module: str, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="broken: RuntimeError: index offline"):
        await run("q", provider="function", function=f"{user_module}:broken")
    with pytest.raises(ToolError, match="returned dict, expected a list"):
        await run("q", provider="function", function=f"{user_module}:wrong")
    for spec in ["aw_user_search", "aw_user_search:missing", "no_such_module_x:f",
                 f"{user_module}:Finder", 42]:  # fmt: skip
        with pytest.raises(ConfigurationError):
            await run("q", provider="function", function=spec)
    # a path naming some unrelated callable gets keyword arguments it does not take
    marker = tmp_path / "pwned"
    for spec in ["os:system", "subprocess:getoutput", "subprocess:call", "builtins:exec"]:
        with pytest.raises(ToolError, match="TypeError"):
            await run(f"touch {marker}", provider="function", function=spec)
    assert not marker.exists()


# --- through an agent -------------------------------------------------------------------------


async def test_web_search_in_an_agent_tool_loop(
    server: FakeProvider, loopback: LoopbackFetch, tmp_path: Path
) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    server.reply(200, brave_reply(("MCP", "https://modelcontextprotocol.io/", "The protocol.")))
    model = TestModel(script=[[ToolCall("web_search", {"query": "mcp", "max_results": 2}, "c1")],
                              "done"])  # fmt: skip
    worker = agent(role="Researcher", model=model, tools=[web_search])(lambda task: None)
    settings = {"web_search": {"provider": "brave", "api_key": KEY, "base_url": server.url}}
    runner = LocalRunner(tool_settings=settings, sandbox_root=tmp_path)

    result = await runner.run(AgentWorkflow([worker], name="w"), "find MCP")

    assert result.status == "succeeded", result.errors
    (call,) = result.steps[0].tool_calls
    assert call["name"] == "web_search"
    assert call["arguments"] == {"query": "mcp", "max_results": 2}
    assert not call["is_error"]
    assert "https://modelcontextprotocol.io/" in call["result"]
    assert server.last.headers["x-subscription-token"] == KEY
    assert KEY not in str(result.steps[0].to_dict())
