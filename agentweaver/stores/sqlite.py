"""The embedded store: one SQLite file under ``AGENTWEAVER_HOME``, stdlib ``sqlite3`` only.

Every agent step writes here, so each write is a single autocommit statement on one shared
connection: under WAL with ``synchronous=NORMAL`` a commit is a WAL append without an fsync,
which keeps a ``save_step`` in the microseconds. A lock serialises callers because the API
server may call from worker threads and one connection must not run two statements at once.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

from agentweaver.exceptions import StoreConflict, StoreError
from agentweaver.stores.encoding import clamp_limit, decode_cursor, encode_cursor
from agentweaver.stores.encoding import dump_json as _dump
from agentweaver.stores.encoding import load_json as _load
from agentweaver.stores.records import (
    TERMINAL,
    ExecutionRecord,
    LogRecord,
    StepRecord,
    UsageRecord,
    WorkflowRecord,
)
from agentweaver.stores.sqlite_keys import KEY_SCHEMA, KeyTables
from agentweaver.stores.sqlite_support import (
    Guard,
    Pending,
    Transaction,
    close_connection,
    commit_pending,
)

log = logging.getLogger(__name__)
_FLUSH_AT = 256  # queued writes that trigger a commit at once

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "default_store_path", "open_default_store"]

SCHEMA_VERSION = 1

_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",  # first, so the others wait for a busy file instead of failing
    "PRAGMA journal_mode = WAL",  # answers "memory" for ":memory:", which is fine
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = OFF",
)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS workflows (
        owner TEXT NOT NULL, workflow_id TEXT NOT NULL, name TEXT NOT NULL,
        definition TEXT NOT NULL, description TEXT NOT NULL, version INTEGER NOT NULL,
        created_at REAL NOT NULL, updated_at REAL NOT NULL, state_machine_arn TEXT,
        PRIMARY KEY (owner, workflow_id))""",
    # execution_id alone is the key: steps and logs hang off it without an owner, so two
    # owners must never share one.
    """CREATE TABLE IF NOT EXISTS executions (
        owner TEXT NOT NULL, execution_id TEXT NOT NULL PRIMARY KEY, workflow_id TEXT NOT NULL,
        workflow_name TEXT NOT NULL, status TEXT NOT NULL, input TEXT, output TEXT, error TEXT,
        created_at REAL NOT NULL, started_at REAL, ended_at REAL,
        input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost REAL,
        steps INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS executions_by_owner ON executions (owner, created_at)",
    """CREATE INDEX IF NOT EXISTS executions_by_workflow
        ON executions (owner, workflow_id, created_at)""",
    "CREATE INDEX IF NOT EXISTS executions_by_status ON executions (owner, status, created_at)",
    # partial: only the few live executions, for list_unfinished (which repeats the WHERE)
    """CREATE INDEX IF NOT EXISTS executions_unfinished ON executions (created_at, execution_id)
        WHERE status IN ('queued', 'running')""",
    """CREATE TABLE IF NOT EXISTS steps (
        execution_id TEXT NOT NULL, step_id TEXT NOT NULL, node_id TEXT NOT NULL,
        agent TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, input TEXT, output TEXT,
        attempts INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        cost REAL, model TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, error TEXT,
        tool_calls TEXT, seq INTEGER NOT NULL, PRIMARY KEY (execution_id, step_id))""",
    # WITHOUT ROWID: the key is the only index, so an append writes one b-tree, not two.
    """CREATE TABLE IF NOT EXISTS logs (
        execution_id TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL,
        level TEXT NOT NULL, message TEXT NOT NULL, agent_role TEXT, step_id TEXT,
        metadata TEXT, PRIMARY KEY (execution_id, seq)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS usage (
        owner TEXT NOT NULL, day TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL,
        PRIMARY KEY (owner, day, metric)) WITHOUT ROWID""",
)

_WORKFLOW_COLS = """owner, workflow_id, name, definition, description, version, created_at,
    updated_at, state_machine_arn"""
_SAVE_WORKFLOW = f"""INSERT INTO workflows ({_WORKFLOW_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (owner, workflow_id) DO UPDATE SET
        name = excluded.name, definition = excluded.definition,
        description = excluded.description, version = excluded.version,
        created_at = CASE WHEN ? THEN workflows.created_at ELSE excluded.created_at END,
        updated_at = excluded.updated_at, state_machine_arn = excluded.state_machine_arn"""
_WORKFLOW_CREATED = "SELECT created_at FROM workflows WHERE owner = ? AND workflow_id = ?"
_WORKFLOW_VERSION = "SELECT version FROM workflows WHERE owner = ? AND workflow_id = ?"
_GET_WORKFLOW = f"SELECT {_WORKFLOW_COLS} FROM workflows WHERE owner = ? AND workflow_id = ?"
_LIST_WORKFLOWS = f"""SELECT {_WORKFLOW_COLS} FROM workflows WHERE owner = ?
    ORDER BY updated_at DESC, workflow_id"""
_DELETE_WORKFLOW = "DELETE FROM workflows WHERE owner = ? AND workflow_id = ?"

_EXECUTION_COLS = """owner, execution_id, workflow_id, workflow_name, status, input, output,
    error, created_at, started_at, ended_at, input_tokens, output_tokens, cost, steps"""
_CREATE_EXECUTION = f"""INSERT INTO executions ({_EXECUTION_COLS})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_GET_EXECUTION = f"SELECT {_EXECUTION_COLS} FROM executions WHERE owner = ? AND execution_id = ?"
_LIST_EXECUTIONS = f"SELECT {_EXECUTION_COLS} FROM executions WHERE owner = ?"
_BY_WORKFLOW, _BY_STATUS, _BEFORE = " AND workflow_id = ?", " AND status = ?", " AND created_at < ?"
_AFTER_CURSOR = " AND (created_at, execution_id) < (?, ?)"
_NEWEST_FIRST = " ORDER BY created_at DESC, execution_id DESC LIMIT ?"
_EXECUTION_EXISTS = "SELECT 1 FROM executions WHERE owner = ? AND execution_id = ?"
_LIST_UNFINISHED = f"""SELECT {_EXECUTION_COLS} FROM executions
    WHERE status IN ('queued', 'running') ORDER BY created_at, execution_id LIMIT ?"""
# update_execution builds its SET clause only from these fragments, never from caller text.
# owner and execution_id are absent: they identify the row (and are its parameter names).
_EXECUTION_SET = {
    name: f"{name} = ?"
    for name in (
        "workflow_id", "workflow_name", "status", "input", "output", "error", "created_at",
        "started_at", "ended_at", "input_tokens", "output_tokens", "cost", "steps",
    )
}  # fmt: skip
_JSON_FIELDS = frozenset({"input", "output", "error"})

_STEP_COLS = """execution_id, step_id, node_id, agent, role, status, input, output, attempts,
    input_tokens, output_tokens, cost, model, started_at, ended_at, error, tool_calls, seq"""
_SAVE_STEP = f"""INSERT INTO steps ({_STEP_COLS})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (execution_id, step_id) DO UPDATE SET
        node_id = excluded.node_id, agent = excluded.agent, role = excluded.role,
        status = excluded.status, input = excluded.input, output = excluded.output,
        attempts = excluded.attempts, input_tokens = excluded.input_tokens,
        output_tokens = excluded.output_tokens, cost = excluded.cost, model = excluded.model,
        started_at = excluded.started_at, ended_at = excluded.ended_at, error = excluded.error,
        tool_calls = excluded.tool_calls, seq = excluded.seq"""
_GET_STEP = f"SELECT {_STEP_COLS} FROM steps WHERE execution_id = ? AND step_id = ?"
_LIST_STEPS = f"""SELECT {_STEP_COLS} FROM steps WHERE execution_id = ?
    ORDER BY seq, started_at, step_id"""

_LOG_COLS = "execution_id, seq, time, level, message, agent_role, step_id, metadata"
# One statement reads MAX(seq) and inserts: SQLite takes the write lock before the read, so
# the seq is computed inside the writing transaction without a BEGIN/COMMIT round trip.
_APPEND_LOG = f"""INSERT INTO logs ({_LOG_COLS})
    SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7
    FROM logs WHERE execution_id = ?1"""
_LIST_LOGS = f"""SELECT {_LOG_COLS} FROM logs WHERE execution_id = ? AND seq > ?
    ORDER BY seq LIMIT ?"""

_ADD_USAGE = """INSERT INTO usage (owner, day, metric, value) VALUES (?, ?, ?, ?)
    ON CONFLICT (owner, day, metric) DO UPDATE SET value = value + excluded.value"""
_GET_USAGE = """SELECT day, metric, value FROM usage
    WHERE owner = ? AND day >= ? AND day <= ? ORDER BY day, metric"""


def _workflow(r: tuple[Any, ...]) -> WorkflowRecord:
    return WorkflowRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8])


def _execution(r: tuple[Any, ...]) -> ExecutionRecord:
    return ExecutionRecord(
        r[0], r[1], r[2], r[3], r[4], _load(r[5]), _load(r[6]), _load(r[7]),
        r[8], r[9], r[10], r[11], r[12], r[13], r[14],
    )  # fmt: skip


def _step(r: tuple[Any, ...]) -> StepRecord:
    return StepRecord(
        r[0], r[1], r[2], r[3], r[4], r[5], _load(r[6]), _load(r[7]), r[8], r[9], r[10],
        r[11], r[12], r[13], r[14], _load(r[15]), _load(r[16]) or [], r[17],
    )  # fmt: skip


def _log(r: tuple[Any, ...]) -> LogRecord:
    return LogRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], _load(r[7]) or {})


def _check_version(workflow_id: str, current: int, expected: int) -> None:
    if current == expected:
        return
    if expected == 0:
        raise StoreConflict(f"workflow {workflow_id!r} already exists")
    if current == 0:
        raise StoreConflict(
            f"workflow {workflow_id!r} does not exist (expected version {expected})"
        )
    raise StoreConflict(f"workflow {workflow_id!r} is at version {current}, not {expected}")


def default_store_path() -> Path:
    """Where the CLI and the local API keep their history unless told otherwise."""
    home = Path(os.environ.get("AGENTWEAVER_HOME", "~/.agentweaver")).expanduser()
    return home / "agentweaver.db"


def open_default_store() -> SQLiteStore:
    """Open the default store, creating its directory private to the user (it holds inputs)."""
    path = default_store_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return SQLiteStore(path)


class SQLiteStore(KeyTables):
    """The ``Store`` contract on one SQLite database; ``":memory:"`` for tests.

    Step records, logs, execution updates and usage are written behind: they queue and are
    committed together, at most ``flush_interval`` seconds later, when 256 are waiting, before
    any read, and on ``close``. One commit per batch instead of per write is what keeps the
    store's cost per agent step in microseconds; a read always sees every earlier write.
    ``flush_interval=0`` writes through.
    """

    def __init__(self, path: str | Path = ":memory:", *, flush_interval: float = 0.05) -> None:
        self.path = str(path)
        self._guard = Guard()
        self._pending: Pending = []
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        self._closed = False
        self.flush_interval = flush_interval
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path!r}: {exc}") from exc
        try:
            with self._guard:
                for pragma in _PRAGMAS:
                    self._conn.execute(pragma)
                self._migrate()
        except BaseException:
            self._conn.close()  # a half-open store would only fail later, less clearly
            raise
        # queued writes are committed even if the store is never closed (at interpreter exit)
        self._finalizer = weakref.finalize(
            self, close_connection, self._conn, self._pending, self._guard
        )

    def _migrate(self) -> None:
        """Create the schema once; refuse a file written by a newer AgentWeaver."""
        with Transaction(self._conn):
            (version,) = self._conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"store {self.path!r} has schema version {version}; this AgentWeaver "
                    f"reads up to {SCHEMA_VERSION}; upgrade AgentWeaver"
                )
            for statement in (*_SCHEMA, *KEY_SCHEMA):
                self._conn.execute(statement)
            if version < SCHEMA_VERSION:
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")

    # write-behind

    def _queue(self, sql: str, params: tuple[Any, ...], *, now: bool = False) -> None:
        with self._guard:
            self._enqueue(sql, params, now=now)

    def _enqueue(self, sql: str, params: tuple[Any, ...], *, now: bool = False) -> None:
        """Queue one write (the caller holds the lock); commit at once if ``now``."""
        self._check_open()
        self._pending.append((sql, params))
        if now or len(self._pending) >= _FLUSH_AT or self.flush_interval <= 0:
            self._flush()
        elif len(self._pending) == 1:
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="agentweaver-sqlite-flush", daemon=True
                )
                self._flusher.start()
            self._wake.set()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"sqlite store {self.path!r} is closed")

    def _flush(self) -> None:
        """Commit what is queued, in order, in one transaction (the caller holds the lock)."""
        commit_pending(self._conn, self._pending)

    def _flush_loop(self) -> None:
        """Background committer: woken by the first queued write, commits a moment later."""
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.flush_interval)
            try:
                with self._guard:
                    if not self._closed:
                        self._flush()
            except Exception:  # nobody to raise to on this thread: keep the batch, try again
                log.warning("sqlite store %s: queued writes wait for the database", self.path)
                self._wake.set()

    def flush(self) -> None:
        """Commit queued writes now."""
        with self._guard:
            self._flush()

    # workflows

    def save_workflow(
        self, record: WorkflowRecord, *, expected_version: int | None = None
    ) -> WorkflowRecord:
        """Insert or replace; with ``expected_version`` only if the stored version is that
        (``0``: no workflow yet), else ``StoreConflict``. The caller bumps ``version``."""
        now = time.time()
        updated = record.updated_at or now
        params = (
            record.owner, record.workflow_id, record.name, _dump(record.definition),
            record.description, record.version, record.created_at or now, updated,
            record.state_machine_arn, record.created_at == 0,
        )  # fmt: skip
        with self._guard:
            self._flush()
            key = (record.owner, record.workflow_id)
            with Transaction(self._conn):
                if expected_version is not None:
                    row = self._conn.execute(_WORKFLOW_VERSION, key).fetchone()
                    _check_version(record.workflow_id, 0 if row is None else row[0],
                                   expected_version)  # fmt: skip
                self._conn.execute(_SAVE_WORKFLOW, params)
                (created,) = self._conn.execute(_WORKFLOW_CREATED, key).fetchone()
        return replace(record, created_at=created, updated_at=updated)

    def get_workflow(self, owner: str, workflow_id: str) -> WorkflowRecord | None:
        with self._guard:
            self._flush()
            row = self._conn.execute(_GET_WORKFLOW, (owner, workflow_id)).fetchone()
        return None if row is None else _workflow(row)

    def list_workflows(self, owner: str) -> list[WorkflowRecord]:
        with self._guard:
            self._flush()
            rows = self._conn.execute(_LIST_WORKFLOWS, (owner,)).fetchall()
        return [_workflow(r) for r in rows]

    def delete_workflow(self, owner: str, workflow_id: str) -> bool:
        with self._guard:
            self._flush()
            return self._conn.execute(_DELETE_WORKFLOW, (owner, workflow_id)).rowcount > 0

    # executions

    def create_execution(self, record: ExecutionRecord) -> None:
        """Insert a new execution; an existing id is an error, not an overwrite."""
        r = record
        params = (
            r.owner, r.execution_id, r.workflow_id, r.workflow_name, str(r.status),
            _dump(r.input), _dump(r.output), _dump(r.error), r.created_at or time.time(),
            r.started_at, r.ended_at, r.input_tokens, r.output_tokens, r.cost, r.steps,
        )  # fmt: skip
        with self._guard:
            self._conn.execute(_CREATE_EXECUTION, params)

    def update_execution(self, owner: str, execution_id: str, **changes: Any) -> bool:
        """Set some fields; ``False`` (and nothing changed) if ``owner`` has no such execution.

        The update itself is still written behind (a terminal status at once); the answer is
        exact because it comes from a primary-key read under the same lock that queues the
        update: creates are never queued and nothing deletes an execution, so a row that
        exists now is the row the queued update will hit. The read costs microseconds and
        this runs a few times per execution, not per step.
        """
        sets, params = list[str](), list[Any]()
        for name, value in changes.items():
            fragment = _EXECUTION_SET.get(name)
            if fragment is None:
                raise StoreError(f"update_execution: {name!r} is not an updatable field")
            sets.append(fragment)
            params.append(_dump(value) if name in _JSON_FIELDS else value)
        sql = f"UPDATE executions SET {', '.join(sets)} WHERE owner = ? AND execution_id = ?"
        # an execution's end is committed at once: other processes see finished runs finished
        final = str(changes.get("status", "")) in TERMINAL
        with self._guard:
            self._check_open()
            if self._conn.execute(_EXECUTION_EXISTS, (owner, execution_id)).fetchone() is None:
                return False
            if sets:
                self._enqueue(sql, (*params, owner, execution_id), now=final)
        return True

    def get_execution(self, owner: str, execution_id: str) -> ExecutionRecord | None:
        with self._guard:
            self._flush()
            row = self._conn.execute(_GET_EXECUTION, (owner, execution_id)).fetchone()
        return None if row is None else _execution(row)

    def list_executions(
        self,
        owner: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[ExecutionRecord]:
        """Newest first; pass the last ``created_at`` seen as ``before`` for the next page."""
        sql, params = _LIST_EXECUTIONS, list[Any]([owner])
        for fragment, value in ((_BY_WORKFLOW, workflow_id), (_BY_STATUS, status)):
            if value is not None:
                sql += fragment
                params.append(str(value))
        if before is not None:
            sql += _BEFORE
            params.append(before)
        params.append(clamp_limit(limit))
        with self._guard:
            self._flush()
            rows = self._conn.execute(sql + _NEWEST_FIRST, params).fetchall()
        return [_execution(r) for r in rows]

    def page_executions(
        self,
        owner: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[ExecutionRecord], str | None]:
        """Newest first (ties by id); the cursor is the last item's position, so rows added
        between two pages neither shift nor repeat what follows (see ``stores.encoding``)."""
        sql, params = _LIST_EXECUTIONS, list[Any]([owner])
        for fragment, value in ((_BY_WORKFLOW, workflow_id), (_BY_STATUS, status)):
            if value is not None:
                sql += fragment
                params.append(str(value))
        if cursor is not None:
            sql += _AFTER_CURSOR
            params.extend(decode_cursor(cursor))
        size = clamp_limit(limit)
        params.append(size + 1)  # one more than asked: whether a next page exists
        with self._guard:
            self._flush()
            rows = self._conn.execute(sql + _NEWEST_FIRST, params).fetchall()
        items = [_execution(r) for r in rows[:size]]
        more = len(rows) > size
        return items, encode_cursor(items[-1].created_at, items[-1].execution_id) if more else None

    def list_unfinished(self, limit: int = 1000) -> list[ExecutionRecord]:
        """Every owner's queued/running executions, oldest first (recovery after a restart)."""
        with self._guard:
            self._flush()
            rows = self._conn.execute(_LIST_UNFINISHED, (max(0, int(limit)),)).fetchall()
        return [_execution(r) for r in rows]

    # steps

    def save_step(self, record: StepRecord) -> None:
        """Upsert by (execution_id, step_id): a retry's record replaces the earlier attempt's."""
        r = record
        params = (
            r.execution_id, r.step_id, r.node_id, r.agent, r.role, r.status, _dump(r.input),
            _dump(r.output), r.attempts, r.input_tokens, r.output_tokens, r.cost, r.model,
            r.started_at, r.ended_at, _dump(r.error), _dump(r.tool_calls) if r.tool_calls else None,
            r.seq,
        )  # fmt: skip
        self._queue(_SAVE_STEP, params)

    def get_step(self, execution_id: str, step_id: str) -> StepRecord | None:
        with self._guard:
            self._flush()
            row = self._conn.execute(_GET_STEP, (execution_id, step_id)).fetchone()
        return None if row is None else _step(row)

    def list_steps(self, execution_id: str) -> list[StepRecord]:
        with self._guard:
            self._flush()
            rows = self._conn.execute(_LIST_STEPS, (execution_id,)).fetchall()
        return [_step(r) for r in rows]

    # logs

    def append_log(
        self,
        execution_id: str,
        level: str,
        message: str,
        *,
        agent_role: str | None = None,
        step_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        params = (
            execution_id, time.time(), level, message, agent_role, step_id,
            _dump(dict(metadata)) if metadata else None,
        )  # fmt: skip
        self._queue(_APPEND_LOG, params)

    def list_logs(self, execution_id: str, *, after: int = 0, limit: int = 1000) -> list[LogRecord]:
        """Logs with ``seq > after``; poll with the last seq seen to follow a live execution."""
        params = (execution_id, after, max(1, min(int(limit), 10_000)))
        with self._guard:
            self._flush()
            rows = self._conn.execute(_LIST_LOGS, params).fetchall()
        return [_log(r) for r in rows]

    # usage

    def add_usage(self, owner: str, day: str, metrics: Mapping[str, float]) -> None:
        """Add to the day's counters; one transaction, so a reader never sees half an update."""
        rows = [(owner, day, str(metric), float(value)) for metric, value in metrics.items()]
        for row in rows:  # queued together, so they commit in the same transaction
            self._queue(_ADD_USAGE, row)

    def get_usage(self, owner: str, start_day: str, end_day: str) -> list[UsageRecord]:
        """One record per day that has usage in ``start_day..end_day`` (inclusive), oldest first."""
        with self._guard:
            self._flush()
            rows = self._conn.execute(_GET_USAGE, (owner, start_day, end_day)).fetchall()
        days: list[UsageRecord] = []
        for day, metric, value in rows:
            if not days or days[-1].day != day:
                days.append(UsageRecord(owner, day))
            days[-1].metrics[metric] = value
        return days

    def close(self) -> None:
        with self._guard:
            self._closed = True
            self._wake.set()
        self._finalizer()  # commits what is queued, then closes the connection

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
