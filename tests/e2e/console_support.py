"""Helpers of the console's browser tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not installed (make test installs it: apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[dev]'")
    return path


def build_console() -> Path:
    if (DIST / "index.html").is_file():
        return DIST
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("the console is not built and npm is missing (make frontend builds it)")
    for args in (["ci", "--no-audit", "--no-fund"], ["run", "build"]):
        done = subprocess.run([npm, *args], cwd=FRONTEND, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(
                f"npm {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    return DIST


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    token: str
    home: Path
    process: subprocess.Popen[bytes]


@dataclass
class Problems:
    """Console errors and uncaught page errors seen in the browser (a test fails on any)."""

    items: list[str] = field(default_factory=list)

    def console(self, message: Any) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        # the builder's live validation answers 422 for a definition that does not validate
        # yet: the browser logs that response, and it is the expected answer
        if "status of 422" in message.text and where.endswith("/workflows/validate"):
            return
        self.items.append(f"console error: {message.text} ({where})")
