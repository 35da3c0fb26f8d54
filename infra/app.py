#!/usr/bin/env python3
"""The AgentWeaver CDK app: ``npx aws-cdk@2 deploy --app "python infra/app.py" -c stage=dev``.

Context (``-c key=value``; see ``agentweaver_infra.config.StageConfig``): ``stage``,
``prefix``, ``projectRoot`` (whose ``pyproject.toml`` lists the agent modules to package),
``layerDir``, ``consoleDir``, ``architecture``, ``alarmEmail``, ``exampleStateMachines``...
The layer and the console are build outputs (``make layer``, ``make frontend``); they are
checked here, before synthesis, so a missing build is one clear line, not a CDK stack trace.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_cdk as cdk
from agentweaver_infra import AgentWeaverStack, ConfigError, StageConfig
from agentweaver_infra.packaging import PackagingError


def missing_builds(config: StageConfig) -> list[str]:
    """What has not been built, each with the command that builds it."""
    problems = []
    if not (config.layer_dir / "python").is_dir():
        problems.append(
            f"the Lambda layer is not built ({config.layer_dir}/python is missing): "
            "run `make layer` (or pass -c layerDir=<dir>)"
        )
    if not (config.console_dir / "index.html").is_file():
        problems.append(
            f"the console is not built ({config.console_dir}/index.html is missing): "
            "run `make frontend` (or pass -c consoleDir=<dir>)"
        )
    return problems


def main() -> None:
    app = cdk.App()
    try:
        config = StageConfig.from_context(app.node.try_get_context)
    except ConfigError as exc:
        sys.exit(f"agentweaver infra: {exc}")
    problems = missing_builds(config)
    if problems:
        sys.exit("agentweaver infra: " + "\nagentweaver infra: ".join(problems))
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if account and region else None
    try:
        AgentWeaverStack(app, config.prefix, config=config, stack_name=config.prefix, env=env)
    except PackagingError as exc:
        sys.exit(f"agentweaver infra: {exc}")
    app.synth()


if __name__ == "__main__":
    main()
