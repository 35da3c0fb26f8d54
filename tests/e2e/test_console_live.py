"""The execution page follows a run live: the graph shows the running step, and Cancel stops
it. The agents here are slow (a scripted test model with a delay), so this server runs in a
thread of the test (same app, same embedded services) rather than as ``agentweaver serve``."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from console_support import Problems, build_console, chromium, free_port

expect = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'").expect

SLOW = {
    "name": "slow-team",
    "agents": {name: {"role": name.title()} for name in ("first", "second", "third")},
    "flow": {"sequence": ["first", "second", "third"]},
}


@dataclass
class Live:
    url: str
    token: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[Live]:
    import uvicorn

    from agentweaver.api import create_app
    from agentweaver.api.local import local_services
    from agentweaver.models.test import TestModel

    chromium()
    services, token = local_services(tmp_path / "home", model_override=TestModel(delay=2.5))
    port = free_port()
    config = uvicorn.Config(
        create_app(services, console_dir=build_console()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the slow server did not start")
        time.sleep(0.05)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", token=token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.store.close()


def test_a_running_execution_updates_live_and_cancels(
    slow_server: Live, page: tuple[Any, Problems]
) -> None:
    p, problems = page
    workflow = slow_server.call("POST", "/workflows/", SLOW)
    accepted = slow_server.call(
        "POST", f"/workflows/{workflow['id']}/execute", {"input_data": "go"}
    )
    p.goto(f"{slow_server.url}/runs/{accepted['execution_id']}#token={slow_server.token}")
    expect(p.get_by_test_id("execution-status")).to_have_text("running")
    # a step runs, then succeeds while the next one runs: pushed by the events
    expect(p.locator(".gnode.status-running")).to_have_count(1)
    expect(p.locator("[data-testid='gnode-first'].status-succeeded")).to_be_visible(timeout=15_000)
    expect(p.locator("[data-testid='gnode-second'].status-running")).to_be_visible()
    expect(p.get_by_role("list", name="Step timeline")).to_contain_text("second")
    p.get_by_role("button", name="Cancel", exact=True).click()
    expect(p.get_by_test_id("execution-status")).to_have_text("cancelled", timeout=10_000)
    expect(p.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
    expect(p.locator("[data-testid='gnode-second'].status-cancelled")).to_be_visible()
    expect(p.locator("[data-testid='gnode-third'].status-succeeded")).to_have_count(0)
    assert problems.items == []
