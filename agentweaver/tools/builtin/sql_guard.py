"""The statement check behind ``sql_query``: one read-only SELECT, decided on tokens.

Why a lexer and not regexes: a regex cannot tell the ``;`` in ``'a; b'`` or ``/* ; */`` from
one that separates statements, and a guard that disagrees with the database about where a
string or comment ends is a guard an attacker walks through. So the lexer follows each
dialect's rules (PostgreSQL: nested block comments, ``E''`` backslash escapes, dollar quotes;
SQLite: flat comments, ``--`` ending at ``\\n`` only, backtick and bracket identifiers) and
refuses what it cannot read (unterminated literals, NUL bytes, ``U&"..."`` identifiers).

This check is the first layer only: the connection itself is read-only (see ``sql.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agentweaver.exceptions import ToolError

__all__ = ["Dialect", "Token", "check_query", "table_refs", "tokenize"]

Dialect = Literal["sqlite", "postgresql"]

_RULE = "sql_query runs exactly one read-only SELECT (or WITH ... SELECT)"
_WRITES = "it changes data or schema"
_WRITE_WORDS = "insert update delete merge upsert truncate drop create alter grant revoke returning"
# Unquoted words refused anywhere in the statement (a SELECT never needs them).
_DENIED_WORDS: dict[str, str] = {
    **dict.fromkeys(_WRITE_WORDS.split(), _WRITES),
    "into": "SELECT ... INTO creates a table",
    "pragma": "pragmas change database settings",
    "attach": "it opens another database file",
    "detach": "it changes the attached databases",
    "vacuum": "it rewrites the database (VACUUM INTO writes a new file)",
    "reindex": "it rebuilds indexes",
    "copy": "COPY reads or writes files",
    "call": "procedures may write",
    "do": "DO runs procedural code",
    "set": "SET changes session settings",
    "lock": "it takes table locks",
    "nowait": "it belongs to a row-locking clause",
}
_COLUMN_LIKE = frozenset({"call", "copy", "do", "set", "lock", "merge", "returning"})
# Functions with side effects (writes, files, other servers, sessions, locks) in either dialect.
_DENIED_FUNCTIONS = frozenset(
    """load_extension writefile readfile fts3_tokenizer lo_import lo_export lo_unlink
    lo_create lo_creat lo_from_bytea lo_put lo_truncate lo_truncate64 lo_open lo_write lowrite
    lo_close set_config nextval setval txid_current pg_current_xact_id pg_terminate_backend
    pg_cancel_backend pg_reload_conf pg_rotate_logfile pg_notify pg_switch_wal pg_promote
    pg_stat_file cursor_to_xml cursor_to_xmlschema pg_log_backend_memory_contexts
    pg_import_system_collations""".split()  # noqa: SIM905
)
_DENIED_PREFIXES = tuple(
    """dblink pg_advisory pg_try_advisory pg_read_ pg_ls_ pg_stat_reset pg_file_
    pg_replication_origin pg_create_ pg_drop_ pg_wal_ pg_backup_ pg_logical_ query_to_xml""".split()  # noqa: SIM905
)
_LOCK_AFTER_FOR = frozenset({"update", "share", "no", "key"})
# Words that end a FROM item (so they are not taken for an alias).
_CLAUSE_WORDS = frozenset(
    """where join inner left right full outer cross natural on using group order limit offset
    union except intersect having window fetch for tablesample select from as indexed not""".split()  # noqa: SIM905
)
_DIGITS = "0123456789"
_DIGITS_NONEMPTY = tuple(_DIGITS)
_NUMBER = re.compile(r"[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")


@dataclass(frozen=True)
class Token:
    """``kind``: word (unquoted, lowercased), ident (quoted identifier), string, number, punct."""

    kind: str
    text: str
    start: int


def refuse(reason: str) -> ToolError:
    return ToolError(f"query refused: {reason}. {_RULE}; nothing was run.")


def _ident_char(c: str) -> bool:
    return c.isalnum() or c in "_$" or ord(c) > 127


def _quoted(sql: str, i: int, close: str, backslash: bool = False) -> tuple[int, str]:
    """Index after the literal opening at ``i`` and its body; a doubled ``close`` escapes."""
    out: list[str] = []
    j = i + 1
    while j < len(sql):
        c = sql[j]
        if backslash and c == "\\" and j + 1 < len(sql):
            out.append(sql[j + 1])
            j += 2
            continue
        if c == close:
            if close != "]" and sql.startswith(close * 2, j):
                out.append(close)
                j += 2
                continue
            return j + 1, "".join(out)
        out.append(c)
        j += 1
    raise refuse(f"unterminated quoted text starting at character {i}")


def _block_comment_end(sql: str, i: int, nested: bool) -> int:
    depth, j = 0, i
    while j < len(sql):
        if sql.startswith("/*", j):
            depth = depth + 1 if nested or depth == 0 else depth
            j += 2
        elif sql.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    raise refuse(f"unterminated /* comment starting at character {i}")


def tokenize(sql: str, dialect: Dialect) -> list[Token]:
    """The statement's tokens, comments dropped; raises ``ToolError`` on unreadable input."""
    tokens: list[Token] = []
    pg = dialect == "postgresql"
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in " \t\n\r\f\v":
            i += 1
        elif sql.startswith("--", i):  # to the end of the line, as each dialect defines it
            ends = [p for p in (sql.find("\n", i), sql.find("\r", i) if pg else -1) if p != -1]
            i = min(ends) if ends else n
        elif sql.startswith("/*", i):
            i = _block_comment_end(sql, i, nested=pg)
        elif c == "'":
            end, body = _quoted(sql, i, "'")
            tokens.append(Token("string", body, i))
            i = end
        elif c == '"' or (not pg and c in "`["):
            end, body = _quoted(sql, i, {"[": "]"}.get(c, c))
            tokens.append(Token("ident", body, i))
            i = end
        elif pg and c == "$" and (tag := _DOLLAR_TAG.match(sql, i)):
            close = sql.find(tag.group(), tag.end())
            if close == -1:
                raise refuse(f"unterminated dollar-quoted string starting at character {i}")
            tokens.append(Token("string", sql[tag.end() : close], i))
            i = close + len(tag.group())
        elif c in _DIGITS or (c == "." and sql[i + 1 : i + 2] in _DIGITS_NONEMPTY):
            match = _NUMBER.match(sql, i)
            end = max(match.end() if match else 0, i + 1)
            tokens.append(Token("number", sql[i:end], i))
            i = end
        elif _ident_char(c):
            j = i + 1
            while j < n and _ident_char(sql[j]):
                j += 1
            word = sql[i:j].lower()
            if pg and word == "e" and sql.startswith("'", j):  # E'...': backslash escapes
                end, body = _quoted(sql, j, "'", backslash=True)
                tokens.append(Token("string", body, i))
                i = end
                continue
            if pg and word == "u" and sql.startswith('&"', j):
                raise refuse('Unicode-escaped identifiers (U&"...") are not allowed')
            tokens.append(Token("word", word, i))
            i = j
        else:
            tokens.append(Token("punct", c, i))
            i += 1
    return tokens


def _denied_function(name: str) -> bool:
    return name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES)


def check_query(sql: str, dialect: Dialect) -> tuple[str, list[Token]]:
    """The statement to run (a trailing ``;`` cut off) and its tokens, or ``ToolError``."""
    if "\x00" in sql:
        raise refuse("the query contains a NUL character")
    tokens = tokenize(sql, dialect)
    semicolons = [k for k, t in enumerate(tokens) if t.kind == "punct" and t.text == ";"]
    body = sql
    if semicolons and semicolons != [len(tokens) - 1]:
        raise refuse("it holds more than one statement (';' may only end the query)")
    if semicolons:
        body = sql[: tokens[-1].start]
        tokens = tokens[:-1]
    if not tokens:
        raise refuse("the query is empty")
    first = tokens[0]
    if first.kind != "word" or first.text not in ("select", "with"):
        shown = first.text.upper() if first.kind == "word" else repr(first.text)
        why = _DENIED_WORDS.get(first.text, "") if first.kind == "word" else ""
        raise refuse(f"{shown} is not allowed ({why})" if why else f"it starts with {shown}")
    for k, token in enumerate(tokens):
        after = tokens[k + 1] if k + 1 < len(tokens) else None
        if token.kind == "word":
            locking = after is not None and after.kind == "word" and after.text in _LOCK_AFTER_FOR
            if token.text == "for" and locking:
                raise refuse("FOR UPDATE/FOR SHARE is not allowed (it locks rows)")
            if token.text in _DENIED_WORDS:
                reason = _DENIED_WORDS[token.text]
                hint = ""
                if token.text in _COLUMN_LIKE:
                    hint = f' (write a column named {token.text} as "{token.text}")'
                raise refuse(f"{token.text.upper()} is not allowed ({reason}){hint}")
        if token.kind in ("word", "ident") and _denied_function(token.text.lower()):
            raise refuse(f"the function {token.text.lower()}() is not allowed (side effects)")
    return body, tokens


def _matching(tokens: list[Token], k: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``k`` (or the end)."""
    depth = 0
    for j in range(k, len(tokens)):
        if tokens[j].kind == "punct" and tokens[j].text in "()":
            depth += 1 if tokens[j].text == "(" else -1
            if depth == 0:
                return j
    return len(tokens) - 1


def _is(tokens: list[Token], k: int, kind: str, text: str | None = None) -> bool:
    return k < len(tokens) and tokens[k].kind == kind and (text is None or tokens[k].text == text)


def _name_at(tokens: list[Token], k: int) -> bool:
    return _is(tokens, k, "ident") or (
        _is(tokens, k, "word") and tokens[k].text not in _CLAUSE_WORDS
    )


def _cte_names(tokens: list[Token]) -> set[str]:
    """Names a WITH clause defines: ``name [(cols)] AS [NOT] [MATERIALIZED] (``."""
    names: set[str] = set()
    for k, token in enumerate(tokens):
        if token.kind not in ("word", "ident"):
            continue
        j = _matching(tokens, k + 1) + 1 if _is(tokens, k + 1, "punct", "(") else k + 1
        if not _is(tokens, j, "word", "as"):
            continue
        j += 1
        while _is(tokens, j, "word") and tokens[j].text in ("not", "materialized"):
            j += 1
        if _is(tokens, j, "punct", "("):
            names.add(token.text.lower())
    return names


def _from_items(tokens: list[Token], k: int, refs: set[str]) -> None:
    """Collect the table names of the FROM list (or JOIN target) starting at ``k``."""
    while k < len(tokens):
        while _is(tokens, k, "word") and tokens[k].text in ("only", "lateral"):
            k += 1
        if _is(tokens, k, "punct", "("):  # a subquery: the caller walks its tokens too
            k = _matching(tokens, k) + 1
        elif _name_at(tokens, k):
            parts = [tokens[k].text.lower()]
            k += 1
            while _is(tokens, k, "punct", ".") and _name_at(tokens, k + 1):
                parts.append(tokens[k + 1].text.lower())
                k += 2
            if _is(tokens, k, "punct", "("):  # a table function, not a table
                k = _matching(tokens, k) + 1
            else:
                refs.add(".".join(parts))
        else:
            return
        if _is(tokens, k, "word", "as"):
            k += 1
        if _name_at(tokens, k):
            k += 1
            if _is(tokens, k, "punct", "("):  # column aliases
                k = _matching(tokens, k) + 1
        if not _is(tokens, k, "punct", ","):
            return
        k += 1


def table_refs(tokens: list[Token]) -> set[str]:
    """Tables (dotted, lowercased) the statement reads in FROM and JOIN: best effort.

    A FROM counts only at a parenthesis level where a SELECT began, so ``EXTRACT(YEAR FROM
    x)`` and ``substring(s FROM 2)`` are not read as tables; names a WITH defines are skipped.
    """
    refs: set[str] = set()
    in_select = [False]
    for k, token in enumerate(tokens):
        if token.kind == "punct" and token.text == "(":
            in_select.append(False)
        elif token.kind == "punct" and token.text == ")":
            if len(in_select) > 1:
                in_select.pop()
        elif token.kind == "word" and token.text == "select":
            in_select[-1] = True
        elif token.kind == "word" and (
            token.text == "join" or (token.text == "from" and in_select[-1])
        ):
            _from_items(tokens, k + 1, refs)
    return refs - _cte_names(tokens)
