"""The CLI through its real entry point: exit codes, one-line errors, tables, the store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentweaver.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AGENTWEAVER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def run_json(cli: CliRunner, *args: str) -> dict:
    result = cli.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_run_prints_summary_table(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["run", str(EXAMPLES / "research_team.yaml"), "-i", "agents", "-m", "test"]
    )
    assert result.exit_code == 0, result.output
    for column in ("step", "agent", "status", "tokens", "cost", "time"):
        assert column in result.stdout
    for step in ("researcher", "writer", "reviewer"):
        assert step in result.stdout
    assert "SUCCEEDED" in result.stdout
    assert "3 steps" in result.stdout


@pytest.mark.usefixtures("without_sdks")
def test_offline_fallback_says_so_in_one_line(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["run", str(EXAMPLES / "research_team.yaml"), "-i", "x", "--offline-fallback"]
    )
    assert result.exit_code == 0, result.output
    offline = [line for line in result.stderr.splitlines() if line.startswith("offline:")]
    assert len(offline) == 1
    assert "agentweaver[anthropic]" in offline[0]  # markup must not eat the extra's brackets


@pytest.mark.usefixtures("without_sdks")
def test_unconfigured_provider_fails_with_reason(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run", str(EXAMPLES / "research_team.yaml"), "-i", "x"])
    assert result.exit_code == 1
    assert "ModelNotConfigured" in result.stderr
    assert "pip install 'agentweaver[anthropic]'" in result.stderr


def test_run_json_and_input_from_file(cli: CliRunner, tmp_path: Path) -> None:
    ticket = tmp_path / "ticket.txt"
    ticket.write_text("I was charged twice on my invoice, please refund")
    data = run_json(cli, str(EXAMPLES / "support_triage.yaml"), "-i", f"@{ticket}", "-m", "test")
    assert data["status"] == "succeeded"
    ids = [s["step_id"] for s in data["steps"]]
    assert ids == ["route_router", "billing"]
    assert data["steps"][0]["output"] == "billing"


def test_json_input_is_parsed(cli: CliRunner, tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text(
        "name: each\nagents:\n  s: {role: Summariser, model: test}\n"
        "flow: {foreach: $.items, do: s}\n"
    )
    data = run_json(cli, str(wf), "-i", '{"items": ["a", "b", "c"]}')
    assert [s["step_id"] for s in data["steps"]] == ["s[0]", "s[1]", "s[2]"]


def test_bad_json_input(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run", str(EXAMPLES / "research_team.yaml"), "-i", "{oops"])
    assert result.exit_code == 1
    assert "not valid" in result.stderr


def test_missing_input_file(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run", str(EXAMPLES / "research_team.yaml"), "-i", "@/nope.txt"])
    assert result.exit_code == 1
    assert "No such file" in result.stderr


def test_failed_workflow_exits_non_zero_with_reason(cli: CliRunner, tmp_path: Path) -> None:
    wf = tmp_path / "fail.yaml"
    wf.write_text(
        "name: fail\nagents:\n  a: {role: A, model: test}\nflow: {foreach: $.items, do: a}\n"
    )
    result = cli.invoke(app, ["run", str(wf), "-i", "not a list"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "InvalidData" in lines[0]


def test_validate_ok_and_errors(cli: CliRunner, tmp_path: Path) -> None:
    ok = cli.invoke(app, ["validate", str(EXAMPLES / "support_triage.yaml")])
    assert ok.exit_code == 0
    assert "is valid" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nagents:\n  a: {role: A, model: test}\nflow:\n  sequence: [a, b]\n")
    result = cli.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "unknown agent 'b'" in result.stderr
    assert "line 5" in result.stderr


def test_validate_missing_file(cli: CliRunner) -> None:
    result = cli.invoke(app, ["validate", "/no/such.yaml"])
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_python_workflow_file(cli: CliRunner, tmp_path: Path) -> None:
    py = tmp_path / "team.py"
    py.write_text(
        "from agentweaver import agent, AgentWorkflow, TestModel\n"
        "@agent(role='Poet', model=TestModel(custom_output_text='roses'))\n"
        "def poet(topic):\n    return f'A poem about {topic}'\n"
        "workflow = AgentWorkflow([poet], name='poem')\n"
    )
    data = run_json(cli, str(py), "-i", "spring")
    assert data["output"] == "roses"
    no_var = tmp_path / "empty.py"
    no_var.write_text("x = 1\n")
    result = cli.invoke(app, ["run", str(no_var)])
    assert result.exit_code == 1
    assert "must define a variable named 'workflow'" in result.stderr


def test_executions_list_show_logs(cli: CliRunner) -> None:
    empty = cli.invoke(app, ["executions", "list"])
    assert empty.exit_code == 0
    assert "no executions" in empty.stdout
    data = run_json(cli, str(EXAMPLES / "research_team.yaml"), "-i", "x", "-m", "test")
    execution_id = data["execution_id"]
    listed = cli.invoke(app, ["executions", "list"])
    assert execution_id in listed.stdout
    assert "research-team" in listed.stdout
    shown = cli.invoke(app, ["executions", "show", execution_id])
    assert shown.exit_code == 0
    assert re.search(r"reviewer.*succeeded", shown.stdout)
    logs = cli.invoke(app, ["executions", "logs", execution_id])
    assert logs.exit_code == 0
    assert "execution succeeded" in logs.stdout
    assert "researcher succeeded" in logs.stdout


def test_executions_unknown_id(cli: CliRunner) -> None:
    for command in ("show", "logs"):
        result = cli.invoke(app, ["executions", command, "nope"])
        assert result.exit_code == 1
        assert "no execution 'nope'" in result.stderr


def test_unknown_model_override(cli: CliRunner) -> None:
    result = cli.invoke(app, ["run", str(EXAMPLES / "research_team.yaml"), "-m", "gtp-5"])
    assert result.exit_code == 1
    assert "unknown model alias 'gtp-5'" in result.stderr


def test_version(cli: CliRunner) -> None:
    result = cli.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("agentweaver ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01garbage", "invalid YAML"),
        (b"\xff\xfe\xfa not utf-8", "not UTF-8 text"),
    ],
)
def test_unreadable_workflow_files(
    cli: CliRunner, tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    for command in ("validate", "run"):
        result = cli.invoke(app, [command, str(bad)])
        assert result.exit_code == 1
        assert message in result.stderr
        assert "Traceback" not in result.output


def test_python_workflow_that_fails_to_import(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import nonexistent_module_xyz\n")
    result = cli.invoke(app, ["run", str(broken)])
    assert result.exit_code == 1
    assert "importing it failed: ModuleNotFoundError" in result.stderr
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def oops(:\n")
    result = cli.invoke(app, ["validate", str(syntax)])
    assert result.exit_code == 1
    assert "importing it failed: SyntaxError" in result.stderr


def test_more_bad_input_gives_one_line(cli: CliRunner, tmp_path: Path) -> None:
    binary = tmp_path / "input.bin"
    binary.write_bytes(b"\xff\xfe\xfa")
    result = cli.invoke(app, ["run", str(EXAMPLES / "research_team.yaml"), "-i", f"@{binary}"])
    assert result.exit_code == 1
    assert "not UTF-8 text" in result.stderr
    number = tmp_path / "number.py"
    number.write_text("workflow = 42\n")
    for command in ("run", "validate"):
        result = cli.invoke(app, [command, str(number)])
        assert result.exit_code == 1
        assert "cannot run a int" in result.stderr
    assert "Traceback" not in result.output


def test_unusable_home_and_corrupt_store(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_file = tmp_path / "home-is-a-file"
    home_file.write_text("x")
    monkeypatch.setenv("AGENTWEAVER_HOME", str(home_file))
    result = cli.invoke(app, ["executions", "list"])
    assert result.exit_code == 1
    assert "cannot open the store" in result.stderr
    home = tmp_path / "home"
    home.mkdir()
    (home / "agentweaver.db").write_bytes(b"not a database" * 100)
    monkeypatch.setenv("AGENTWEAVER_HOME", str(home))
    for args in (
        ["executions", "list"],
        ["run", str(EXAMPLES / "research_team.yaml"), "-m", "test"],
    ):
        result = cli.invoke(app, args)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert result.stderr.startswith("error:")


def test_a_workflow_file_named_like_a_stdlib_module(cli: CliRunner, tmp_path: Path) -> None:
    shadow = tmp_path / "json.py"
    shadow.write_text(
        "from agentweaver import agent, AgentWorkflow, TestModel\n"
        "@agent(role='Poet', model=TestModel(custom_output_text='ok'))\n"
        "def poet(topic):\n    return None\n"
        "workflow = AgentWorkflow([poet], name='poem')\n"
    )
    result = cli.invoke(app, ["run", str(shadow), "-i", "x", "--json"])
    assert result.exit_code == 0, result.output
    assert '"status": "succeeded"' in result.stdout
