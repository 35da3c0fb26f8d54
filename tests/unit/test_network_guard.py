"""The suite's own guard: a test that tries to reach the internet fails."""

from __future__ import annotations

import socket

import pytest


def test_connecting_outside_loopback_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OSError, match="must not reach the network"):
            sock.connect(("93.184.216.34", 443))
        with pytest.raises(OSError, match="must not reach the network"):
            sock.connect_ex(("10.0.0.1", 80))


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
