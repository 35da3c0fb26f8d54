"""``agentweaver compile``: ASL or Mermaid to stdout or a file, one-line errors, stable bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agentweaver.cli.app import app
from agentweaver.compiler import DEFAULT_FUNCTION_ARN, compile_workflow, to_mermaid
from agentweaver.workflow.loader import load_workflow
from agentweaver.workflow.runner import _resolve

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
YAML_EXAMPLES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AGENTWEAVER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def one_line_error(result: Result, *needles: str) -> None:
    """The CLI's error contract: exit 1, one ``error:`` line on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr


@pytest.mark.parametrize("path", YAML_EXAMPLES, ids=[p.stem for p in YAML_EXAMPLES])
def test_json_to_stdout_is_the_compiled_workflow(cli: CliRunner, path: Path) -> None:
    result = cli.invoke(app, ["compile", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout) == compile_workflow(load_workflow(path))
    expected = json.dumps(compile_workflow(load_workflow(path)), indent=2, sort_keys=True)
    assert result.stdout == expected + "\n"


def test_python_workflow_file(cli: CliRunner) -> None:
    from agentweaver.cli.app import _load

    path = EXAMPLES / "coordinator_team.py"
    result = cli.invoke(app, ["compile", str(path)])
    assert result.exit_code == 0, result.output
    ir, _ = _resolve(_load(path))
    assert json.loads(result.stdout) == compile_workflow(ir)


def test_output_file_and_function_arn(cli: CliRunner, tmp_path: Path) -> None:
    path = EXAMPLES / "research_team.yaml"
    out = tmp_path / "research.asl.json"
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:step"
    result = cli.invoke(app, ["compile", str(path), "-o", str(out), "--function-arn", arn])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(out) in result.stderr
    expected = compile_workflow(load_workflow(path), function_arn=arn)
    assert out.read_bytes() == (json.dumps(expected, indent=2, sort_keys=True) + "\n").encode()
    assert arn in out.read_text()
    assert DEFAULT_FUNCTION_ARN not in out.read_text()


def test_mermaid_format(cli: CliRunner, tmp_path: Path) -> None:
    path = EXAMPLES / "support_triage.yaml"
    result = cli.invoke(app, ["compile", str(path), "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart TD\n")
    assert result.stdout == to_mermaid(compile_workflow(load_workflow(path)))
    out = tmp_path / "triage.mmd"
    to_file = cli.invoke(app, ["compile", str(path), "-f", "mermaid", "-o", str(out)])
    assert to_file.exit_code == 0, to_file.output
    assert out.read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize("fmt", ["json", "mermaid"])
def test_same_input_same_bytes(cli: CliRunner, tmp_path: Path, fmt: str) -> None:
    path = EXAMPLES / "multi_perspective.yaml"
    first = cli.invoke(app, ["compile", str(path), "-f", fmt])
    second = cli.invoke(app, ["compile", str(path), "-f", fmt])
    assert first.exit_code == second.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert cli.invoke(app, ["compile", str(path), "-f", fmt, "-o", str(out)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes() == first.stdout_bytes


def test_missing_file(cli: CliRunner) -> None:
    one_line_error(cli.invoke(app, ["compile", "/no/such.yaml"]), "no such file")


def test_invalid_workflow_prints_like_validate(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nagents:\n  a: {role: A, model: test}\nflow:\n  sequence: [a, b]\n")
    result = cli.invoke(app, ["compile", str(bad)])
    one_line_error(result, "unknown agent 'b'", "line 5")
    assert result.stderr == cli.invoke(app, ["validate", str(bad)]).stderr
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\x00\x01garbage")
    one_line_error(cli.invoke(app, ["compile", str(garbage)]), "invalid YAML")
    unclosed = tmp_path / "unclosed.yaml"
    unclosed.write_text("name: x\nagents: {a: [\n")
    one_line_error(cli.invoke(app, ["compile", str(unclosed)]), "invalid YAML")


def test_unknown_format(cli: CliRunner) -> None:
    result = cli.invoke(app, ["compile", str(EXAMPLES / "research_team.yaml"), "-f", "xml"])
    one_line_error(result, "--format 'xml'", "json", "mermaid")
    assert result.stdout == ""


def test_python_file_without_workflow_and_not_a_workflow(cli: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    one_line_error(cli.invoke(app, ["compile", str(empty)]), "variable named 'workflow'")
    number = tmp_path / "number.py"
    number.write_text("workflow = 42\n")
    one_line_error(cli.invoke(app, ["compile", str(number)]), "cannot run a int")


def test_compiler_definition_error_is_one_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentweaver.compiler import asl
    from agentweaver.exceptions import DefinitionError

    def broken(*args: object, **kwargs: object) -> dict[str, object]:
        raise DefinitionError("compiled state machine for 'x' fails its checks:\n  one\n  two")

    monkeypatch.setattr(asl, "compile_workflow", broken)
    monkeypatch.setattr("agentweaver.compiler.compile_workflow", broken)
    result = cli.invoke(app, ["compile", str(EXAMPLES / "research_team.yaml")])
    one_line_error(result, "DefinitionError", "fails its checks", "one; two")
    assert result.stdout == ""


def test_unwritable_output(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out.json"
    result = cli.invoke(app, ["compile", str(EXAMPLES / "research_team.yaml"), "-o", str(target)])
    one_line_error(result, str(target))
    assert not target.exists()


def test_empty_function_arn(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["compile", str(EXAMPLES / "research_team.yaml"), "--function-arn", " "]
    )
    one_line_error(result, "--function-arn")
