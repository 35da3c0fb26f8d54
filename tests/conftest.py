"""Suite-wide guards: nothing reaches the network, and provider SDKs can be made "absent"."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: resolving it would already be the network


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _loopback(address):
        raise OSError(f"tests must not reach the network: connect to {address!r} refused")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _loopback(address):
        raise OSError(f"tests must not reach the network: connect to {address!r} refused")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test that makes it."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.delenv("AGENTWEAVER_MODEL_OVERRIDE", raising=False)


VENDOR_SDKS = ("anthropic", "openai", "google", "boto3", "botocore")


@pytest.fixture
def without_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as on a machine where no provider SDK is installed (the dev venv has them)."""
    from agentweaver.models import registry

    real = registry._installed

    def installed(module: str) -> bool:
        return module.split(".")[0] not in VENDOR_SDKS and real(module)

    monkeypatch.setattr(registry, "_installed", installed)
