"""Browser tests of the web console: Debian's chromium, driven by Python playwright, against a
real ``agentweaver serve`` (a subprocess on a free port, a temporary AGENTWEAVER_HOME and the
offline model). The console build (frontend/dist) is made here when it is missing.

Screenshots go to ``$AGENTWEAVER_SCREENSHOTS`` (``docs/images`` refreshes the committed ones),
else to the test's temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import Problems, Server, build_console, chromium, free_port


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    chromium()
    dist = build_console()
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from agentweaver.cli import main; main()", "serve",
         "--port", str(port), "--model-override", "test", "--console", str(dist)],
        env={**os.environ, "AGENTWEAVER_HOME": str(home)},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"agentweaver serve did not start:\n{(home / 'serve.log').read_text()}"
                    )
                time.sleep(0.2)
        token = (home / "local_token").read_text().strip()
        yield Server(url=url, token=token, home=home, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Per test: the sync API marks its event loop running in this thread while it is open,
    which would break later tests that run a loop of their own."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Problems]]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)  # a busy CI machine is slower than a laptop
    problems = Problems()
    page.on("console", problems.console)
    page.on("pageerror", lambda exc: problems.items.append(f"page error: {exc}"))
    yield page, problems
    context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("AGENTWEAVER_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target
