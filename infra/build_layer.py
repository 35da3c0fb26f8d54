#!/usr/bin/env python3
"""Build the Lambda layer without Docker: ``python infra/build_layer.py`` (``make layer``).

The layer is the core library with the ``providers``, ``aws`` and ``api`` extras, installed
with ``pip install --target`` for the Lambda platform (manylinux wheels for the chosen
architecture and CPython version, binary wheels only, so nothing is compiled for the
build machine by mistake). What the Lambda runtime already provides (boto3 and its
dependencies) is removed: the runtime's copy is kept current by AWS and the layer stays
smaller. Bytecode is compiled with an interpreter of the *target* version when one is on
the machine (``python3.12``): Lambda's ``/opt`` is read-only, so without ``.pyc`` files
every cold start compiles the whole import graph in memory. pip's cache makes a rebuild
cheap.

Prints (and writes to ``<output>/../layer-report.json``) the zipped and unzipped size and
the largest packages; exits 1 when the zipped size is over the budget.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.12"  # the functions' runtime (agentweaver_infra.runtime.RUNTIME)
EXTRAS = "providers,aws,api"
BUDGET_MB = 25.0  # zipped
LAMBDA_UNZIPPED_LIMIT_MB = 250.0  # function + all layers, unzipped
# in the Lambda Python runtime already (and kept patched by AWS)
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
# what only the CLI and the local server use: Lambda never imports them
CLI_ONLY = ("uvicorn", "typer", "rich", "pygments", "click", "shellingham", "markdown_it", "mdurl")
# glibc of Amazon Linux 2023 (the python3.12 runtime) is 2.34
_MANYLINUX = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34")
_ARCH = {"arm64": "aarch64", "x86_64": "x86_64"}
MB = 1024 * 1024


def platforms(architecture: str) -> list[str]:
    machine = _ARCH[architecture]
    return [f"{tag}_{machine}" for tag in _MANYLINUX]


def build_wheel(work: Path) -> Path:
    """The project's own wheel (pure Python), so pip can install it for another platform."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(work),
            str(REPO),
        ]
    )
    (wheel,) = work.glob("agentweaver-*.whl")
    return wheel


def install(wheel: Path, target: Path, architecture: str, python_version: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--no-compile",
        "--upgrade",
    ]
    for platform in platforms(architecture):
        command += ["--platform", platform]
    run([*command, f"{wheel}[{EXTRAS}]"])


def prune(target: Path) -> list[str]:
    """Remove what the runtime provides, what only the CLI uses, scripts, and any bytecode
    of the build machine."""
    removed = []
    for entry in sorted(target.iterdir()):
        name = entry.name.lower()
        dist = name.split("-")[0]
        left_out = RUNTIME_PROVIDED + CLI_ONLY
        if name in left_out or (name.endswith(".dist-info") and dist in left_out):
            shutil.rmtree(entry)
            removed.append(entry.name)
    if (target / "bin").is_dir():
        shutil.rmtree(target / "bin")
    for tests in [*target.glob("*/tests"), *target.glob("*/*/tests")]:
        if tests.is_dir() and not tests.is_relative_to(target / "agentweaver"):
            shutil.rmtree(tests)  # test suites shipped inside packages (google.genai, certifi)
            removed.append(str(tests.relative_to(target)))
    for record in target.glob("*.dist-info/RECORD"):
        record.unlink()  # pip's uninstall manifest: meaningless in a read-only layer
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    return removed


def find_interpreter(python_version: str, explicit: str | None) -> str | None:
    """An interpreter of the target version: ``--compile-with`` or ``pythonX.Y`` on PATH."""
    candidates = [explicit] if explicit else [f"python{python_version}"]
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        candidates.append(sys.executable)
    for candidate in candidates:
        path = shutil.which(candidate) if candidate else None
        if path:
            out = subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.stdout.strip() == python_version:
                return path
    return None


def compile_bytecode(target: Path, interpreter: str, *, sourceless: bool) -> None:
    """``.pyc`` for everything; with ``sourceless``, third-party packages keep only theirs.

    Sources and ``__pycache__`` together nearly double the zipped layer (measured: 19 MB
    becomes 36 MB), over the 25 MB budget. So by default a third-party module is replaced
    by its legacy-location ``module.pyc`` (which CPython imports without the source);
    ``agentweaver`` keeps its sources so its tracebacks still show code lines.
    """
    # unchecked-hash: the layer is immutable, so never stat the source to validate a .pyc
    # no_debug_ranges: no column tables in code objects (tracebacks lose only the ^^^ marks),
    # about a quarter off every .pyc
    base = [
        interpreter,
        "-X",
        "no_debug_ranges",
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
    ]
    own = target / "agentweaver"
    run([*base, str(own)], check=False)
    others = [
        str(p)
        for p in sorted(target.iterdir())
        if p.is_dir() and p != own and not p.name.endswith(".dist-info")
    ]
    others += [str(p) for p in target.glob("*.py")]
    if not sourceless:
        run([*base, *others], check=False)
        return
    run([*base, "-b", *others], check=False)  # a py2-only test file is no failure
    for source in [*target.glob("*.py"), *(q for o in others for q in Path(o).rglob("*.py"))]:
        if source.with_suffix(".pyc").is_file():
            source.unlink()


def measure(layer_dir: Path) -> dict[str, object]:
    """Unzipped bytes, zipped bytes (deflate, as the CDK asset zip) and the biggest packages."""
    files = sorted(p for p in layer_dir.rglob("*") if p.is_file())
    unzipped = sum(p.stat().st_size for p in files)
    sizes: dict[str, int] = {}
    root = layer_dir / "python"
    for path in files:
        parts = path.relative_to(root).parts if path.is_relative_to(root) else path.parts
        sizes[parts[0]] = sizes.get(parts[0], 0) + path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for path in files:
                zf.write(path, path.relative_to(layer_dir).as_posix())
        zipped = archive.stat().st_size
    top = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:12]
    return {
        "unzipped_bytes": unzipped,
        "zipped_bytes": zipped,
        "files": len(files),
        "bytecode": any(p.suffix == ".pyc" for p in files),
        "largest": [{"name": k, "unzipped_bytes": v} for k, v in top],
    }


def report(sizes: dict[str, object], budget_mb: float) -> str:
    zipped = int(sizes["zipped_bytes"]) / MB  # type: ignore[call-overload]
    unzipped = int(sizes["unzipped_bytes"]) / MB  # type: ignore[call-overload]
    lines = [
        f"layer: {zipped:.1f} MB zipped, {unzipped:.1f} MB unzipped, {sizes['files']} files, "
        f"bytecode {'compiled' if sizes['bytecode'] else 'NOT compiled'}",
        f"budget: {budget_mb:.0f} MB zipped -> {'OK' if zipped <= budget_mb else 'OVER BUDGET'};"
        f" Lambda's limit is {LAMBDA_UNZIPPED_LIMIT_MB:.0f} MB unzipped (function + layers)",
        "largest (unzipped):",
    ]
    for item in sizes["largest"]:  # type: ignore[attr-defined]
        lines.append(f"  {item['unzipped_bytes'] / MB:7.2f} MB  {item['name']}")
    return "\n".join(lines)


def run(command: list[str], check: bool = True) -> None:
    result = subprocess.run(command, check=False)
    if check and result.returncode != 0:
        sys.exit(f"build_layer: failed ({result.returncode}): {' '.join(command[:6])} ...")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "build" / "layer",
        help="layer directory (the code goes in <output>/python)",
    )
    parser.add_argument("--architecture", choices=sorted(_ARCH), default="arm64")
    parser.add_argument("--python-version", default=PYTHON_VERSION)
    parser.add_argument("--compile-with", help="interpreter of the target version for .pyc")
    parser.add_argument(
        "--keep-sources",
        action="store_true",
        help="keep third-party .py files beside the bytecode (bigger layer)",
    )
    parser.add_argument("--budget-mb", type=float, default=BUDGET_MB)
    parser.add_argument("--report-only", action="store_true", help="measure an existing build")
    args = parser.parse_args(argv)

    output: Path = args.output.resolve()
    target = output / "python"
    if not args.report_only:
        if output.exists():
            shutil.rmtree(output)
        target.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as work:
            wheel = build_wheel(Path(work))
            install(wheel, target, args.architecture, args.python_version)
        removed = prune(target)
        left_out = ", ".join(r for r in removed if not r.endswith(".dist-info")) or "-"
        print(f"build_layer: left out (the runtime provides them / CLI only): {left_out}")
        interpreter = find_interpreter(args.python_version, args.compile_with)
        if interpreter:
            compile_bytecode(target, interpreter, sourceless=not args.keep_sources)
        else:
            print(
                f"build_layer: no Python {args.python_version} interpreter here (pass "
                "--compile-with): bytecode not compiled, Lambda will compile at cold start",
                file=sys.stderr,
            )
        (output / "BUILD.json").write_text(
            json.dumps(
                {
                    "architecture": args.architecture,
                    "python_version": args.python_version,
                    "extras": EXTRAS,
                    "bytecode": bool(interpreter),
                    "third_party_sources": args.keep_sources or not interpreter,
                },
                indent=1,
            )
        )
    elif not target.is_dir():
        print(f"build_layer: {target} does not exist: run `make layer`", file=sys.stderr)
        return 2
    sizes = measure(output)
    (output.parent / "layer-report.json").write_text(json.dumps(sizes, indent=1))
    print(report(sizes, args.budget_mb))
    return 0 if int(sizes["zipped_bytes"]) <= args.budget_mb * MB else 1  # type: ignore[call-overload]


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
