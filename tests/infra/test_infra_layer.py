"""The built Lambda layer (``make layer``; ``make test`` builds it first): under the size
budget, the core importable from it, nothing the Lambda runtime already provides.

The build itself downloads wheels, so it is a make step, never a test: these tests read
``build/layer`` and skip when it has not been built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "build" / "layer"
sys.path.insert(0, str(REPO / "infra"))

import build_layer  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (LAYER / "python" / "agentweaver").is_dir(), reason="the layer is not built: make layer"
)


def test_layer_is_under_budget_and_reports_its_size(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = build_layer.measure(LAYER)
    print(build_layer.report(sizes, build_layer.BUDGET_MB))  # shown with -s / in the log
    assert int(sizes["zipped_bytes"]) < build_layer.BUDGET_MB * build_layer.MB  # type: ignore[call-overload]
    assert int(sizes["unzipped_bytes"]) < 200 * build_layer.MB  # type: ignore[call-overload]


def test_runtime_provided_and_cli_only_packages_are_left_out() -> None:
    names = {p.name.split("-")[0].lower() for p in (LAYER / "python").iterdir()}
    assert not names & {"boto3", "botocore", "s3transfer", "jmespath"}
    assert not names & {"uvicorn", "typer", "rich", "pygments"}
    for needed in (
        "agentweaver",
        "pydantic",
        "pynamodb",
        "aws_lambda_powertools",
        "mangum",
        "fastapi",
        "jwt",
        "anthropic",
        "openai",
    ):
        assert needed in names, needed
    assert (LAYER / "python" / "google" / "genai").is_dir()


def test_layer_targets_the_lambda_platform() -> None:
    built = json.loads((LAYER / "BUILD.json").read_text())
    assert built["python_version"] == "3.12"
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[built["architecture"]]
    extensions = list((LAYER / "python" / "pydantic_core").glob("_pydantic_core.*.so"))
    assert extensions
    assert all(f"cpython-312-{machine}-linux-gnu" in p.name for p in extensions)


def test_agentweaver_imports_from_the_layer_alone() -> None:
    """Only the layer on ``sys.path`` (no site-packages): the pure-Python core imports; the
    compiled dependencies are for Lambda's CPU and Python, so they are not loaded here."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import agentweaver, agentweaver.exceptions;"
        "print(agentweaver.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(LAYER / "python")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(LAYER / "python" / "agentweaver"))
