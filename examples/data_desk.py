"""Agents with tools: an analyst queries a shop database with read-only SQL, a writer saves a
report in the execution's sandbox.

    python examples/data_desk.py                 # offline: scripted TestModel tool calls
    agentweaver run examples/data_desk.py -i "Which region sold most last month?"
        # real models: set ANTHROPIC_API_KEY and OPENAI_API_KEY
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from agentweaver import Agent, AgentWorkflow, LocalRunner, TestModel, agent
from agentweaver.models import ToolCall

DB = Path(tempfile.gettempdir()) / "agentweaver-example-shop.db"


def make_database(path: Path = DB) -> Path:
    """A small shop database to query (recreated each time, so the example is repeatable)."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, region TEXT, amount REAL)")
        db.executemany(
            "INSERT INTO orders (region, amount) VALUES (?, ?)",
            [("north", 120.0), ("south", 80.5), ("north", 42.0), ("west", 310.0), ("south", 5.5)],
        )
    return path


@agent(role="Data Analyst", model="claude", tools=["sql_query"], temperature=0)
def analyst(question: str) -> str:
    """Answer the question from the shop database. Look at the schema first if you need it
    (SELECT name, sql FROM sqlite_schema), then query; quote the figures you found."""
    return f"Question: {question}"


@agent(role="Report Writer", model="gpt", tools=["write_file"])
def writer(findings: str) -> str:
    """Write a short Markdown report of the findings to report.md, then say what you saved."""
    return f"Findings:\n{findings}"


workflow = AgentWorkflow(
    [analyst, writer],
    name="data-desk",
    description="Query a database, then write a report file.",
    tool_settings={"sql_query": {"url": f"sqlite:///{make_database()}", "max_rows": 50}},
)

QUERY = "SELECT region, SUM(amount) AS total FROM orders GROUP BY region ORDER BY total DESC"


def offline_agents() -> dict[str, Agent]:
    """The same agents, answering from a script: each first calls its tool, then answers."""
    scripted = {
        "analyst": TestModel(
            script=[[ToolCall("sql_query", {"query": QUERY}, "q1")], "west leads with 310.0"]
        ),
        "writer": TestModel(
            script=[
                [
                    ToolCall(
                        "write_file", {"path": "report.md", "content": "# Sales\nwest: 310"}, "w1"
                    )
                ],
                "Saved report.md",
            ]
        ),
    }
    return {name: a.with_model(scripted[name]) for name, a in workflow.agent_objects.items()}


async def main() -> None:
    from rich.console import Console

    from agentweaver.cli.render import summary

    sandbox = Path(tempfile.mkdtemp(prefix="agentweaver-sandbox-"))
    runner = LocalRunner(sandbox_root=sandbox)
    result = await runner.run(workflow, "Which region sold most?", agents=offline_agents())
    console = Console()
    console.print(summary(result, console.width))
    for step in result.steps:
        for call in step.tool_calls:
            print(f"{step.step_id} called {call['name']}: {' '.join(call['result'].split())[:90]}")
    print(f"sandbox: {sandbox / 'local' / result.execution_id}")


if __name__ == "__main__":
    asyncio.run(main())
