"""``sql_query``: read-only SQL against the one database the workflow's settings name.

Why several layers: a model (or text it read) may ask for ``DROP TABLE``, hide a second
statement behind a comment, or call a function that writes files. Any one check can have a
hole, so a write must get through all of them:

1. the statement check (``sql_guard``): one statement, SELECT/WITH only, no write keywords,
   pragmas, ATTACH, SET, row locks or functions with side effects, and (best effort) only
   the ``allowed_tables``;
2. a read-only connection (``sql_engines``): SQLite ``mode=ro`` + ``query_only`` + an
   authorizer; PostgreSQL READ ONLY sessions and transactions; always rolled back;
3. limits: at most ``max_rows`` rows are fetched, and the query is stopped at ``timeout``.

The database, limits and allowed tables come from ``tool_settings.sql_query``, never from
the model's arguments, so the model cannot widen its own permissions.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import math
import uuid
from dataclasses import dataclass
from typing import Any

from agentweaver.exceptions import ConfigurationError
from agentweaver.tools.base import Tool, tool
from agentweaver.tools.builtin.sql_engines import (
    dialect_of,
    dispose_engines,
    run_query,
    timeout_error,
)
from agentweaver.tools.builtin.sql_guard import Dialect, check_query, refuse, table_refs
from agentweaver.tools.context import ToolContext
from agentweaver.tools.redact import truncate

__all__ = ["TOOLS", "dispose_engines", "sql_query"]

_NAME = "sql_query"
_GRACE = 5.0  # seconds the event loop waits past the limit before leaving the thread behind
_DEFAULT_SCHEMAS = ("", "main", "public")


@dataclass(frozen=True)
class _Settings:
    url: str
    dialect: Dialect
    max_rows: int
    timeout: float
    allowed_tables: frozenset[str] | None
    max_cell_chars: int


def _settings(ctx: ToolContext) -> _Settings:
    raw = ctx.settings_for(_NAME)
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(
            "sql_query has no database: set tool_settings.sql_query.url to a SQLAlchemy URL "
            "(sqlite:///data.db or postgresql+psycopg://user@host/db); the model cannot fix this"
        )
    max_rows, timeout = raw.get("max_rows", 200), raw.get("timeout", 10)
    cell = raw.get("max_cell_chars", 2000)
    for key, value in (("max_rows", max_rows), ("timeout", timeout), ("max_cell_chars", cell)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(f"tool_settings.sql_query.{key} must be a positive number")
    allowed = raw.get("allowed_tables")
    if allowed is not None and (
        isinstance(allowed, str) or not all(isinstance(t, str) for t in allowed)
    ):
        raise ConfigurationError("tool_settings.sql_query.allowed_tables must be a list of names")
    tables = None if allowed is None else frozenset(t.lower() for t in allowed)
    return _Settings(url, dialect_of(url), int(max_rows), float(timeout), tables, int(cell))


def _cell(value: Any, limit: int) -> Any:
    """A JSON-able, bounded form of one value (a 10 MB text must not flood the prompt)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return truncate("0x" + bytes(value).hex(), limit)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_cell(v, limit) for v in value]
    if isinstance(value, dict):
        return {str(k): _cell(v, limit) for k, v in value.items()}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)  # exact: a float would round money
    return truncate(value if isinstance(value, str) else str(value), limit)


def _execute(s: _Settings, body: str) -> dict[str, Any]:
    """Run an already-checked statement (blocking) and shape the result for the model."""
    columns, rows = run_query(
        s.url, s.dialect, body, max_rows=s.max_rows, timeout=s.timeout, allowed=s.allowed_tables
    )
    shown = rows[: s.max_rows]
    result: dict[str, Any] = {
        "columns": columns,
        "rows": [[_cell(v, s.max_cell_chars) for v in row] for row in shown],
        "row_count": len(shown),
    }
    if len(rows) > s.max_rows:
        result["truncated"] = True
        result["note"] = f"only the first {s.max_rows} rows; filter or aggregate to see the rest"
    return result


def _check_tables(tables: frozenset[str], refs: set[str]) -> None:
    for ref in sorted(refs):
        schema, _, name = ref.rpartition(".")
        if ref in tables or (name in tables and schema in _DEFAULT_SCHEMAS):
            continue
        allowed = ", ".join(sorted(tables)) or "none"
        raise refuse(f"table {ref} is not in tool_settings.sql_query.allowed_tables ({allowed})")


@tool(register=False)
async def sql_query(query: str, ctx: ToolContext) -> dict[str, Any]:
    """Run one read-only SQL query (SELECT or WITH ... SELECT) on the configured database and
    get {"columns": [...], "rows": [[...], ...], "row_count": n}; "truncated": true means more
    rows matched than the row limit, so filter, aggregate or add LIMIT. Exactly one statement:
    writes, schema changes, PRAGMA, ATTACH, SET and row locks are refused, and slow queries
    are stopped at a time limit. Find tables and columns with a SELECT on sqlite_schema
    (SQLite) or information_schema.columns (PostgreSQL).

    The model's only argument is the query: which database, the limits and the allowed tables
    are the workflow's ``tool_settings.sql_query``, so a query cannot widen them.
    """
    s = _settings(ctx)
    body, tokens = check_query(query, s.dialect)
    if s.allowed_tables is not None:
        _check_tables(s.allowed_tables, table_refs(tokens))
    try:
        async with asyncio.timeout(s.timeout + _GRACE):
            return await asyncio.to_thread(_execute, s, body)
    except TimeoutError:
        raise timeout_error(s.timeout) from None


TOOLS: list[Tool] = [sql_query]
