"""Load definitions from YAML/JSON text or files, with errors that point at lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentweaver.exceptions import ValidationIssue, WorkflowValidationError
from agentweaver.workflow.definition import WorkflowDefinition
from agentweaver.workflow.ir import Workflow, build_workflow

__all__ = ["issues_from_pydantic", "load_definition", "load_workflow", "parse_definition"]


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and not part.startswith("node:"):
            path += f".{part}" if path else part
    return path


_FRIENDLY = {
    "missing": "required field is missing",
    "model_type": "expected a mapping of fields",
}


def issues_from_pydantic(
    error: ValidationError, lines: dict[str, int] | None = None, prefix: str = ""
) -> list[ValidationIssue]:
    """Pydantic's errors as short issues, each with the line it came from when known."""
    issues = []
    for item in error.errors(include_url=False):
        path = _loc_to_path(tuple(item["loc"]))
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        kind = item["type"]
        line = _line_for(path, lines)  # an unknown field's own line, before the path is cut
        if kind == "extra_forbidden":
            field = path.rsplit(".", 1)[-1]
            path = path.rsplit(".", 1)[0] if "." in path else ""
            message = f"unknown field {field!r}"
        else:
            message = _FRIENDLY.get(kind, item["msg"]).removeprefix("Value error, ")
            if kind == "literal_error" or kind.endswith("_type") or kind == "enum":
                message = f"{message} (got {item.get('input')!r})"
        issues.append(ValidationIssue(path, message, line))
    return issues


def _line_for(path: str, lines: dict[str, int] | None) -> int | None:
    if not lines:
        return None
    probe = path
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return lines.get("")


def _yaml_lines(text: str) -> tuple[Any, dict[str, int]]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise WorkflowValidationError(
            [ValidationIssue("", f"invalid YAML: {problem}", line)]
        ) from None
    except yaml.YAMLError as exc:  # e.g. ReaderError: control characters, not text at all
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise WorkflowValidationError([ValidationIssue("", f"invalid YAML: {reason}")]) from None
    lines: dict[str, int] = {}

    def walk(n: Any, path: str) -> None:
        if n is None:
            return
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(n, yaml.SequenceNode):
            for i, value in enumerate(n.value):
                walk(value, f"{path}[{i}]")

    walk(node, "")
    return data, lines


def parse_definition(
    text: str, source: str = "<string>", fmt: str | None = None
) -> WorkflowDefinition:
    """Parse YAML or JSON text (``fmt`` 'yaml'/'json', else guessed) into a definition."""
    named = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(Path(source).suffix.lower())
    kind = fmt or named or ("json" if text.lstrip().startswith("{") else "yaml")
    lines: dict[str, int] = {}
    try:
        if kind == "json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                json_error = WorkflowValidationError(
                    [ValidationIssue("", f"invalid JSON: {exc.msg}", exc.lineno)]
                )
                if fmt or named:
                    raise json_error from None
                try:  # only guessed: a YAML flow mapping starts with '{' too
                    data, lines = _yaml_lines(text)
                except WorkflowValidationError:
                    raise json_error from None
        else:
            data, lines = _yaml_lines(text)
        if not isinstance(data, dict):
            got = "nothing" if data is None else type(data).__name__
            raise WorkflowValidationError(
                [
                    ValidationIssue(
                        "",
                        f"a workflow file must be a mapping with name, agents and flow; got {got}",
                        1,
                    )
                ]
            )
        try:
            definition = WorkflowDefinition.model_validate(data)
        except ValidationError as exc:
            raise WorkflowValidationError(issues_from_pydantic(exc, lines)) from None
    except WorkflowValidationError as exc:
        raise WorkflowValidationError(exc.issues, source) from None
    definition._source_lines = lines
    return definition


def load_definition(path: str | Path) -> WorkflowDefinition:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowValidationError(
            [ValidationIssue("", f"cannot read file: {exc.strerror}")], str(path)
        ) from None
    except UnicodeDecodeError:
        raise WorkflowValidationError(
            [ValidationIssue("", "cannot read file: it is not UTF-8 text")], str(path)
        ) from None
    fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    return parse_definition(text, str(path), fmt)


def load_workflow(source: str | Path | WorkflowDefinition, text: str | None = None) -> Workflow:
    """A validated IR from a file path, YAML/JSON ``text``, or a definition object."""
    if isinstance(source, WorkflowDefinition):
        definition, name = source, None
    elif text is not None:
        definition, name = parse_definition(text, str(source)), str(source)
    else:
        definition, name = load_definition(source), str(source)
    try:
        return build_workflow(definition, name)
    except WorkflowValidationError as exc:
        lines = definition._source_lines
        issues = [
            ValidationIssue(i.path, i.message, i.line or _line_for(i.path, lines))
            for i in exc.issues
        ]
        raise WorkflowValidationError(issues, name) from None
