"""``agentweaver deploy`` / ``agentweaver destroy``: the CDK app in ``infra/``, run by the
AWS CDK CLI through ``npx`` (``npx --yes aws-cdk@2 ...``).

Why npx and not a pip-installed CDK CLI: the CDK CLI is a Node package; ``npx`` runs the
pinned major version without a global install, and Node is already required by the CDK's
Python bindings (jsii). The command locates two directories:

* the **project root**: the nearest directory at or above the current one with a
  ``pyproject.toml`` (its ``[tool.agentweaver] modules`` are packaged with the functions);
* the **infra app**: ``--infra`` / ``AGENTWEAVER_INFRA_DIR``, else an ``infra/app.py`` at or
  above the current directory, else the one beside the installed ``agentweaver`` package
  (a source checkout or editable install).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentweaver.exceptions import ConfigurationError

__all__ = ["cdk_command", "deploy", "destroy", "find_infra_app", "find_project_root"]

CDK_PACKAGE = "aws-cdk@2"


class DeployError(ConfigurationError):
    """Something to tell the user in one line before any AWS call is made."""


def find_project_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file():
            return directory
    return start


def find_infra_app(start: Path, explicit: Path | None = None) -> Path:
    """``infra/app.py`` of the AgentWeaver CDK app; see the module docstring for the order."""
    configured = explicit or (
        Path(os.environ["AGENTWEAVER_INFRA_DIR"])
        if os.environ.get("AGENTWEAVER_INFRA_DIR")
        else None
    )
    if configured is not None:
        app = configured / "app.py" if configured.is_dir() else configured
        if not app.is_file():
            raise DeployError(f"{configured}: no CDK app here (expected {app})")
        return app.resolve()
    import agentweaver

    beside_package = Path(agentweaver.__file__).resolve().parents[1]
    for directory in (start, *start.parents, beside_package):
        app = directory / "infra" / "app.py"
        if app.is_file() and (directory / "infra" / "agentweaver_infra").is_dir():
            return app.resolve()
    raise DeployError(
        "cannot find the AgentWeaver CDK app (infra/app.py): run this inside a checkout of "
        "AgentWeaver, or pass --infra DIR (or set AGENTWEAVER_INFRA_DIR)"
    )


def cdk_command(
    npx: str,
    action: str,
    app: Path,
    *,
    stage: str,
    project: Path,
    profile: str | None,
    context: list[str],
    extra: list[str],
) -> list[str]:
    """The CDK CLI's argv. ``--app`` is a shell command line, so both paths are quoted."""
    command = [
        npx,
        "--yes",
        CDK_PACKAGE,
        action,
        "--app",
        f"{shlex.quote(sys.executable)} {shlex.quote(str(app))}",
        "--output",
        str(app.parents[1] / "build" / "cdk.out" / stage),
        "-c",
        f"stage={stage}",
        "-c",
        f"projectRoot={project}",
    ]
    for item in context:
        if "=" not in item:
            raise DeployError(f"--context {item!r}: expected key=value")
        command += ["-c", item]
    if profile:
        command += ["--profile", profile]
    return command + extra


def _run(
    action: str,
    stage: str,
    profile: str | None,
    context: list[str],
    infra: Path | None,
    project: Path | None,
    extra: list[str],
) -> None:
    from agentweaver.cli.app import err, fail

    npx = shutil.which("npx")
    try:
        if npx is None:
            raise DeployError(
                "npx not found on PATH: install Node.js 20 or newer (it brings npx); the AWS "
                "CDK CLI runs through it"
            )
        cwd = Path.cwd()
        app = find_infra_app(cwd, infra)
        root = (project or find_project_root(cwd)).resolve()
        command = cdk_command(
            npx,
            action,
            app,
            stage=stage,
            project=root,
            profile=profile,
            context=context,
            extra=extra,
        )
    except DeployError as exc:
        raise fail(str(exc)) from None
    err.print(f"{action} stage {stage!r} (project {root}) with the AWS CDK CLI:", highlight=False)
    err.print("  " + shlex.join(command), highlight=False, soft_wrap=True)
    try:
        code = subprocess.run(command, cwd=app.parent, check=False).returncode
    except OSError as exc:
        raise fail(f"could not run {npx}: {exc}") from None
    if code != 0:
        raise fail(f"cdk {action} failed (exit {code}); see its output above", code)


StageOption = Annotated[str, typer.Option(help="stage name: resources are agentweaver-<stage>-*")]
ProfileOption = Annotated[str | None, typer.Option(help="AWS profile (~/.aws/config)")]
ContextOption = Annotated[
    list[str] | None,
    typer.Option(
        "--context",
        "-c",
        help="extra CDK context key=value (repeatable), e.g. alarmEmail=ops@example.com",
    ),
]
InfraOption = Annotated[Path | None, typer.Option(help="the AgentWeaver infra/ directory")]
ProjectOption = Annotated[
    Path | None, typer.Option(help="project root whose pyproject.toml lists agent modules")
]


def deploy(
    stage: StageOption = "dev",
    profile: ProfileOption = None,
    context: ContextOption = None,
    infra: InfraOption = None,
    project: ProjectOption = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="do not ask to approve IAM and security-group changes"),
    ] = False,
) -> None:
    """Deploy AgentWeaver to your AWS account with the CDK (build first: make layer frontend)."""
    extra = ["--require-approval", "never"] if yes else []
    _run("deploy", stage, profile, context or [], infra, project, extra)


def destroy(
    stage: StageOption = "dev",
    profile: ProfileOption = None,
    context: ContextOption = None,
    infra: InfraOption = None,
    project: ProjectOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Delete a stage's stack (a prod stage keeps its tables, key and artifacts bucket)."""
    _run("destroy", stage, profile, context or [], infra, project, ["--force"] if yes else [])
