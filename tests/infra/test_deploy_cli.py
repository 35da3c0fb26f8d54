"""``agentweaver deploy`` / ``destroy`` against a fake ``npx`` on PATH that records its argv
and working directory: the real subprocess path, no AWS and no node package download."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentweaver.cli import app

REPO = Path(__file__).resolve().parents[2]
FAKE_NPX = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["FAKE_NPX_LOG"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
sys.exit(int(os.environ.get("FAKE_NPX_EXIT", "0")))
"""


@pytest.fixture
def npx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts a recording ``npx`` first on PATH; returns its log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npx"
    script.write_text(FAKE_NPX)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "npx.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_NPX_LOG", str(log))
    monkeypatch.delenv("AGENTWEAVER_INFRA_DIR", raising=False)
    return log


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "my-project"
    (root / "src").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.agentweaver]\nmodules = ["my_agents"]\n')
    monkeypatch.chdir(root / "src")  # a subdirectory: the root is found upwards
    return root


def _calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_deploy_runs_the_cdk_cli_with_stage_profile_and_project(npx: Path, project: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["deploy", "--stage", "test", "--profile", "sandbox", "-c", "alarmEmail=a@b.c", "--yes"],
    )
    assert result.exit_code == 0, result.output
    ((call),) = _calls(npx)
    argv = call["argv"]
    assert isinstance(argv, list)
    assert argv[:3] == ["--yes", "aws-cdk@2", "deploy"]
    app_command = shlex.split(argv[argv.index("--app") + 1])
    assert app_command == [sys.executable, str(REPO / "infra" / "app.py")]
    pairs = [argv[i + 1] for i, a in enumerate(argv) if a == "-c"]
    assert pairs == ["stage=test", f"projectRoot={project}", "alarmEmail=a@b.c"]
    assert argv[argv.index("--profile") + 1] == "sandbox"
    assert argv[argv.index("--require-approval") + 1] == "never"
    assert argv[argv.index("--output") + 1] == str(REPO / "build" / "cdk.out" / "test")
    assert call["cwd"] == str(REPO / "infra")


def test_destroy_forces_only_when_asked(npx: Path, project: Path) -> None:
    assert CliRunner().invoke(app, ["destroy", "--stage", "test"]).exit_code == 0
    assert CliRunner().invoke(app, ["destroy", "--stage", "test", "--yes"]).exit_code == 0
    first, second = (call["argv"] for call in _calls(npx))
    assert isinstance(first, list)
    assert isinstance(second, list)
    assert first[2] == "destroy"
    assert "--force" not in first
    assert second[-1] == "--force"
    assert "--profile" not in first


def test_a_failing_cdk_exit_code_is_passed_on(
    npx: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPX_EXIT", "3")
    result = CliRunner().invoke(app, ["deploy"])
    assert result.exit_code == 3
    assert "cdk deploy failed (exit 3)" in result.output


def test_missing_npx_is_a_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = CliRunner().invoke(app, ["deploy"])
    assert result.exit_code == 1
    assert "npx not found" in result.output
    assert "Node.js" in result.output


def test_infra_dir_can_be_given_and_must_hold_an_app(
    npx: Path, project: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["deploy", "--infra", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no CDK app here" in result.output
    assert not npx.exists()
    result = CliRunner().invoke(app, ["deploy", "--infra", str(REPO / "infra")])
    assert result.exit_code == 0, result.output


def test_bad_context_is_refused_before_running(npx: Path, project: Path) -> None:
    result = CliRunner().invoke(app, ["deploy", "-c", "novalue"])
    assert result.exit_code == 1
    assert "expected key=value" in result.output
    assert not npx.exists()
