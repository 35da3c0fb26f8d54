"""sql_query: read-only SQL, probed with writes and stacked statements that must change nothing.

Every probe is refused with a message naming what was refused, and the database file is
byte-for-byte the same afterwards (and no new file appeared). The engine-layer probes skip
the statement check to show the read-only connection stops the same writes on its own.
PostgreSQL tests run when AGENTWEAVER_TEST_POSTGRES_DSN names a server, for example
``AGENTWEAVER_TEST_POSTGRES_DSN=postgresql+psycopg://postgres@127.0.0.1:5432/postgres``
(needs ``pip install 'agentweaver[postgres]'``; the tests create and drop their own tables).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentweaver.exceptions import ConfigurationError, ToolError, ToolTimeout
from agentweaver.tools import ToolContext
from agentweaver.tools.builtin import sql
from agentweaver.tools.builtin.sql import TOOLS, dispose_engines, sql_query
from agentweaver.tools.builtin.sql_guard import check_query, table_refs

SLOW = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) "
    "SELECT count(*) FROM c"
)


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    yield
    dispose_engines()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount REAL,
                             note BLOB);
        CREATE INDEX orders_customer ON orders (customer_id);
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 20;
        INSERT INTO customers VALUES (1, 'Ada', 'London'), (2, 'Grace', 'Arlington'),
                                     (3, 'Linus', 'Helsinki');
        INSERT INTO orders VALUES (1, 1, 10.5, NULL), (2, 1, 30.0, x'00ff'), (3, 2, 25.0, NULL);
        """
    )
    con.commit()
    con.close()
    return path


def ctx_for(db: Path, **settings: Any) -> ToolContext:
    return ToolContext(settings={"sql_query": {"url": f"sqlite:///{db}", **settings}})


def state(db: Path) -> tuple[str, list[str]]:
    """The file's bytes and the directory listing: any write or new file shows up here."""
    return hashlib.sha256(db.read_bytes()).hexdigest(), sorted(p.name for p in db.parent.iterdir())


async def run(db: Path, query: str, **settings: Any) -> Any:
    return await sql_query.call({"query": query}, ctx_for(db, **settings))


# --- positive controls --------------------------------------------------------------------


async def test_select_returns_columns_and_rows(db: Path) -> None:
    before = state(db)
    out = await run(db, "SELECT id, name FROM customers ORDER BY id")
    assert out == {
        "columns": ["id", "name"],
        "rows": [[1, "Ada"], [2, "Grace"], [3, "Linus"]],
        "row_count": 3,
    }
    assert state(db) == before  # reading leaves no journal or WAL file behind


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("WITH big AS (SELECT * FROM orders WHERE amount > 20) SELECT count(*) FROM big", [[2]]),
        (
            "SELECT c.name, sum(o.amount) AS total FROM customers c JOIN orders o "
            "ON o.customer_id = c.id GROUP BY c.name ORDER BY total DESC",
            [["Ada", 40.5], ["Grace", 25.0]],
        ),
        ("SELECT count(*), max(amount), round(avg(amount), 2) FROM orders", [[3, 30.0, 21.83]]),
        ("SELECT 'a; DROP TABLE customers; -- b' AS s", [["a; DROP TABLE customers; -- b"]]),
        ("SELECT ':name %s ?' AS s", [[":name %s ?"]]),
        ('SELECT "name" FROM customers WHERE id = 1;', [["Ada"]]),
        ("SELECT 1 AS one; -- trailing comment", [[1]]),
        ("  /* leading */ -- comment\n\tselect 1 /* ; */ AS one", [[1]]),
        ("SeLeCt id FROM big_orders ORDER BY id", [[2], [3]]),
        ("SELECT note FROM orders WHERE id = 2", [["0x00ff"]]),
        ("SELECT type FROM sqlite_schema WHERE name = 'customers'", [["table"]]),
        ("SELECT '{\"a\": 1}' ->> 'a', upper('x'), date('2026-01-02')", [[1, "X", "2026-01-02"]]),
    ],
)
async def test_read_only_queries_succeed(db: Path, query: str, rows: list[Any]) -> None:
    before = state(db)
    out = await run(db, query)
    assert out["rows"] == rows
    assert "truncated" not in out
    assert state(db) == before


async def test_row_limit_sets_truncated(db: Path) -> None:
    out = await run(db, "SELECT id FROM customers ORDER BY id", max_rows=2)
    assert out["rows"] == [[1], [2]]
    assert out["truncated"] is True
    exact = await run(db, "SELECT id FROM customers", max_rows=3)
    assert exact["row_count"] == 3
    assert "truncated" not in exact


async def test_long_values_are_cut(db: Path) -> None:
    out = await run(db, "SELECT printf('%.500c', 'x')", max_cell_chars=50)
    (value,) = out["rows"][0]
    assert value.startswith("x" * 50)
    assert "450 more chars" in value


# --- probes: refused, and the database is unchanged -----------------------------------------

PROBES = [
    ("INSERT INTO customers VALUES (9, 'Eve', 'Nowhere')", "INSERT"),
    ("UPDATE customers SET name = 'Eve'", "UPDATE"),
    ("DELETE FROM orders", "DELETE"),
    ("DROP TABLE orders", "DROP"),
    ("CREATE TABLE evil (x)", "CREATE"),
    ("ALTER TABLE customers ADD COLUMN evil", "ALTER"),
    ("REPLACE INTO customers VALUES (1, 'Eve', 'x')", "REPLACE"),
    ("SELECT 1; DROP TABLE orders", "more than one statement"),
    ("SELECT 1;DELETE FROM orders", "more than one statement"),
    ("SELECT 1 /* ; */ ; DELETE FROM orders", "more than one statement"),
    ("SELECT ';' ; DELETE FROM orders", "more than one statement"),
    ("SELECT 1 -- x\n; DELETE FROM orders", "more than one statement"),
    ("SELECT 1 -- x\r' \n; DELETE FROM orders; --'", "more than one statement"),
    ("SELECT 1;;", "more than one statement"),
    ("WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x", "DELETE"),
    ("WITH x AS (SELECT 1) INSERT INTO customers SELECT 9, 'Eve', 'x'", "INSERT"),
    ("ATTACH DATABASE '{dir}/evil.db' AS e", "ATTACH"),
    ("PRAGMA writable_schema=1", "PRAGMA"),
    ("PRAGMA query_only=0", "PRAGMA"),
    ("VACUUM INTO '{dir}/copy.db'", "VACUUM"),
    ("VACUUM", "VACUUM"),
    ("REINDEX", "REINDEX"),
    ("SELECT load_extension('x')", "load_extension"),
    ("SELECT [load_extension]('x')", "load_extension"),
    ("SELECT writefile('{dir}/w.txt', 'data')", "writefile"),
    ("SELECT * INTO copy FROM customers", "INTO"),
    ("SELECT * FROM customers FOR UPDATE", "FOR UPDATE"),
    ("dElEtE FROM orders", "DELETE"),
    ("   \n\t drop table orders", "DROP"),
    ("/* hello */ DELETE FROM orders", "DELETE"),
    ("-- hello\nDELETE FROM orders", "DELETE"),
    ("-- c\n  select 1; delete from orders", "more than one statement"),
    ("BEGIN; DELETE FROM orders; COMMIT", "more than one statement"),
    ("EXPLAIN SELECT 1", "EXPLAIN"),
    ("SELECT 'unterminated", "unterminated"),
    ("SELECT 1 /* unterminated", "unterminated"),
    ("SELECT 1\x00; DELETE FROM orders", "NUL"),
    ("", "empty"),
    ("  -- nothing\n", "empty"),
]


@pytest.mark.parametrize(("query", "named"), PROBES)
async def test_probe_is_refused_and_changes_nothing(db: Path, query: str, named: str) -> None:
    before = state(db)
    with pytest.raises(ToolError, match="refused") as info:
        await run(db, query.format(dir=db.parent))
    assert named.lower() in str(info.value).lower()
    assert state(db) == before  # same bytes, and no evil.db / copy.db / w.txt created


ENGINE_PROBES = [
    ("DELETE FROM orders", "DELETE"),
    ("INSERT INTO customers VALUES (9, 'Eve', 'x')", "INSERT"),
    ("UPDATE customers SET name = 'Eve'", "UPDATE"),
    ("DROP TABLE orders", "sqlite_master"),
    ("CREATE TABLE evil (x)", "sqlite_master"),
    ("ATTACH DATABASE '{dir}/evil.db' AS e", "ATTACH"),
    ("PRAGMA query_only=0", "PRAGMA"),
    ("PRAGMA writable_schema=1", "PRAGMA"),
    ("VACUUM INTO '{dir}/copy.db'", "ATTACH"),
    ("REINDEX orders_customer", "REINDEX"),
    ("ANALYZE", "sqlite_master"),
    ("SELECT load_extension('x')", "load_extension"),
    ("SELECT 1 REGEXP 1", "regexp"),
    ("BEGIN", "TRANSACTION"),
    ("SELECT 1; DELETE FROM orders", "one statement"),
    ("SELECT length(zeroblob(50000000))", "too big"),
]


@pytest.mark.parametrize(("query", "named"), ENGINE_PROBES)
def test_connection_alone_refuses_writes(db: Path, query: str, named: str) -> None:
    """Skip the statement check: the read-only connection must stop the write by itself."""
    settings = sql._settings(ctx_for(db))
    before = state(db)
    with pytest.raises(ToolError, match=named):
        sql._execute(settings, query.format(dir=db.parent))
    assert state(db) == before
    assert sql._execute(settings, "SELECT count(*) FROM orders")["rows"] == [[3]]  # still usable


async def test_a_long_query_is_stopped_by_the_time_limit(db: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ToolTimeout, match="time limit"):
        await run(db, SLOW, timeout=0.05)
    assert time.monotonic() - started < 2
    assert (await run(db, "SELECT 1"))["rows"] == [[1]]  # the pooled connection still works


# --- configuration ------------------------------------------------------------------------


async def test_missing_url_is_a_clear_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"tool_settings\.sql_query\.url"):
        await sql_query.call({"query": "SELECT 1"}, ToolContext())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "mysql://u:secret@h/db"}, "supports sqlite"),
        ({"url": "not a url"}, "not a SQLAlchemy URL"),
        ({"url": "sqlite://"}, "database file"),
        ({"url": "sqlite:///x.db", "max_rows": 0}, "max_rows"),
        ({"url": "sqlite:///x.db", "timeout": "soon"}, "timeout"),
        ({"url": "sqlite:///x.db", "allowed_tables": "orders"}, "allowed_tables"),
    ],
)
async def test_bad_settings_are_configuration_errors(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        await sql_query.call({"query": "SELECT 1"}, ToolContext(settings={"sql_query": settings}))
    assert "secret" not in str(info.value)


async def test_a_missing_database_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="unable to open"):
        await run(tmp_path / "absent.db", "SELECT 1")
    assert not (tmp_path / "absent.db").exists()


def test_model_cannot_pass_settings() -> None:
    (item,) = TOOLS
    assert item.name == "sql_query"
    assert set(item.parameters["properties"]) == {"query"}
    assert "read-only" in item.description


# --- allowed_tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM customers",
        "SELECT c.name FROM main.customers AS c WHERE c.id IN (SELECT 1)",
        "WITH x AS (SELECT * FROM customers) SELECT name FROM x",
        "SELECT strftime('%Y', 'now'), substr(name, 2) FROM customers",
    ],
)
async def test_allowed_tables_lets_listed_tables_through(db: Path, query: str) -> None:
    out = await run(db, query, allowed_tables=["Customers"])
    assert out["rows"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM orders",
        "SELECT * FROM customers JOIN orders ON orders.customer_id = customers.id",
        "SELECT * FROM customers, orders",
        "SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders)",
        "SELECT * FROM sqlite_schema",
        "SELECT * FROM big_orders",
    ],
)
async def test_allowed_tables_refuses_others(db: Path, query: str) -> None:
    with pytest.raises(ToolError, match="allowed_tables"):
        await run(db, query, allowed_tables=["customers"])


def test_allowed_tables_is_enforced_by_the_connection_too(db: Path) -> None:
    """Skip the parser: SQLite's authorizer sees every table read, whatever the syntax."""
    settings = sql._settings(ctx_for(db, allowed_tables=["customers"]))
    with pytest.raises(ToolError, match="orders is not in"):
        sql._execute(settings, "SELECT count(*) FROM orders")
    view = sql._settings(ctx_for(db, allowed_tables=["big_orders"]))
    assert sql._execute(view, "SELECT id FROM big_orders ORDER BY id")["rows"] == [[2], [3]]


# --- the statement check on its own, both dialects -------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT $$ ; DELETE FROM t $$",
        "SELECT $tag$ it's; fine $tag$ AS s",
        "SELECT E'it\\'s; fine'",
        "SELECT 1 /* outer /* inner ; */ still comment ; */",
        "SELECT a$b FROM t",
        "SELECT extract(year FROM ts), pg_sleep(0) FROM t",
    ],
)
def test_postgres_lexing_accepts(query: str) -> None:
    check_query(query, "postgresql")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("SELECT $$ ' $$; DELETE FROM t; -- '", "more than one"),
        ("SELECT E'\\''; DELETE FROM t; --'", "more than one"),
        ("SELECT 1 /* /* */ ' */ ; DELETE FROM t; -- '", "more than one"),
        ("SELECT 1 -- x\r; DELETE FROM t", "more than one"),
        ("SELECT * INTO t2 FROM t", "INTO"),
        ("SELECT * FROM t FOR SHARE", "FOR UPDATE/FOR SHARE"),
        ("SELECT * FROM t FOR NO KEY UPDATE", "FOR UPDATE/FOR SHARE"),
        ("COPY t TO '/tmp/x'", "COPY"),
        ("CALL p()", "CALL"),
        ("DO $$ BEGIN DELETE FROM t; END $$", "DO"),
        ("SET statement_timeout = 0", "SET"),
        ("LOCK TABLE t", "LOCK"),
        ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "MERGE"),
        ("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x", "UPDATE"),
        ("SELECT set_config('default_transaction_read_only', 'off', false)", "set_config"),
        ("SELECT \"set_config\"('a', 'b', false)", "set_config"),
        ("SELECT U&\"\\0073et_config\"('a', 'b', false)", "Unicode-escaped"),
        ("SELECT pg_catalog.nextval('s')", "nextval"),
        ("SELECT setval('s', 1)", "setval"),
        ("SELECT lo_import('/etc/passwd')", "lo_import"),
        ("SELECT lo_export(1, '/tmp/x')", "lo_export"),
        ("SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
        ("SELECT * FROM dblink('host=x', 'DELETE FROM t') AS r(x int)", "dblink"),
        ("SELECT pg_terminate_backend(1)", "pg_terminate_backend"),
        ("SELECT pg_cancel_backend(1)", "pg_cancel_backend"),
        ("SELECT pg_advisory_lock(1)", "pg_advisory_lock"),
        ("SELECT query_to_xml('DELETE FROM t', true, true, '')", "query_to_xml"),
        ("SELECT $$ unterminated", "unterminated"),
    ],
)
def test_postgres_probes_are_refused(query: str, named: str) -> None:
    with pytest.raises(ToolError, match="refused") as info:
        check_query(query, "postgresql")
    assert named.lower() in str(info.value).lower()


def test_sqlite_lexing_differs_where_sqlite_does() -> None:
    # SQLite: a '--' comment ends only at \n, and /* */ does not nest
    check_query("SELECT 1 -- x\r; DELETE FROM t\n", "sqlite")
    with pytest.raises(ToolError, match="more than one"):
        check_query("SELECT 1 /* /* */ ; DELETE FROM t; -- */", "sqlite")
    body, _ = check_query("SELECT `a;b`, [c;d] FROM t ;  -- done", "sqlite")
    assert body == "SELECT `a;b`, [c;d] FROM t "


def test_table_refs() -> None:
    query = (
        "WITH w AS (SELECT * FROM a) SELECT * FROM w, b AS bb JOIN public.c ON true "
        "LEFT JOIN (SELECT 1 FROM d) q ON true WHERE x IN (SELECT y FROM e) "
        "AND extract(year FROM f) = 1 AND EXISTS (SELECT 1 FROM generate_series(1, 2))"
    )
    _, tokens = check_query(query, "postgresql")
    assert table_refs(tokens) == {"a", "b", "public.c", "d", "e"}


# --- through an agent ---------------------------------------------------------------------


async def test_sql_query_through_an_agent(db: Path, tmp_path: Path) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    call = ToolCall("sql_query", {"query": "SELECT name FROM customers WHERE id = 2"}, "c1")
    model = TestModel(script=[[call], "done"])
    worker = agent(role="Analyst", model=model, tools=[sql_query])(lambda task: None)
    runner = LocalRunner(
        tool_settings={"sql_query": {"url": f"sqlite:///{db}"}}, sandbox_root=tmp_path
    )
    result = await runner.run(AgentWorkflow([worker], name="w"), "who is customer 2?")
    assert result.status == "succeeded", result.errors
    (record,) = result.steps[0].tool_calls
    assert record["name"] == "sql_query"
    assert not record["is_error"]
    assert '"Grace"' in record["result"]


# --- PostgreSQL (needs a server) ----------------------------------------------------------

PG_DSN = os.environ.get("AGENTWEAVER_TEST_POSTGRES_DSN")
needs_postgres = pytest.mark.skipif(
    not PG_DSN,
    reason="set AGENTWEAVER_TEST_POSTGRES_DSN=postgresql+psycopg://user@127.0.0.1:5432/db "
    "(and pip install 'agentweaver[postgres]') to run the PostgreSQL tests",
)


@pytest.fixture
def pg() -> Iterator[tuple[ToolContext, Any]]:
    assert PG_DSN is not None
    from sqlalchemy import create_engine

    admin = create_engine(PG_DSN)
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS aw_orders")
        conn.exec_driver_sql("CREATE TABLE aw_orders (id int PRIMARY KEY, amount numeric)")
        conn.exec_driver_sql("INSERT INTO aw_orders VALUES (1, 10.5), (2, 30), (3, 25)")
        conn.exec_driver_sql("DROP SEQUENCE IF EXISTS aw_seq")
        conn.exec_driver_sql("CREATE SEQUENCE aw_seq")
    yield ToolContext(settings={"sql_query": {"url": PG_DSN, "timeout": 0.3}}), admin
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS aw_orders")
        conn.exec_driver_sql("DROP TABLE IF EXISTS aw_copy")
        conn.exec_driver_sql("DROP SEQUENCE IF EXISTS aw_seq")
    admin.dispose()


def pg_state(admin: Any) -> tuple[Any, ...]:
    with admin.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, amount FROM aw_orders ORDER BY id").fetchall()
        seq = conn.exec_driver_sql("SELECT last_value, is_called FROM aw_seq").fetchone()
        copy = conn.exec_driver_sql("SELECT to_regclass('aw_copy')").scalar()
    return tuple(rows), tuple(seq or ()), copy


@needs_postgres
async def test_postgres_reads_and_refuses(pg: tuple[ToolContext, Any]) -> None:
    ctx, admin = pg
    before = pg_state(admin)
    out = await sql_query.call({"query": "SELECT id, amount FROM aw_orders ORDER BY id;"}, ctx)
    assert out["columns"] == ["id", "amount"]
    assert out["rows"][0] == [1, "10.5"]
    out = await sql_query.call(
        {"query": "SELECT '%s :x', current_setting('transaction_read_only')"}, ctx
    )
    assert out["rows"] == [["%s :x", "on"]]
    for query in [
        "DELETE FROM aw_orders",
        "SELECT 1; DELETE FROM aw_orders",
        "WITH x AS (DELETE FROM aw_orders RETURNING *) SELECT * FROM x",
        "SELECT * INTO aw_copy FROM aw_orders",
        "SELECT nextval('aw_seq')",
        "SELECT * FROM aw_orders FOR UPDATE",
    ]:
        with pytest.raises(ToolError, match="refused"):
            await sql_query.call({"query": query}, ctx)
    with pytest.raises(ToolTimeout):
        await sql_query.call({"query": "SELECT pg_sleep(5)"}, ctx)
    assert pg_state(admin) == before


@needs_postgres
def test_postgres_connection_alone_refuses_writes(pg: tuple[ToolContext, Any]) -> None:
    ctx, admin = pg
    settings = sql._settings(ctx)
    before = pg_state(admin)
    for query in [
        "DELETE FROM aw_orders",
        "UPDATE aw_orders SET amount = 0",
        "SELECT nextval('aw_seq')",
        "CREATE TABLE aw_copy (x int)",
        "SELECT * INTO aw_copy FROM aw_orders",
        "WITH x AS (DELETE FROM aw_orders RETURNING *) SELECT * FROM x",
        "SET default_transaction_read_only = off",
    ]:
        with pytest.raises(ToolError):
            sql._execute(settings, query)
    # a session setting changed by a query is undone: every transaction is rolled back
    sql._execute(settings, "SELECT set_config('default_transaction_read_only', 'off', false)")
    show = "SELECT current_setting('default_transaction_read_only')"
    assert sql._execute(settings, show)["rows"] == [["on"]]
    assert pg_state(admin) == before
