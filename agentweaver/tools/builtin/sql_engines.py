"""Read-only connections for ``sql_query``: the layer that holds even if the statement check fails.

SQLite: the file is opened through a ``file:`` URI with ``mode=ro``, each connection sets
``PRAGMA query_only``, allows no attached databases, caps string and blob sizes, and carries
an authorizer that denies every action but SELECT, reads (of the allowed tables, when set)
and functions on a known-safe list; a progress handler stops a statement at its deadline.
PostgreSQL: the session defaults to READ ONLY, each transaction sets READ ONLY and its own
``statement_timeout``, and the query runs through a server-side cursor (``DECLARE`` accepts
only a plain query and streams rows). Every transaction is rolled back, never committed.

Engines are cached per URL (a pool each) so a workflow's many calls reuse connections.
"""

from __future__ import annotations

import sqlite3  # standard library: the authorizer's action codes
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from agentweaver.exceptions import ConfigurationError, ToolError, ToolTimeout
from agentweaver.tools.builtin.sql_guard import Dialect, refuse

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

__all__ = ["dialect_of", "dispose_engines", "run_query", "timeout_error"]

_MAX_VALUE_BYTES = 10_000_000  # SQLite: no string or blob may grow past this (memory bombs)
Rows = tuple[list[str], list[Any]]
# SQLite functions the authorizer lets through: core, date, math, JSON and window functions.
_SAFE_SQLITE_FUNCTIONS = frozenset(
    """abs avg changes char coalesce concat concat_ws count date datetime format glob
    group_concat hex ifnull iif if instr julianday last_insert_rowid length like likelihood
    likely lower ltrim max min nullif octet_length printf quote random randomblob replace round
    rtrim sign soundex sqlite_version strftime string_agg substr substring sum time timediff
    total total_changes trim typeof unhex unicode unixepoch unlikely upper zeroblob
    current_date current_time current_timestamp median percentile percentile_cont
    percentile_disc acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp
    floor ln log log10 log2 mod pi pow power radians sin sinh sqrt tan tanh trunc row_number
    rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
    json json_array json_array_length json_error_position json_extract json_insert
    json_object json_patch json_pretty json_remove json_replace json_set json_type json_valid
    json_quote json_group_array json_group_object jsonb jsonb_array jsonb_extract
    jsonb_group_array jsonb_group_object jsonb_insert jsonb_object jsonb_patch jsonb_remove
    jsonb_replace jsonb_set -> ->>""".split()  # noqa: SIM905
)
# Authorizer action codes by name, for messages that say what was denied.
_ACTIONS = {
    getattr(sqlite3, f"SQLITE_{name}"): name
    for name in """CREATE_INDEX CREATE_TABLE CREATE_TEMP_INDEX CREATE_TEMP_TABLE
    CREATE_TEMP_TRIGGER CREATE_TEMP_VIEW CREATE_TRIGGER CREATE_VIEW DELETE DROP_INDEX DROP_TABLE
    DROP_TEMP_INDEX DROP_TEMP_TABLE DROP_TEMP_TRIGGER DROP_TEMP_VIEW DROP_TRIGGER DROP_VIEW
    INSERT PRAGMA TRANSACTION UPDATE ATTACH DETACH ALTER_TABLE REINDEX ANALYZE CREATE_VTABLE
    DROP_VTABLE SAVEPOINT""".split()  # noqa: SIM905
}
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _parse_url(url: str) -> URL:
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError:
        raise ConfigurationError(
            "sql_query needs SQLAlchemy: pip install 'agentweaver[sql]'"
        ) from None
    try:
        return make_url(url)
    except (ArgumentError, ValueError):  # the URL may hold a password: never echo it
        raise ConfigurationError("tool_settings.sql_query.url is not a SQLAlchemy URL") from None


def dialect_of(url: str) -> Dialect:
    """Which lexer and connection layer a URL gets; other databases are refused."""
    parsed = _parse_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        return "sqlite"
    if backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        return "postgresql"
    raise ConfigurationError(
        f"sql_query supports sqlite:// (pysqlite) and postgresql+psycopg:// URLs, not "
        f"{backend}+{driver}: those are the engines whose read-only mode it can enforce"
    )


def _read_only_sqlite_url(parsed: URL) -> URL:
    """The same file opened through a ``file:`` URI with ``mode=ro``: SQLite refuses writes."""
    database = parsed.database or ""
    if database in ("", ":memory:"):
        raise ConfigurationError("tool_settings.sql_query.url must name a SQLite database file")
    query = dict(parsed.query)
    if not database.startswith("file:"):
        database = "file:" + quote(database, safe="/")
    query.update(mode="ro", uri="true")
    return parsed.set(database=database, query=query)


def _sqlite_authorizer(
    allowed: frozenset[str] | None, denied: list[str]
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """Allow reads (of ``allowed`` tables, when set) and known-safe functions; deny the rest."""

    def check(
        action: int, arg1: str | None, arg2: str | None, _db: str | None, source: str | None
    ) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            names = {(arg1 or "").lower(), (source or "").lower()}  # a view vouches for its reads
            if allowed is None or names & allowed:
                return sqlite3.SQLITE_OK
            denied.append(f"table {arg1} is not in tool_settings.sql_query.allowed_tables")
        elif action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() in _SAFE_SQLITE_FUNCTIONS:
                return sqlite3.SQLITE_OK
            denied.append(f"the function {arg2}() is not on the read-only list")
        else:
            what = _ACTIONS.get(action, str(action))
            denied.append(f"{what} {arg1 or ''} is not a read".replace("  ", " "))
        return sqlite3.SQLITE_DENY

    return check


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")
    dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _MAX_VALUE_BYTES)
    dbapi_connection.set_authorizer(_sqlite_authorizer(frozenset(), []))  # per call, see below


def _postgres_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Make the session read-only and fix string syntax to what ``sql_guard`` lexes."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # so the SETs outlive the first transaction's rollback
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.execute("SET default_transaction_read_only = on")
            cursor.execute("SET standard_conforming_strings = on")
        finally:
            cursor.close()
    finally:
        dbapi_connection.autocommit = autocommit


def _engine(url: str, dialect: Dialect) -> Engine:
    """One engine (and connection pool) per URL for the process; ``dispose_engines`` ends them."""
    with _ENGINES_LOCK:
        if url in _ENGINES:
            return _ENGINES[url]
        from sqlalchemy import create_engine, event

        parsed = _parse_url(url)
        try:
            if dialect == "sqlite":
                engine = create_engine(_read_only_sqlite_url(parsed))
                event.listen(engine, "connect", _sqlite_on_connect)
            else:
                connect = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
                engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect)
                event.listen(engine, "connect", _postgres_on_connect)
        except ImportError as exc:
            raise ConfigurationError(
                f"sql_query cannot load the database driver ({exc.name}): "
                "pip install 'agentweaver[postgres]'"
            ) from None
        _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, shutdown); the next call opens fresh ones."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.dispose()


def _fetch(result: Any, max_rows: int) -> Rows:
    if not result.returns_rows:  # only a query that yields rows is a SELECT
        result.close()
        raise ToolError("the statement returned no rows: only SELECT queries are allowed")
    columns = [str(c) for c in result.keys()]  # noqa: SIM118
    rows = list(result.fetchmany(max_rows + 1))  # one more than shown: was anything cut?
    result.close()
    return columns, rows


def _run_sqlite(
    engine: Engine, body: str, max_rows: int, timeout: float, allowed: frozenset[str] | None
) -> Rows:
    from sqlalchemy.exc import DBAPIError

    denied: list[str] = []
    deadline = time.monotonic() + timeout
    expired = False

    def progress() -> int:
        nonlocal expired
        expired = time.monotonic() > deadline
        return int(expired)  # non-zero interrupts the statement

    with engine.connect() as conn:
        raw = cast("sqlite3.Connection", conn.connection.dbapi_connection)  # pysqlite only
        raw.set_authorizer(_sqlite_authorizer(allowed, denied))
        raw.set_progress_handler(progress, 1000)
        try:
            raw_sql = conn.execution_options(no_parameters=True)  # '%s' and ':x' stay text
            return _fetch(raw_sql.exec_driver_sql(body), max_rows)
        except (DBAPIError, sqlite3.Error) as exc:
            if expired:
                raise timeout_error(timeout) from None
            if denied:
                raise refuse(f"the read-only guard stopped it: {denied[0]}") from None
            raise _rejected(exc) from None
        finally:
            raw.set_progress_handler(None, 0)
            raw.set_authorizer(_sqlite_authorizer(frozenset(), []))
            conn.rollback()


def _run_postgres(
    engine: Engine, body: str, max_rows: int, timeout: float, _allowed: frozenset[str] | None
) -> Rows:
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as conn:
        try:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
            # a server-side cursor: PostgreSQL's DECLARE takes only a plain query, rows stream
            streamed = conn.execution_options(
                stream_results=True, max_row_buffer=max_rows + 1, no_parameters=True
            )
            return _fetch(streamed.exec_driver_sql(body), max_rows)
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
            if state == "57014":  # query_canceled: statement_timeout fired
                raise timeout_error(timeout) from None
            raise _rejected(exc) from None
        finally:
            conn.rollback()


def timeout_error(timeout: float) -> ToolTimeout:
    """What the model reads when its query was stopped: the limit and how to get under it."""
    return ToolTimeout(
        f"the query ran past the {timeout:g}s time limit and was stopped; make it cheaper "
        "(filter with WHERE, add LIMIT, aggregate, avoid huge joins or recursion)"
    )


def _first_line(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown error"]
    return lines[0][:500]


def _rejected(exc: Exception) -> ToolError:
    return ToolError(f"the database rejected the query: {_first_line(exc)}")


def run_query(
    url: str,
    dialect: Dialect,
    body: str,
    *,
    max_rows: int,
    timeout: float,
    allowed: frozenset[str] | None,
) -> Rows:
    """Column names and up to ``max_rows + 1`` rows (blocking: call it in a thread)."""
    from sqlalchemy.exc import DBAPIError

    run = _run_sqlite if dialect == "sqlite" else _run_postgres
    try:
        return run(_engine(url, dialect), body, max_rows, timeout, allowed)
    except DBAPIError as exc:  # connecting failed; the runners explain errors of the query
        raise ToolError(f"could not open the database: {_first_line(exc)}") from None
