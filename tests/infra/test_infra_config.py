"""Stage settings, agents-as-code packaging and the CDK app's own checks (no synthesis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from agentweaver_infra.config import ConfigError, StageConfig
from agentweaver_infra.packaging import PackagingError, find_user_modules, stage_function_code
from support.infra import REPO, make_project


def test_prefix_follows_the_stage_and_prod_keeps_data() -> None:
    assert StageConfig(stage="dev").prefix == "agentweaver-dev"
    assert StageConfig(stage="dev").keeps_data is False
    assert StageConfig(stage="prod").keeps_data is True
    assert StageConfig(stage="prod", retain_data=False).keeps_data is False
    assert StageConfig(stage="qa", prefix="acme-qa").prefix == "acme-qa"


@pytest.mark.parametrize("stage", ["Dev", "dev-2", "", "1dev", "a" * 17])
def test_stage_names_that_could_collide_are_refused(stage: str) -> None:
    with pytest.raises(ConfigError, match="stage"):
        StageConfig(stage=stage)


def test_context_values_are_parsed_and_checked() -> None:
    context = {
        "stage": "qa",
        "architecture": "x86_64",
        "retainData": "true",
        "corsOrigins": "https://a.example, https://b.example",
        "throttleRate": "5",
    }
    config = StageConfig.from_context(context.get)
    assert config.architecture == "x86_64"
    assert config.keeps_data
    assert config.cors_origins == ("https://a.example", "https://b.example")
    assert config.throttle_rate == 5
    with pytest.raises(ConfigError, match="architecture"):
        StageConfig.from_context({"architecture": "sparc"}.get)
    with pytest.raises(ConfigError, match="throttleRate"):
        StageConfig.from_context({"throttleRate": "lots"}.get)


def test_modules_are_found_at_the_root_or_under_src(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    modules = find_user_modules(root)
    assert modules.names == ("my_agents", "helpers")
    assert modules.env == "my_agents,helpers"
    (root / "src").mkdir()
    (root / "helpers.py").rename(root / "src" / "helpers.py")
    assert find_user_modules(root).paths[1] == root / "src" / "helpers.py"
    assert find_user_modules(tmp_path / "no-project").env == ""


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ('["missing"]', "not found"),
        ('["my.agents"]', "not a top-level"),
        ('["handler"]', "shadow"),
        ('"my_agents"', "list of names"),
    ],
)
def test_bad_module_configuration_is_explained(tmp_path: Path, modules: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.agentweaver]\nmodules = {modules}\n")
    with pytest.raises(PackagingError, match=message):
        find_user_modules(tmp_path)


def test_staging_rebuilds_the_asset_and_skips_caches(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "my_agents" / "__pycache__").mkdir()
    (root / "my_agents" / "__pycache__" / "x.pyc").write_bytes(b"")
    destination = tmp_path / "asset"
    (destination / "stale.py").parent.mkdir(parents=True)
    (destination / "stale.py").write_text("")
    stage_function_code(REPO / "functions" / "api", find_user_modules(root), destination)
    assert sorted(p.name for p in destination.iterdir()) == [
        "handler.py",
        "helpers.py",
        "my_agents",
    ]
    assert not (destination / "my_agents" / "__pycache__").exists()
    with pytest.raises(PackagingError, match="handler is missing"):
        stage_function_code(tmp_path / "nothing", find_user_modules(root), destination)
    stage_function_code(tmp_path / "nothing", find_user_modules(root), destination, required=False)
    assert "NotImplementedError" in (destination / "handler.py").read_text()


def test_the_app_names_the_make_target_when_builds_are_missing(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        CDK_OUTDIR=str(tmp_path / "out"),
        CDK_CONTEXT_JSON=json.dumps(
            {
                "stage": "dev",
                "layerDir": str(tmp_path / "no-layer"),
                "consoleDir": str(tmp_path / "no-console"),
            }
        ),
    )
    result = subprocess.run(
        [sys.executable, str(REPO / "infra" / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "run `make layer`" in result.stderr
    assert "run `make frontend`" in result.stderr
    bad = dict(env, CDK_CONTEXT_JSON=json.dumps({"stage": "Prod!"}))
    result = subprocess.run(
        [sys.executable, str(REPO / "infra" / "app.py")],
        env=bad,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "context stage" in result.stderr
