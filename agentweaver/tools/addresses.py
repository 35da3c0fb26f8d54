"""Which IP addresses a tool may connect to: public internet ones, and nothing else.

Kept apart from the HTTP client so every network tool (HTTP, MCP over HTTP, database hosts...)
asks the same question. Python's ``is_global`` differs between versions, so the ranges that
matter are listed here explicitly, and IPv6 forms that embed an IPv4 address (IPv4-mapped,
NAT64, 6to4) are judged by the address they embed.
"""

from __future__ import annotations

import ipaddress

from agentweaver.exceptions import ToolError

__all__ = ["IPAddress", "blocked_reason", "check_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# Checked in order, so the first match names the reason the model is shown.
_BLOCKED: tuple[tuple[_V4 | _V6, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified ('this network')"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("169.254.0.0/16"), "link-local (cloud metadata)"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT"),
    (_V4("192.0.0.0/24"), "IETF protocol"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "6to4 relay"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "IPv4-compatible"),
    (_V6("64:ff9b:1::/48"), "local NAT64"),
    (_V6("100::/64"), "discard-only"),
    (_V6("2001::/32"), "Teredo"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("fc00::/7"), "unique-local"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),
    (_V6("ff00::/8"), "multicast"),
)
_NAT64 = _V6("64:ff9b::/96")


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"{inner}, IPv4 {embedded} embedded in IPv6" if inner else None
    for network, reason in _BLOCKED:
        if ip.version == network.version and ip in network:
            return reason
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return "non-public"
    return None


def check_address(ip: IPAddress) -> None:
    """Raise ``ToolError`` unless ``ip`` is a public internet address."""
    reason = blocked_reason(ip)
    if reason is not None:
        raise ToolError(f"blocked: {ip} is not a public address ({reason})")
