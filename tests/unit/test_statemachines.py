"""The committed ``statemachines/`` match what the compiler makes of every example today."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from agentweaver.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
STATEMACHINES = ROOT / "statemachines"
REGENERATE = "run `make statemachines` to regenerate it"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("statemachines_build", STATEMACHINES / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _build_module()
EXAMPLE_FILES: list[Path] = build.example_files()


def test_every_yaml_example_is_considered() -> None:
    yaml_examples = {p.name for p in (ROOT / "examples").glob("*.y*ml")}
    assert yaml_examples
    assert yaml_examples <= {p.name for p in EXAMPLE_FILES}


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_committed_state_machine_is_current(example: Path) -> None:
    workflow = build.load_example(example)
    asl_file = STATEMACHINES / f"{example.stem}.asl.json"
    mmd_file = STATEMACHINES / f"{example.stem}.mmd"
    if workflow is None:  # a Python example that defines no workflow has no state machine
        assert example.suffix == ".py"
        assert not asl_file.exists(), f"{asl_file.name}: {example.name} defines no workflow"
        return
    for path, fmt in ((asl_file, "json"), (mmd_file, "mermaid")):
        assert path.exists(), f"statemachines/{path.name} is missing: {REGENERATE}"
        result = CliRunner().invoke(app, ["compile", str(example), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == path.read_bytes(), (
            f"statemachines/{path.name} is stale (the compiler's output for "
            f"examples/{example.name} changed): {REGENERATE}"
        )


def test_build_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    code = build.main(["--check"])
    err = capsys.readouterr().err
    assert code == 0, f"{err}\n{REGENERATE}"


def test_build_writes_checks_and_cleans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples, out = tmp_path / "examples", tmp_path / "statemachines"
    examples.mkdir()
    out.mkdir()
    (examples / "solo.yaml").write_text(
        "name: solo\nagents:\n  a: {role: A, model: test}\nflow: a\n", encoding="utf-8"
    )
    (examples / "helper.py").write_text("VALUE = 1\n", encoding="utf-8")  # no workflow
    assert build.main(["--check"], examples, out) == 1
    assert "missing: statemachines/solo.asl.json" in capsys.readouterr().err
    assert not list(out.iterdir())  # --check writes nothing

    assert build.main([], examples, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["solo.asl.json", "solo.mmd"]
    assert build.main(["--check"], examples, out) == 0

    (out / "solo.mmd").write_text("flowchart TD\n", encoding="utf-8")
    (out / "gone.asl.json").write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    assert build.main(["--check"], examples, out) == 1
    err = capsys.readouterr().err
    assert "stale: statemachines/solo.mmd" in err
    assert "orphan: statemachines/gone.asl.json" in err
    assert "make statemachines" in err

    assert build.main([], examples, out) == 0
    assert not (out / "gone.asl.json").exists()
    assert build.main(["--check"], examples, out) == 0
