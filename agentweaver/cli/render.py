"""Terminal rendering for the CLI: live step progress and the summary tables."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentweaver.stores.records import ExecutionRecord, LogRecord, StepRecord
from agentweaver.workflow.result import Event, WorkflowResult

__all__ = ["Progress", "execution_table", "logs_table", "steps_table", "summary"]

_STATUS = {
    "running": ("…", "yellow"),
    "retrying": ("↻", "yellow"),
    "succeeded": ("✓", "green"),
    "failed": ("✗", "red"),
    "cancelled": ("■", "magenta"),
}


def _cost(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(epoch: float | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def steps_table(steps: list[StepRecord], title: str | None = None, width: int = 120) -> Table:
    """One row per step; every column keeps its width except the output, which is cut."""
    rows = []
    for s in steps:
        mark, colour = _STATUS.get(s.status, ("?", "white"))
        shown = s.output if s.status == "succeeded" else (s.error or {}).get("type", "")
        took = "-" if s.duration is None else f"{s.duration:.2f}s"
        cells = [
            s.step_id,
            s.role,
            f"{mark} {s.status}",
            str(s.attempts),
            f"{s.total_tokens:,}",
            _cost(s.cost),
            took,
        ]
        rows.append((cells, colour, shown))
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    names = ("step", "agent", "status", "tries", "tokens", "cost", "time")
    used = 1 + 3 * (len(names) + 1)  # edges, padding and separators
    for i, name in enumerate(names):
        size = max([len(name)] + [len(cells[i]) for cells, _, _ in rows])
        used += size
        table.add_column(name, width=size, no_wrap=True, justify="right" if i > 2 else "left")
    room = max(width - used, 12)
    table.add_column("output", width=room, no_wrap=True)
    for cells, colour, shown in rows:
        texts = [Text(c) for c in cells]
        texts[2].stylize(colour)
        table.add_row(*texts, Text(_short(shown, room)))
    return table


def summary(result: WorkflowResult, width: int = 120) -> Group:
    colour = "green" if result.succeeded else "red"
    totals = Text.assemble(
        (f"{result.status.upper()}", f"bold {colour}"),
        f"  {len(result.steps)} step{'' if len(result.steps) == 1 else 's'} · "
        f"{result.total_tokens:,} tokens "
        f"({result.input_tokens:,} in / {result.output_tokens:,} out) · "
        f"{_cost(result.total_cost)} · {result.execution_time:.2f}s · "
        f"execution {result.execution_id}",
    )
    table = steps_table(result.steps, f"Workflow {result.workflow!r}", width)
    parts: list[Any] = [table, totals]
    for error in result.errors:
        parts.append(Text(f"error: {type(error).__name__}: {error}", style="red"))
    if result.succeeded:
        parts.append(Panel(Text(_short(result.output, 2000)), title="output", title_align="left"))
    return Group(*parts)


def execution_table(records: list[ExecutionRecord]) -> Table:
    table = Table(header_style="bold")
    for name in ("execution", "workflow", "status", "started", "time", "tokens", "cost"):
        table.add_column(name)
    for r in records:
        mark, colour = _STATUS.get(r.status, ("·", "white"))
        took = f"{r.ended_at - r.started_at:.2f}s" if r.ended_at and r.started_at else "-"
        table.add_row(
            r.execution_id,
            Text(r.workflow_name),
            Text(f"{mark} {r.status}", style=colour),
            _when(r.started_at),
            took,
            f"{r.input_tokens + r.output_tokens:,}",
            _cost(r.cost),
        )
    return table


def logs_table(logs: list[LogRecord]) -> Table:
    table = Table(header_style="bold")
    for name in ("#", "time", "level", "agent", "message"):
        table.add_column(name)
    styles = {"ERROR": "red", "WARNING": "yellow", "INFO": "", "DEBUG": "dim"}
    for log in logs:
        table.add_row(
            str(log.seq),
            _when(log.time),
            Text(log.level, style=styles.get(log.level, "")),
            Text(log.agent_role or ""),
            Text(log.message),
        )
    return table


class Progress:
    """Live view of a run: a table redrawn on each event, or one line per event off a TTY."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, dict[str, Any]] = {}
        self.live: Live | None = None
        self.started = time.perf_counter()

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self.live = Live(
                self._table(), console=self.console, refresh_per_second=8, transient=True
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def __call__(self, event: Event) -> None:
        if event.step_id is None:
            return
        row = self.rows.setdefault(
            event.step_id, {"agent": event.agent, "tokens": 0, "cost": 0.0, "text": ""}
        )
        row["attempt"] = event.attempt
        if event.kind == "step_delta":  # streamed answer text: show its tail as it grows
            row["text"] = (row["text"] + str(event.data.get("text", "")))[-400:]
            if self.live is not None:
                self.live.update(self._table())
            return
        record = event.data.get("record")
        status = {
            "step_started": "running",
            "step_retrying": "retrying",
            "step_succeeded": "succeeded",
            "step_failed": "failed",
        }[event.kind]
        row["status"] = status
        if isinstance(record, StepRecord):
            row["tokens"], row["cost"], row["time"] = (
                record.total_tokens,
                record.cost,
                record.duration,
            )
        if self.live is not None:
            self.live.update(self._table())
        elif event.kind in ("step_succeeded", "step_retrying"):
            # off a terminal: one line per outcome; a final failure shows in the summary
            mark, colour = _STATUS[status]
            extra = (
                f"retry in {event.data.get('delay', 0):.1f}s"
                if status == "retrying"
                else (f"{row['tokens']:,} tokens  {_cost(row['cost'])}")
            )
            line = f" {event.step_id:<24} {status:<9} {extra}"
            self.console.print(Text.assemble((mark, colour), line))

    def _table(self) -> Table:
        table = Table(title="running…", title_justify="left", header_style="bold")
        for name in ("step", "agent", "status", "try", "tokens", "cost"):
            table.add_column(name, no_wrap=True)
        table.add_column("answer so far", no_wrap=True, overflow="ellipsis", max_width=60)
        for step_id, row in self.rows.items():
            mark, colour = _STATUS.get(row.get("status", "running"), ("…", "yellow"))
            table.add_row(
                Text(step_id),
                Text(str(row["agent"])),
                Text(f"{mark} {row.get('status')}", style=colour),
                str(row.get("attempt", 1)),
                f"{row['tokens']:,}",
                _cost(row["cost"]),
                Text(" ".join(str(row["text"]).split())[-60:]),
            )
        return table
