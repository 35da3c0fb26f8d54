"""The ``agentweaver`` command: run, validate and inspect workflows on this machine."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agentweaver.exceptions import AgentWeaverError, ModelNotConfigured, WorkflowValidationError

app = typer.Typer(
    name="agentweaver",
    help="Define, run and inspect multi-agent LLM workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
executions_app = typer.Typer(help="Inspect recorded executions.", no_args_is_help=True)
app.add_typer(executions_app, name="executions")


def _console(stderr: bool = False) -> Console:
    """Off a terminal (logs, CI, pipes) tables get 120 columns unless COLUMNS says otherwise."""
    console = Console(stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, width=120)
    return console


out = _console()
err = _console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """One line on stderr and a non-zero exit: the CLI's error contract."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _load(file: Path) -> Any:
    """A workflow from YAML/JSON, or from a Python file that defines ``workflow``."""
    if not file.exists():
        raise fail(f"{file}: no such file")
    if file.suffix == ".py":
        sys.path.insert(0, str(file.parent.resolve()))
        # a unique module name: a workflow file called json.py must not shadow the stdlib
        spec = importlib.util.spec_from_file_location(f"agentweaver_user_{file.stem}", file)
        if spec is None or spec.loader is None:
            raise fail(f"{file}: cannot load this Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except AgentWeaverError:
            raise
        except Exception as exc:  # the user's module failed: say where, not a traceback
            raise fail(f"{file}: importing it failed: {type(exc).__name__}: {exc}") from None
        if not hasattr(module, "workflow"):
            raise fail(f"{file}: a Python workflow file must define a variable named 'workflow'")
        return module.workflow
    from agentweaver.workflow.loader import load_workflow

    return load_workflow(file)


def _read_input(value: str | None) -> Any:
    if value is None:
        return None
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise fail(f"--input {value}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise fail(f"--input {value}: not UTF-8 text") from None
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise fail(
                f"--input looks like JSON but is not valid: {exc.msg} at line {exc.lineno}"
            ) from None
    return value


def _offline_model(workflow: Any) -> str | None:
    """``test`` when some agent's provider is not usable here, with the reason, else ``None``."""
    from agentweaver.models.registry import infer_model
    from agentweaver.workflow.runner import _resolve

    ir, bound = _resolve(workflow)
    for name, spec in ir.agents.items():
        if name in bound:
            continue
        try:
            infer_model(spec.model)
        except ModelNotConfigured as exc:
            return str(exc)
    return None


@contextmanager
def _reported() -> Iterator[None]:
    """Library errors become the CLI's one-line error and exit code."""
    try:
        yield
    except AgentWeaverError as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None


def _store() -> Any:
    from agentweaver.stores.sqlite import default_store_path as path
    from agentweaver.stores.sqlite import open_default_store

    try:
        return open_default_store()
    except (OSError, AgentWeaverError) as exc:
        raise fail(f"cannot open the store at {path()}: {exc}") from None


def default_store_path() -> Path:
    from agentweaver.stores.sqlite import default_store_path as path

    return path()


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="workflow file: .yaml, .yml, .json or .py")],
    input: Annotated[
        str | None, typer.Option("--input", "-i", help="input text, JSON, or @file")
    ] = None,
    model_override: Annotated[
        str | None,
        typer.Option("--model-override", "-m", help="run every agent on this model, e.g. 'test'"),
    ] = None,
    offline_fallback: Annotated[
        bool, typer.Option(help="use the offline test model when a provider is not configured")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Run a workflow on this machine and record it."""
    from agentweaver.cli.render import Progress, summary
    from agentweaver.workflow.runner import LocalRunner

    data = _read_input(input)
    try:
        workflow = _load(file)
        if model_override is None and offline_fallback:
            reason = _offline_model(workflow)
            if reason:
                err.print(
                    f"[yellow]offline:[/] {escape(reason)}; running every agent on the test model.",
                    soft_wrap=True,
                )
                model_override = "test"
        store = _store()
        # stream answer text into the live table when someone is watching a terminal
        runner = LocalRunner(
            store,
            model_override=model_override,
            stream=out.is_terminal,
            sandbox_root=default_store_path().parent / "sandbox",
        )
    except WorkflowValidationError as exc:
        raise fail(str(exc)) from None
    except AgentWeaverError as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    progress = Progress(err if json_output else out)
    runner.handlers.append(progress)
    try:
        with progress:
            result = asyncio.run(runner.run(workflow, data))
    except KeyboardInterrupt:
        raise fail("cancelled", 130) from None
    except AgentWeaverError as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    finally:
        store.close()
    if json_output:
        payload = {
            "execution_id": result.execution_id,
            "status": result.status,
            "output": result.output,
            "execution_time": result.execution_time,
            "total_cost": result.total_cost,
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "steps": [s.to_dict() for s in result.steps],
            "errors": [{"type": type(e).__name__, "message": str(e)} for e in result.errors],
        }
        out.print_json(json.dumps(payload, default=str))
    else:
        out.print(summary(result, out.width))
    if not result.succeeded:
        last = result.errors[-1] if result.errors else None
        reason = f"{type(last).__name__}: {last}" if last else result.status
        raise fail(f"workflow {result.status}: {reason}")


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="workflow file to check")]) -> None:
    """Check a workflow file without running it."""
    try:
        workflow = _load(file)
        from agentweaver.workflow.runner import _resolve

        ir, _ = _resolve(workflow)
    except WorkflowValidationError as exc:
        raise fail(str(exc)) from None
    except AgentWeaverError as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None
    steps = len(ir.agent_steps())
    counts = f"{len(ir.agents)} agents, {steps} steps"
    out.print(
        f"[green]✓[/] {escape(str(file))}: workflow {ir.name!r} is valid ({counts})", soft_wrap=True
    )


COMPILE_FORMATS = ("json", "mermaid")


def compiled_text(asl: dict[str, Any], fmt: str) -> str:
    """What ``compile`` prints: byte-identical for the same definition (``statemachines/``)."""
    if fmt == "mermaid":
        from agentweaver.compiler.mermaid import to_mermaid

        return to_mermaid(asl)
    return json.dumps(asl, indent=2, sort_keys=True) + "\n"


@app.command("compile")
def compile_command(
    file: Annotated[Path, typer.Argument(help="workflow file: .yaml, .yml, .json or .py")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here instead of stdout")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json (Amazon States Language) or mermaid")
    ] = "json",
    function_arn: Annotated[
        str | None,
        typer.Option(help="the agent-step Lambda; default: a ${AgentStepFunctionArn} substitution"),
    ] = None,
) -> None:
    """Compile a workflow to an AWS Step Functions definition, or a Mermaid picture of it."""
    if fmt not in COMPILE_FORMATS:
        raise fail(f"--format {fmt!r}: use one of {', '.join(COMPILE_FORMATS)}")
    if function_arn is not None and not function_arn.strip():
        raise fail("--function-arn must not be empty")
    from agentweaver.compiler import DEFAULT_FUNCTION_ARN, compile_workflow
    from agentweaver.workflow.runner import _resolve

    try:
        ir, _ = _resolve(_load(file))
        asl = compile_workflow(ir, function_arn=function_arn or DEFAULT_FUNCTION_ARN)
    except WorkflowValidationError as exc:
        raise fail(str(exc)) from None
    except AgentWeaverError as exc:  # the compiler's checks list one problem a line
        reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise fail(f"{type(exc).__name__}: {reason}") from None
    text = compiled_text(asl, fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        with output.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise fail(f"{output}: {exc.strerror or exc}") from None
    err.print(f"wrote {escape(str(output))} ({fmt})", highlight=False, soft_wrap=True)


@executions_app.command("list")
def executions_list(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    workflow: Annotated[str | None, typer.Option(help="only this workflow")] = None,
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
) -> None:
    """Recent executions, newest first."""
    from agentweaver.cli.render import execution_table

    with _store() as store, _reported():
        records = store.list_executions("local", workflow_id=workflow, status=status, limit=limit)
    if not records:
        out.print("no executions recorded yet: try 'agentweaver run examples/research_team.yaml'")
        return
    out.print(execution_table(records))


@executions_app.command("show")
def executions_show(execution_id: str) -> None:
    """One execution with its steps."""
    from agentweaver.cli.render import execution_table, steps_table

    with _store() as store, _reported():
        record = store.get_execution("local", execution_id)
        if record is None:
            raise fail(f"no execution {execution_id!r}: see 'agentweaver executions list'")
        steps = store.list_steps(execution_id)
    out.print(execution_table([record]))
    out.print(steps_table(steps, width=out.width))
    if record.error:
        reason = f"{record.error.get('type')}: {record.error.get('message')}"
        out.print(f"[red]error:[/] {escape(reason)}")


@executions_app.command("logs")
def executions_logs(execution_id: str) -> None:
    """The log lines of one execution."""
    from agentweaver.cli.render import logs_table

    with _store() as store, _reported():
        if store.get_execution("local", execution_id) is None:
            raise fail(f"no execution {execution_id!r}: see 'agentweaver executions list'")
        logs = store.list_logs(execution_id)
    out.print(logs_table(logs))


def _version(value: bool) -> None:
    if value:
        from agentweaver import __version__

        out.print(f"agentweaver {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    """AgentWeaver: multi-agent LLM workflows, on your laptop or your AWS account."""


def _register() -> None:
    from agentweaver.cli.deploy_cmd import deploy, destroy
    from agentweaver.cli.serve_cmd import serve

    app.command()(serve)
    app.command()(deploy)
    app.command()(destroy)


_register()


def main() -> None:
    app()
