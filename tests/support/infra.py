"""Synthesising the stack for the infra tests (``tests/infra/conftest.py`` builds one per
stage, once per session: a synth runs the CDK's jsii/node runtime and takes seconds).

The stacks never see a real build: the layer and console are temp directories and the
project is a temp one whose ``pyproject.toml`` lists two agent modules, so the tests also
prove the agents-as-code packaging.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="the infra extra is not installed")
if shutil.which("node") is None:
    pytest.skip("the CDK needs node on PATH", allow_module_level=True)

# jsii prints a banner on every start under an end-of-life node; the tests do not care
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))


@dataclass
class Synth:
    """One stage: its config, stack, template and the template as JSON (and on disk)."""

    config: Any
    stack: Any
    template: Any
    json: dict[str, Any]
    path: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}


def make_project(root: Path) -> Path:
    """A user's project: ``[tool.agentweaver] modules`` naming a package and a module."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "my-project"\n\n[tool.agentweaver]\nmodules = ["my_agents", "helpers"]\n'
    )
    (root / "my_agents").mkdir()
    (root / "my_agents" / "__init__.py").write_text("AGENTS = ['writer']\n")
    (root / "helpers.py").write_text("def helper() -> int:\n    return 1\n")
    return root


def synth(base: Path, stage: str, **overrides: Any) -> Synth:
    import aws_cdk as cdk
    from agentweaver_infra import AgentWeaverStack, StageConfig
    from aws_cdk.assertions import Template

    layer = base / "layer" / "python" / "agentweaver"
    layer.mkdir(parents=True)
    (layer / "__init__.py").write_text("")
    console = base / "console"
    console.mkdir()
    (console / "index.html").write_text("<!doctype html><title>console</title>")
    config = StageConfig(
        stage=stage,
        layer_dir=base / "layer",
        console_dir=console,
        project_root=make_project(base / "project"),
        asset_dir=base / "assets",
        **overrides,
    )
    app = cdk.App(outdir=str(base / "cdk.out"))
    stack = AgentWeaverStack(app, config.prefix, config=config, stack_name=config.prefix)
    template = Template.from_stack(stack)
    as_json = template.to_json()
    path = base / f"{config.prefix}.template.json"
    import json

    path.write_text(json.dumps(as_json, indent=1))
    return Synth(config, stack, template, as_json, path)
