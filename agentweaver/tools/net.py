"""The one HTTP client every network tool uses, built so a model cannot reach internal services.

A model (or a web page it read) may ask a tool for ``http://169.254.169.254/`` (cloud
credentials), ``http://127.1:6379/`` or a name that resolves to ``10.0.0.5``. ``safe_request``
therefore: accepts http/https only (no user info in the URL); resolves the host once and refuses
it if any address it resolves to is not public; connects to that very address (the URL's host is
replaced by the checked IP, the original name travels in the ``Host`` header and as the TLS SNI
and certificate name), so DNS cannot answer differently a second time; follows redirects itself,
checking every hop the same way; and limits the body size and the total time.

Tests need a loopback server: ``_TEST_LOOPBACK_PORTS`` (empty in production, never read from
settings, only ever monkeypatched by tests) lets loopback addresses through on those ports only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json as jsonlib
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentweaver.exceptions import ConfigurationError, ToolError, ToolTimeout
from agentweaver.tools.addresses import IPAddress, blocked_reason, check_address

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpPolicy", "SafeResponse", "check_address", "safe_request"]

# Test-only escape hatch: loopback addresses are allowed on these ports. Production code and
# settings never touch it; tests monkeypatch it to the port of the server they started.
_TEST_LOOPBACK_PORTS: frozenset[int] = frozenset()

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Framing and routing are ours to set: a caller's Host or Content-Length could desynchronise
# the request from the address we checked.
_DROPPED_REQUEST_HEADERS = frozenset(
    [
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
    ]
)
# What survives a redirect to another origin: nothing that could be a credential.
_CROSS_ORIGIN_HEADERS = frozenset(
    ["accept", "accept-encoding", "accept-language", "user-agent", "content-type"]
)
_HOST_CHARS = re.compile(r"[a-z0-9._-]+")
_NUMERIC_V4 = re.compile(r"[0-9a-fx.]+")
_METHOD = re.compile(r"[A-Z]{1,16}")


@dataclass(frozen=True)
class HttpPolicy:
    """Where a tool may go and how much it may take; built from settings, never from the model."""

    allowed_hosts: tuple[str, ...] = ()  # empty = any public host; "*.example.com" = subdomains
    max_bytes: int = 2_000_000
    timeout: float = 15.0
    max_redirects: int = 5
    allow_http: bool = True  # https is always allowed

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HttpPolicy:
        """Read the policy keys of a tool's settings (other keys are the tool's own business)."""
        hosts: Any = settings.get("allowed_hosts", ())
        if isinstance(hosts, str):
            hosts = (hosts,)
        if not isinstance(hosts, list | tuple) or not all(isinstance(h, str) for h in hosts):
            raise ConfigurationError("tool settings: allowed_hosts must be a list of host names")
        max_bytes = _setting(settings, "max_bytes", cls.max_bytes, int)
        timeout = _setting(settings, "timeout", cls.timeout, (int, float))
        max_redirects = _setting(settings, "max_redirects", cls.max_redirects, int)
        allow_http = settings.get("allow_http", True)
        if not isinstance(allow_http, bool):
            raise ConfigurationError("tool settings: allow_http must be true or false")
        try:
            allowed_hosts = tuple(_normal_host(h) for h in hosts)
        except UnicodeError as exc:
            raise ConfigurationError(f"tool settings: invalid allowed host: {exc}") from None
        return cls(
            allowed_hosts=allowed_hosts,
            max_bytes=max_bytes,
            timeout=float(timeout),
            max_redirects=max_redirects,
            allow_http=allow_http,
        )


def _setting(settings: Mapping[str, Any], key: str, default: Any, kind: Any) -> Any:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
        raise ConfigurationError(f"tool settings: {key} must be a non-negative number")
    return value


@dataclass(frozen=True)
class SafeResponse:
    """A fully read response; ``url`` is the final URL (after redirects) with its host name."""

    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    url: str
    content: bytes

    @property
    def text(self) -> str:
        match = re.search(r"charset=[\"']?([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        try:
            return self.content.decode(match.group(1) if match else "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def _normal_host(host: str) -> str:
    """Compare host names as DNS does: case-insensitive, no trailing dot, IDNA-encoded."""
    host = host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    for raw in allowed:
        try:
            entry = _normal_host(raw)
        except UnicodeError:
            continue  # an entry no host name can match
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


@dataclass(frozen=True)
class _Target:
    url: httpx.URL  # as the caller named it (host name kept)
    host: str  # ASCII (IDNA) host, lower case, no trailing dot, no brackets
    port: int
    literal: IPAddress | None  # the host was an IP address, in whatever notation


def _parse(raw: str | httpx.URL, policy: HttpPolicy) -> _Target:
    import httpx

    try:
        url = raw if isinstance(raw, httpx.URL) else httpx.URL(raw)
        host = _normal_host(url.raw_host.decode("ascii"))
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise ToolError(f"blocked: invalid URL {str(raw)[:200]!r} ({exc})") from None
    if url.scheme not in ("http", "https"):
        raise ToolError(f"blocked: only http and https URLs may be fetched, not {url.scheme!r}:")
    if url.scheme == "http" and not policy.allow_http:
        raise ToolError("blocked: plain http is disabled here; use an https URL")
    if url.userinfo:
        raise ToolError("blocked: URLs with a user name or password are not allowed")
    if not host:
        raise ToolError(f"blocked: URL {str(url)[:200]!r} has no host")
    literal: IPAddress | None = None
    if ":" in host:
        if "%" in host:
            raise ToolError("blocked: IPv6 zone identifiers are not allowed")
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise ToolError(f"blocked: invalid IPv6 address {host!r}") from None
    elif _NUMERIC_V4.fullmatch(host):
        try:  # every notation the C library accepts: 2130706433, 0x7f.1, 0177.0.0.1, 127.1
            literal = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            pass  # not an address after all: a (strange) name, resolved below
    if literal is None and not _HOST_CHARS.fullmatch(host):
        raise ToolError(f"blocked: invalid host name {host!r}")
    if policy.allowed_hosts and not _host_allowed(host, policy.allowed_hosts):
        allowed = ", ".join(policy.allowed_hosts)
        raise ToolError(f"blocked: host {host!r} is not in the allowed hosts ({allowed})")
    port = url.port or (443 if url.scheme == "https" else 80)
    return _Target(url, host, port, literal)


def _check(ip: IPAddress, port: int, host: str) -> None:
    if ip.is_loopback and port in _TEST_LOOPBACK_PORTS:
        return  # test-only: see _TEST_LOOPBACK_PORTS
    reason = blocked_reason(ip)
    if reason is not None:
        shown = host if host == str(ip) else f"{host} ({ip})"
        raise ToolError(
            f"blocked: {shown} is not a public address ({reason}); only public internet hosts"
            " may be fetched"
        )


async def _resolve(target: _Target) -> IPAddress:
    """Resolve once and check every answer: one internal address anywhere refuses the host."""
    if target.literal is not None:
        _check(target.literal, target.port, target.host)
        return target.literal
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ToolError(f"cannot resolve host {target.host!r}: {exc}") from None
    wanted = (int(socket.AF_INET), int(socket.AF_INET6))
    addresses: list[IPAddress] = [
        ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 scope id
        for family, *_, sockaddr in infos
        if int(family) in wanted
    ]
    if not addresses:
        raise ToolError(f"cannot resolve host {target.host!r}: no IP addresses")
    for ip in addresses:
        _check(ip, target.port, target.host)
    return addresses[0]


def _host_header(target: _Target) -> str:
    name = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.url.scheme == "https" else 80
    return name if target.port == default else f"{name}:{target.port}"


async def _send(
    method: str,
    target: _Target,
    ip: IPAddress,
    headers: dict[str, str],
    body: bytes | None,
    policy: HttpPolicy,
) -> SafeResponse:
    """One request to the checked address; a redirect's body is not read."""
    import httpx

    pinned = target.url.copy_with(host=str(ip))
    sent = {**headers, "Host": _host_header(target)}
    timeout = httpx.Timeout(policy.timeout)
    # A client per hop: no pooled connection is reused for another host name. No proxies from
    # the environment (trust_env=False): the connection must go to the address we checked.
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=timeout) as c:
        request = c.build_request(
            method,
            pinned,
            headers=sent,
            content=body,
            extensions={"sni_hostname": target.host, "timeout": timeout.as_dict()},
        )
        response = await c.send(request, stream=True)
        try:
            headers_out: dict[str, str] = {}
            for key, value in response.headers.multi_items():
                key = key.lower()
                headers_out[key] = f"{headers_out[key]}, {value}" if key in headers_out else value
            content = b""
            redirect = response.status_code in _REDIRECTS and "location" in headers_out
            if method != "HEAD" and not redirect:
                content = await _read_capped(response, policy.max_bytes)
        finally:
            await response.aclose()
    return SafeResponse(response.status_code, headers_out, str(target.url), content)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ToolError(f"response larger than {limit} bytes (declared {declared})")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise ToolError(f"response larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _same_origin(a: _Target, b: _Target) -> bool:
    if a.host != b.host:
        return False
    if a.url.scheme == b.url.scheme:
        return a.port == b.port
    return a.url.scheme == "http" and a.port == 80 and b.port == 443  # upgrade to https


async def safe_request(
    method: str,
    url: str,
    *,
    policy: HttpPolicy,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: bytes | str | None = None,
) -> SafeResponse:
    """Make a request only a public (or allow-listed) host will see; see the module docstring.

    Raises ``ToolError`` (message starting ``blocked:``) for a refused destination, a too large
    response or a failed connection, and ``ToolTimeout`` past ``policy.timeout`` seconds.
    """
    method = method.upper()
    if not _METHOD.fullmatch(method):
        raise ToolError(f"invalid HTTP method {method!r}")
    if json is not None and data is not None:
        raise ToolError("pass either a JSON body or raw data, not both")
    sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _DROPPED_REQUEST_HEADERS}
    for name, value in sent.items():
        if not (name + value).isascii() or any(c in name + value for c in "\r\n\0"):
            raise ToolError(f"header {name!r}: names and values must be ASCII, one line each")
    lower = {k.lower() for k in sent}
    body: bytes | None = data.encode() if isinstance(data, str) else data
    if json is not None:
        body = jsonlib.dumps(json).encode()
        if "content-type" not in lower:
            sent["Content-Type"] = "application/json"
    if "user-agent" not in lower:
        sent["User-Agent"] = "agentweaver"
    if "accept-encoding" not in lower:  # bodies counted as they arrive, no decompression bombs
        sent["Accept-Encoding"] = "identity"
    try:
        async with asyncio.timeout(policy.timeout):
            return await _follow(method, url, params, sent, body, policy)
    except TimeoutError:
        raise ToolTimeout(f"{method} {url[:200]}: no response within {policy.timeout}s") from None


async def _follow(
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    headers: dict[str, str],
    body: bytes | None,
    policy: HttpPolicy,
) -> SafeResponse:
    import httpx

    target = _parse(url, policy)
    if params:
        target = _parse(target.url.copy_merge_params(dict(params)), policy)
    for _hop in range(policy.max_redirects + 1):
        ip = await _resolve(target)
        try:
            response = await _send(method, target, ip, headers, body, policy)
        except httpx.TimeoutException:
            raise ToolTimeout(f"{method} {target.url}: timed out") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise ToolError(f"{method} {target.url} failed: {type(exc).__name__}: {exc}") from None
        location = response.headers.get("location")
        if response.status not in _REDIRECTS or not location:
            return response
        try:
            following = _parse(target.url.join(location), policy)
        except httpx.InvalidURL as exc:
            raise ToolError(f"blocked: invalid redirect location {location!r} ({exc})") from None
        if (response.status == 303 and method != "HEAD") or (
            response.status in (301, 302) and method == "POST"
        ):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        if not _same_origin(target, following):
            headers = {k: v for k, v in headers.items() if k.lower() in _CROSS_ORIGIN_HEADERS}
        target = following
    raise ToolError(f"too many redirects (more than {policy.max_redirects}), last to {target.url}")
