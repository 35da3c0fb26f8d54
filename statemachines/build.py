"""Compile every example workflow into ``statemachines/``: the ASL and a Mermaid picture.

    .venv/bin/python statemachines/build.py            # (re)write the files (make statemachines)
    .venv/bin/python statemachines/build.py --check    # list stale or missing ones, write nothing

Each example ``examples/<stem>.yaml`` (or ``.yml``), and each ``examples/<stem>.py`` that
defines ``workflow``, gives ``<stem>.asl.json`` (byte-identical to ``agentweaver compile``)
and ``<stem>.mmd`` (``agentweaver compile --format mermaid``). Generated files whose
example is gone are removed (``--check`` reports them).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from agentweaver.cli.app import compiled_text
from agentweaver.compiler import compile_workflow
from agentweaver.workflow.ir import Workflow
from agentweaver.workflow.loader import load_workflow
from agentweaver.workflow.runner import _resolve

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
OUT = Path(__file__).resolve().parent
GENERATED = ("*.asl.json", "*.mmd")


def example_files(examples: Path = EXAMPLES) -> list[Path]:
    """The example files that may hold a workflow, sorted by name."""
    found = [p for p in examples.iterdir() if p.suffix in (".yaml", ".yml", ".py")]
    return sorted(p for p in found if p.is_file() and not p.name.startswith("_"))


def load_example(path: Path) -> Workflow | None:
    """The IR of one example; ``None`` for a Python file that defines no ``workflow``."""
    if path.suffix != ".py":
        return load_workflow(path)
    folder = str(path.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as the CLI does: an example may import its neighbours
    spec = importlib.util.spec_from_file_location(f"statemachines_example_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{path}: cannot load this Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    workflow: Any = getattr(module, "workflow", None)
    if workflow is None:
        return None
    ir, _ = _resolve(workflow)
    return ir


def outputs_for(stem: str, workflow: Workflow, out: Path = OUT) -> dict[Path, str]:
    """The generated files of one example and their text."""
    asl = compile_workflow(workflow)
    return {
        out / f"{stem}.asl.json": compiled_text(asl, "json"),
        out / f"{stem}.mmd": compiled_text(asl, "mermaid"),
    }


def expected(examples: Path = EXAMPLES, out: Path = OUT) -> dict[Path, str]:
    """Every file ``statemachines/`` should hold, with its text."""
    files: dict[Path, str] = {}
    owners: dict[str, Path] = {}
    for path in example_files(examples):
        workflow = load_example(path)
        if workflow is None:
            continue
        if path.stem in owners:
            raise RuntimeError(f"{owners[path.stem].name} and {path.name} share a stem")
        owners[path.stem] = path
        files.update(outputs_for(path.stem, workflow, out))
    return files


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def main(argv: list[str] | None = None, examples: Path = EXAMPLES, out: Path = OUT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="report, do not write")
    args = parser.parse_args(argv)
    wanted = expected(examples, out)
    present = {p for pattern in GENERATED for p in out.glob(pattern)}
    problems: list[str] = []
    for path, text in sorted(wanted.items()):
        current = _read(path)
        if current == text:
            continue
        what = "missing" if current is None and not path.exists() else "stale"
        if args.check:
            problems.append(f"{what}: {path.relative_to(out.parent)}")
        else:
            path.write_bytes(text.encode("utf-8"))
            print(f"wrote {path.relative_to(out.parent)}")
    for path in sorted(present - set(wanted)):
        if args.check:
            problems.append(f"orphan: {path.relative_to(out.parent)} (no example makes it)")
        else:
            path.unlink()
            print(f"removed {path.relative_to(out.parent)}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("run `make statemachines` to regenerate them", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(wanted)} files up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
