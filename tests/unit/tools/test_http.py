"""SSRF-safe HTTP: every probe is refused before any connection; positive controls get through.

Two loopback servers: ``server`` is let through by the test-only hatch (its port only) and
plays a public host; ``victim`` plays an internal service and must never see a request. A fake
resolver maps ``*.test`` names, and every ``socket.connect`` is recorded, so "refused" means
"no socket was even connected", not just "an error came back".
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentweaver.exceptions import ConfigurationError, ToolError, ToolTimeout
from agentweaver.tools import ToolContext, net
from agentweaver.tools.builtin.http import TOOLS, http_request
from agentweaver.tools.net import HttpPolicy, check_address, safe_request
from tests.providers.conftest import FakeProvider

DNS = {
    "public.test": ["127.0.0.1"],  # a "public" name, served by the hatched server
    "a.good.test": ["127.0.0.1"],
    "b.good.test": ["127.0.0.1"],
    "good.test": ["127.0.0.1"],
    "localtest.test": ["127.0.0.1"],  # a name that resolves to loopback
    "mixed.test": ["93.184.216.34", "127.0.0.1"],  # one public answer does not make it safe
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "ula.test": ["fd00::1"],
    "cgnat.test": ["100.64.0.1"],
}


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket connects to (on top of the suite's no-network guard)."""
    seen: list[Any] = []
    guarded = socket.socket.connect

    def record(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return seen


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Resolve the names in DNS; record every name asked for."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, family: int = 0, type: int = 0, *args: Any) -> Any:
        asked.append(str(host))
        if host not in DNS:
            return real(host, port, family, type, *args)
        result = []
        for address in DNS[host]:
            if ":" in address:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    srv = FakeProvider()
    monkeypatch.setattr(net, "_TEST_LOOPBACK_PORTS", frozenset({port_of(srv)}))
    yield srv
    srv.close()


@pytest.fixture
def victim() -> Iterator[FakeProvider]:
    srv = FakeProvider()
    yield srv
    srv.close()


def port_of(srv: FakeProvider) -> int:
    return int(srv.server.server_address[1])


def ctx(**settings: Any) -> ToolContext:
    return ToolContext(settings={"http_request": settings})


# --- addresses -------------------------------------------------------------------------------

BLOCKED_ADDRESSES = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1",
    "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "198.51.100.1", "203.0.113.10", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00::1", "fec0::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1",
    "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1", "100::1",
]  # fmt: skip
PUBLIC_ADDRESSES = [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111",
    "2a00:1450:4001:81c::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]  # fmt: skip


@pytest.mark.parametrize("address", BLOCKED_ADDRESSES)
def test_check_address_refuses_non_public(address: str) -> None:
    with pytest.raises(ToolError, match="blocked"):
        check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_check_address_accepts_public(address: str) -> None:
    check_address(ipaddress.ip_address(address))  # positive control: no error


# --- SSRF probes: none may connect ----------------------------------------------------------

PROBES = [
    "http://127.0.0.1:{v}/", "http://localhost:{v}/", "http://LOCALHOST.:{v}/",
    "http://2130706433:{v}/", "http://0x7f000001:{v}/", "http://0x7f.1:{v}/",
    "http://0177.0.0.1:{v}/", "http://017700000001:{v}/", "http://127.1:{v}/",
    "http://127.0.1:{v}/", "http://0:{v}/", "http://0.0.0.0:{v}/", "http://[::]:{v}/",
    "http://[::1]:{v}/", "http://[::ffff:127.0.0.1]:{v}/", "http://[::ffff:7f00:1]:{v}/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{v}/", "http://[::127.0.0.1]:{v}/",
    "http://[64:ff9b::7f00:1]:{v}/", "http://[2002:7f00:1::1]:{v}/", "http://[fe80::1%25lo]:{v}/",
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.64.0.1/", "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
    "http://localtest.test:{v}/", "http://mixed.test:{v}/", "http://metadata.test/",
    "http://mapped.test/", "http://ula.test/", "http://cgnat.test/",
    "file:///etc/passwd", "gopher://127.0.0.1:{v}/_GET", "ftp://127.0.0.1:{v}/",
    "dict://127.0.0.1:{v}/", "data:text/plain,hello", "javascript:alert(1)",
    "//127.0.0.1:{v}/", "127.0.0.1:{v}", "http:///x", "http://:{v}/",
    "http://user:pw@public.test:{s}/", "http://public.test:{s}@127.0.0.1:{v}/",
    "http://public.test%2F@127.0.0.1:{v}/", "http://127.0.0.1\t:{v}/", "http://127.0.0.1 :{v}/",
]  # fmt: skip


@pytest.mark.parametrize("probe", PROBES)
async def test_ssrf_probe_never_connects(
    probe: str,
    server: FakeProvider,
    victim: FakeProvider,
    lookups: list[str],
    connects: list[Any],
) -> None:
    url = probe.format(v=port_of(victim), s=port_of(server))
    with pytest.raises(ToolError):
        await safe_request("GET", url, policy=HttpPolicy())
    assert connects == []
    assert victim.requests == []
    assert server.requests == []


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("http://127.0.0.1:{v}/", ()),
        ("http://[::1]:{v}/", ()),
        ("http://2130706433:{v}/", ()),
        ("http://localtest.test:{v}/", ()),
        ("http://169.254.169.254/latest/meta-data/", ()),
        ("http://metadata.test/", ()),
        ("file:///etc/passwd", ()),
        ("gopher://127.0.0.1:{v}/", ()),
        ("http://user:pw@public.test:{s}/", ()),
        # allow-listed names and addresses are still refused when they are internal
        ("http://127.0.0.1:{v}/", ("public.test", "127.0.0.1")),
        ("http://localtest.test:{v}/", ("public.test", "localtest.test")),
        ("http://b.good.test:{s}/", ("public.test", "a.good.test")),  # not allow-listed
    ],
)
async def test_redirect_to_internal_is_refused(
    target: str,
    allowed: tuple[str, ...],
    server: FakeProvider,
    victim: FakeProvider,
    lookups: list[str],
    connects: list[Any],
) -> None:
    location = target.format(v=port_of(victim), s=port_of(server))
    server.reply(302, {}, headers={"location": location})
    policy = HttpPolicy(allowed_hosts=allowed)
    with pytest.raises(ToolError, match="blocked"):
        await safe_request("GET", f"http://public.test:{port_of(server)}/start", policy=policy)
    assert len(server.requests) == 1  # the first hop really happened: the redirect was checked
    assert victim.requests == []
    assert {address[1] for address in connects} == {port_of(server)}


async def test_hatch_is_only_the_test_servers_port(
    server: FakeProvider, victim: FakeProvider, connects: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{port_of(server)}/"
    # settings cannot reach the hatch, whatever they say
    policy = HttpPolicy.from_settings({"_TEST_LOOPBACK_PORTS": [port_of(server)], "allow": "*"})
    monkeypatch.setattr(net, "_TEST_LOOPBACK_PORTS", frozenset())
    with pytest.raises(ToolError, match="loopback"):
        await safe_request("GET", url, policy=policy)
    assert connects == []
    assert server.requests == []
    monkeypatch.setattr(net, "_TEST_LOOPBACK_PORTS", frozenset({port_of(server)}))
    server.reply(200, {"ok": True})
    assert (await safe_request("GET", url, policy=policy)).json() == {"ok": True}


def test_hatch_is_off_by_default() -> None:
    assert not net._TEST_LOOPBACK_PORTS  # empty: no fixture patched it in this test


# --- allow-list -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("a.good.test", True),
        ("b.good.test", True),
        ("public.test", True),
        ("PUBLIC.TEST", True),
        ("good.test", False),
        ("evilgood.test", False),
        ("good.test.evil.test", False),
        ("public.test.evil.test", False),
        ("localtest.test", False),
    ],
)
async def test_allow_list(
    host: str, allowed: bool, server: FakeProvider, lookups: list[str], connects: list[Any]
) -> None:
    policy = HttpPolicy.from_settings({"allowed_hosts": ["Public.Test.", "*.good.test"]})
    url = f"http://{host}:{port_of(server)}/"
    if allowed:
        server.reply(200, {"host": host})
        assert (await safe_request("GET", url, policy=policy)).status == 200
        assert server.last.headers["host"] == f"{host.lower()}:{port_of(server)}"
    else:
        with pytest.raises(ToolError, match="not in the allowed hosts"):
            await safe_request("GET", url, policy=policy)
        assert connects == []
        assert lookups == []


def test_allow_list_entries_are_normalized() -> None:
    policy = HttpPolicy.from_settings({"allowed_hosts": ["*.Bücher.example", "[::1]", "x.test."]})
    assert policy.allowed_hosts == ("*.xn--bcher-kva.example", "::1", "x.test")
    assert net._host_allowed("shop.xn--bcher-kva.example", policy.allowed_hosts)
    assert net._host_allowed("::1", policy.allowed_hosts)
    assert not net._host_allowed("xn--bcher-kva.example", policy.allowed_hosts)


async def test_idna_host_is_resolved_in_ascii(
    server: FakeProvider, lookups: list[str], connects: list[Any]
) -> None:
    DNS["xn--bcher-kva.test"] = ["127.0.0.1"]
    try:
        server.reply(200, {})
        url = f"http://Bücher.test:{port_of(server)}/"
        await safe_request("GET", url, policy=HttpPolicy(allowed_hosts=("bücher.test",)))
    finally:
        del DNS["xn--bcher-kva.test"]
    assert lookups == ["xn--bcher-kva.test"]
    assert server.last.headers["host"] == f"xn--bcher-kva.test:{port_of(server)}"


async def test_https_only_when_http_disabled(server: FakeProvider, connects: list[Any]) -> None:
    with pytest.raises(ToolError, match="https"):
        await safe_request(
            "GET", f"http://127.0.0.1:{port_of(server)}/", policy=HttpPolicy(allow_http=False)
        )
    assert connects == []


# --- positive controls ----------------------------------------------------------------------


async def test_get_through_a_name_resolves_once_and_sends_host(
    server: FakeProvider, lookups: list[str], connects: list[Any]
) -> None:
    server.reply(200, {"hello": "world"}, headers={"x-extra": "1"})
    response = await safe_request(
        "GET",
        f"http://public.test:{port_of(server)}/data?a=1",
        policy=HttpPolicy(),
        params={"b": "two words"},
        headers={"Host": "evil.test", "Content-Length": "999", "X-Ok": "yes"},
    )
    assert response.status == 200
    assert response.json() == {"hello": "world"}
    assert response.headers["x-extra"] == "1"
    assert response.url == f"http://public.test:{port_of(server)}/data?a=1&b=two+words"
    assert server.last.path == "/data?a=1&b=two+words"
    assert server.last.headers["host"] == f"public.test:{port_of(server)}"
    assert server.last.headers["x-ok"] == "yes"
    assert lookups.count("public.test") == 1  # resolved once: nothing resolved it again
    assert connects == [("127.0.0.1", port_of(server))]  # the checked address itself


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "1\r\nHost: internal"}, {"X-A": "1\nX-B: 2"}, {"X-A": "é"}, {"X A": "1"}],
)
async def test_header_injection_is_refused(
    headers: dict[str, str], server: FakeProvider, connects: list[Any]
) -> None:
    url = f"http://127.0.0.1:{port_of(server)}/"
    with pytest.raises(ToolError, match=r"header|Illegal"):
        await safe_request("GET", url, policy=HttpPolicy(), headers=headers)
    assert server.requests == []


async def test_post_json_and_text(server: FakeProvider) -> None:
    url = f"http://127.0.0.1:{port_of(server)}/items"
    server.reply(201, {"id": 1}).reply(200, {})
    response = await safe_request("POST", url, policy=HttpPolicy(), json={"name": "x"})
    assert (response.status, server.last.method) == (201, "POST")
    assert server.last.json == {"name": "x"}
    assert server.last.headers["content-type"] == "application/json"
    await safe_request("put", url, policy=HttpPolicy(), data="plain")
    assert (server.last.method, server.last.body) == ("PUT", b"plain")


async def test_redirects_followed_and_credentials_not_carried_across_hosts(
    server: FakeProvider, lookups: list[str]
) -> None:
    port = port_of(server)
    server.reply(302, {}, headers={"location": "/same"})
    server.reply(303, {}, headers={"location": f"http://a.good.test:{port}/other"})
    server.reply(200, {"done": True})
    response = await safe_request(
        "POST",
        f"http://public.test:{port}/start",
        policy=HttpPolicy(allowed_hosts=("public.test", "*.good.test")),
        headers={"Authorization": "Bearer secret", "X-Api-Key": "k", "Accept": "text/plain"},
        json={"a": 1},
    )
    assert response.json() == {"done": True}
    assert response.url == f"http://a.good.test:{port}/other"
    _first, second, third = server.requests
    assert (second.method, second.path, second.headers["authorization"]) == (
        "GET",  # 302 after POST becomes GET, as browsers do
        "/same",
        "Bearer secret",  # same origin: kept
    )
    assert third.headers["host"] == f"a.good.test:{port}"
    assert "authorization" not in third.headers
    assert "x-api-key" not in third.headers
    assert third.headers["accept"] == "text/plain"


async def test_too_many_redirects(server: FakeProvider) -> None:
    url = f"http://127.0.0.1:{port_of(server)}/loop"
    for _ in range(3):
        server.reply(302, {}, headers={"location": url})
    with pytest.raises(ToolError, match="too many redirects"):
        await safe_request("GET", url, policy=HttpPolicy(max_redirects=2))
    assert len(server.requests) == 3


async def test_size_limit_declared(server: FakeProvider) -> None:
    url = f"http://127.0.0.1:{port_of(server)}/big"
    server.reply(body=b"x" * 1000).reply(body=b"x" * 1001)
    assert len((await safe_request("GET", url, policy=HttpPolicy(max_bytes=1000))).content) == 1000
    with pytest.raises(ToolError, match="larger than 1000 bytes"):
        await safe_request("GET", url, policy=HttpPolicy(max_bytes=1000))


@pytest.fixture
async def raw_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[int, list[str]]]:
    """A chunked response of 5 x 500 bytes with no Content-Length, or silence on /hang."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode()
        seen.append(line)
        try:
            if " /hang " in line:
                await reader.read()  # never answers; returns when the client gives up
            else:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                for _ in range(5):
                    writer.write(b"1f4\r\n" + b"y" * 500 + b"\r\n")
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            pass  # the client stopped reading at its size limit
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    monkeypatch.setattr(net, "_TEST_LOOPBACK_PORTS", frozenset({port}))
    yield port, seen
    srv.close()


async def test_size_limit_streamed(raw_server: tuple[int, list[str]]) -> None:
    url = f"http://127.0.0.1:{raw_server[0]}/stream"
    assert len((await safe_request("GET", url, policy=HttpPolicy(max_bytes=2500))).content) == 2500
    with pytest.raises(ToolError, match="larger than 1200 bytes"):
        await safe_request("GET", url, policy=HttpPolicy(max_bytes=1200))


async def test_total_timeout(raw_server: tuple[int, list[str]]) -> None:
    url = f"http://127.0.0.1:{raw_server[0]}/hang"
    started = asyncio.get_running_loop().time()
    with pytest.raises(ToolTimeout, match=r"0\.05s"):
        await safe_request("GET", url, policy=HttpPolicy(timeout=0.05))
    assert asyncio.get_running_loop().time() - started < 1
    assert raw_server[1] == ["GET /hang HTTP/1.1\r\n"]


def test_policy_from_settings() -> None:
    policy = HttpPolicy.from_settings(
        {"allowed_hosts": "API.example.com", "max_bytes": 10, "timeout": 2, "allow_http": False}
    )
    assert policy == HttpPolicy(("api.example.com",), 10, 2.0, 5, False)
    assert HttpPolicy.from_settings({}) == HttpPolicy()
    for bad in ({"max_bytes": "big"}, {"timeout": -1}, {"allowed_hosts": [1]}, {"allow_http": 1}):
        with pytest.raises(ConfigurationError):
            HttpPolicy.from_settings(bad)


# --- the http_request tool ------------------------------------------------------------------


def test_tool_schema_gives_the_model_no_permissions() -> None:
    assert [http_request] == TOOLS
    assert set(http_request.parameters["properties"]) == {"method", "url", "headers", "body"}
    assert http_request.parameters["required"] == ["method", "url"]
    assert "credentials" in http_request.description.lower()


async def test_tool_get(server: FakeProvider) -> None:
    server.reply(200, {"n": 1}, headers={"etag": "abc", "set-cookie": "s=1"})
    result = await http_request.call(
        {"method": "GET", "url": f"http://127.0.0.1:{port_of(server)}/x"}, ctx()
    )
    assert result["status"] == 200
    assert result["body"] == '{"n": 1}'
    assert result["headers"]["etag"] == "abc"
    assert "set-cookie" not in result["headers"]
    assert "truncated" not in result
    assert "note" not in result


async def test_tool_header_policy(server: FakeProvider) -> None:
    settings = {"headers": {"Authorization": "Bearer from-config", "X-Api-Key": "cfg"}}
    model_headers = {
        "authorization": "Bearer from-model",
        "x-api-key": "model",
        "Cookie": "session=stolen",
        "Proxy-Authorization": "Basic eA==",
        "X-Trace": "t1",
    }
    server.reply(200, {})
    result = await http_request.call(
        {
            "method": "POST",
            "url": f"http://127.0.0.1:{port_of(server)}/x",
            "headers": model_headers,
            "body": '{"q": 1}',
        },
        ctx(**settings),
    )
    sent = server.last.headers
    assert sent["authorization"] == "Bearer from-config"
    assert sent["x-api-key"] == "cfg"
    assert "cookie" not in sent
    assert "proxy-authorization" not in sent
    assert sent["x-trace"] == "t1"
    assert sent["content-type"] == "application/json"
    assert "Cookie" in result["note"]
    assert "authorization" in result["note"]


async def test_tool_model_auth_headers_when_allowed(server: FakeProvider) -> None:
    server.reply(200, {}).reply(200, {})
    args = {
        "method": "GET",
        "url": f"http://127.0.0.1:{port_of(server)}/x",
        "headers": {"Authorization": "Bearer m"},
    }
    await http_request.call(args, ctx())
    assert "authorization" not in server.last.headers
    await http_request.call(args, ctx(allow_model_auth_headers=True))
    assert server.last.headers["authorization"] == "Bearer m"


async def test_tool_truncates_and_limits(server: FakeProvider) -> None:
    server.reply(200, body=b"a" * 100, headers={"content-type": "text/plain"})
    server.reply(200, body=b"\xff\x00" * 10, headers={"content-type": "image/png"})
    server.reply(200, body=b"b" * 100)
    url = f"http://127.0.0.1:{port_of(server)}/x"
    result = await http_request.call({"method": "GET", "url": url}, ctx(max_chars=10))
    assert result["truncated"] is True
    assert result["body"].startswith("a" * 10 + "…")
    result = await http_request.call({"method": "GET", "url": url}, ctx())
    assert result["body"] == "[20 bytes of image/png: binary, not shown]"
    with pytest.raises(ToolError, match="larger than 50 bytes"):
        await http_request.call({"method": "GET", "url": url}, ctx(max_bytes=50))


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://127.1:{v}/",
        "http://[::ffff:127.0.0.1]:{v}/",
        "http://localtest.test:{v}/",
        "file:///etc/passwd",
    ],
)
async def test_tool_ssrf_probes(
    url: str, victim: FakeProvider, lookups: list[str], connects: list[Any]
) -> None:
    with pytest.raises(ToolError, match="blocked"):
        await http_request.call({"method": "GET", "url": url.format(v=port_of(victim))}, ctx())
    assert connects == []
    assert victim.requests == []


async def test_tool_allowed_hosts_from_settings(
    server: FakeProvider, lookups: list[str], connects: list[Any]
) -> None:
    url = f"http://public.test:{port_of(server)}/"
    with pytest.raises(ToolError, match="not in the allowed hosts"):
        await http_request.call({"method": "GET", "url": url}, ctx(allowed_hosts=["api.example"]))
    assert connects == []
    server.reply(200, {})
    result = await http_request.call({"method": "GET", "url": url}, ctx(allowed_hosts=["*.test"]))
    assert result["status"] == 200


async def test_tool_bad_settings() -> None:
    args = {"method": "GET", "url": "http://public.test/"}
    for settings in ({"headers": ["x"]}, {"max_chars": 0}, {"allow_model_auth_headers": "yes"}):
        with pytest.raises(ConfigurationError):
            await http_request.call(args, ctx(**settings))


async def test_tool_through_an_agent(
    server: FakeProvider, lookups: list[str], tmp_path: Path
) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    good = {"method": "GET", "url": f"http://public.test:{port_of(server)}/weather"}
    bad = {"method": "GET", "url": "http://169.254.169.254/latest/meta-data/"}
    model = TestModel(
        script=[[ToolCall("http_request", good, "c1"), ToolCall("http_request", bad, "c2")], "done"]
    )
    worker = agent(role="Fetcher", model=model, tools=[http_request])(lambda task: None)
    runner = LocalRunner(
        tool_settings={"http_request": {"headers": {"X-Api-Key": "cfg-key"}}},
        sandbox_root=tmp_path,
    )
    server.reply(200, {"forecast": "sunny"})
    result = await runner.run(AgentWorkflow([worker], name="w"), "go")
    assert result.status == "succeeded", result.errors
    first, second = result.steps[0].tool_calls
    assert (first["name"], first["arguments"], first["is_error"]) == ("http_request", good, False)
    assert "sunny" in first["result"]
    assert second["is_error"]
    assert "blocked" in second["result"]
    assert server.last.headers["x-api-key"] == "cfg-key"
    assert len(server.requests) == 1


# --- TLS: connect to the checked IP, verify the certificate for the original name -----------


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for public.test signed by it (CA file, cert, key)."""
    import datetime

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.DNSName(subject)]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("test CA", "test CA", ca_key, ca_key, ca=True)
    leaf = build("public.test", "test CA", leaf_key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key"
    paths[0].write_bytes(ca_cert.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
async def tls_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[int, list[str | None]]]:
    import ssl

    import certifi

    ca, cert, key = _certificates(tmp_path)
    monkeypatch.setattr(certifi, "where", lambda: str(ca))  # trust the throwaway CA only
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server_names: list[str | None] = []

    def record_name(sock: Any, name: str | None, ctx: Any) -> None:
        server_names.append(name)

    context.sni_callback = record_name

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecure")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = srv.sockets[0].getsockname()[1]
    monkeypatch.setattr(net, "_TEST_LOOPBACK_PORTS", frozenset({port}))
    yield port, server_names
    srv.close()


async def test_https_to_the_checked_address_verifies_the_names_certificate(
    tls_server: tuple[int, list[str | None]], lookups: list[str], connects: list[Any]
) -> None:
    port, server_names = tls_server
    response = await safe_request("GET", f"https://public.test:{port}/", policy=HttpPolicy())
    assert (response.status, response.text) == (200, "secure")
    assert server_names == ["public.test"]  # SNI carries the name, not the IP we connected to
    assert connects == [("127.0.0.1", port)]
    assert lookups.count("public.test") == 1


async def test_https_certificate_for_another_name_is_refused(
    tls_server: tuple[int, list[str | None]], lookups: list[str]
) -> None:
    port, server_names = tls_server
    with pytest.raises(ToolError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        await safe_request("GET", f"https://a.good.test:{port}/", policy=HttpPolicy())
    assert server_names == ["a.good.test"]
