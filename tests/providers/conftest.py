"""A loopback HTTP server that answers like a model provider, scripted per test.

Provider SDKs are pointed at it with their ``base_url``; every request is recorded (path,
headers, JSON body) so tests assert exactly what an adapter sent, and replies are written in
the provider's real wire format: JSON bodies, error statuses with headers, or SSE streams.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sse: list[Any] | None = None  # each item: a dict (data only) or (event, dict) or raw str
    delay: float = 0.0


class FakeProvider:
    """Serve scripted replies in order; an unscripted request gets a 500 naming the path."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with owner._lock:
                    owner.requests.append(recorded)
                    reply = owner._replies.pop(0) if owner._replies else None
                if reply is None:
                    reply = Reply(500, {"error": f"no scripted reply for {self.path}"})
                if reply.delay:
                    time.sleep(reply.delay)
                self._send(reply)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def _send(self, reply: Reply) -> None:
                if reply.sse is not None:
                    chunks = []
                    for item in reply.sse:
                        if isinstance(item, str):
                            chunks.append(item if item.endswith("\n\n") else item + "\n\n")
                        elif isinstance(item, tuple):
                            event, data = item
                            chunks.append(f"event: {event}\ndata: {json.dumps(data)}\n\n")
                        else:
                            chunks.append(f"data: {json.dumps(item)}\n\n")
                    payload = "".join(chunks).encode()
                    content_type = "text/event-stream"
                elif reply.body is not None:
                    payload, content_type = reply.body, "application/octet-stream"
                else:
                    payload = json.dumps(reply.json).encode()
                    content_type = "application/json"
                self.send_response(reply.status)
                headers = {"content-type": content_type, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, status: int = 200, json: Any = None, **kwargs: Any) -> FakeProvider:
        with self._lock:
            self._replies.append(Reply(status, json, **kwargs))
        return self

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.close()
