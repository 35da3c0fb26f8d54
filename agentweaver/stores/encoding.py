"""How values and listing positions become strings; shared by every backend.

JSON-ish fields (inputs, outputs, definitions, errors, metadata) are stored as compact JSON
text; a value JSON cannot represent natively (a datetime, a path) is stored as its ``str``,
so recording a step never fails over a type the model's output happened to carry.

The cursor of ``Store.page_executions`` is the position of the last execution a page
returned: ``(created_at, execution_id)``, the key the listing is ordered by (newest first,
ties broken by id).
A position rather than a backend's own continuation token (an SQL offset, a DynamoDB
``LastEvaluatedKey``) because it stays right when rows are inserted between two calls, it
cannot skip or repeat an item when a filtered DynamoDB page stops early, and it is the same
string whichever backend answers.

It is URL-safe base64 of a small JSON array with a version tag, checked strictly on the way
in: anything malformed raises ``InvalidData``. It is not signed: a well-formed cursor made up
by a client is only a position inside that client's own partition (the owner never comes from
the cursor), so it can reveal nothing another listing could not.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from agentweaver.exceptions import InvalidData, StoreError

__all__ = ["MAX_PAGE", "clamp_limit", "decode_cursor", "dump_json", "encode_cursor", "load_json"]

MAX_PAGE = 1000
_TAG = "x1"  # bump when the shape changes: old cursors then fail cleanly as invalid
_MAX_CHARS = 1024
_MAX_ID = 256
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_INVALID = "invalid pagination cursor"

# Built once: json.dumps(..., default=str) would build a new encoder on every call.
_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode


def dump_json(value: Any) -> str | None:
    """Compact JSON text, ``None`` for ``None``; ``StoreError`` for what cannot be encoded."""
    if value is None:
        return None
    try:
        return _encode(value)
    except (TypeError, ValueError) as exc:  # circular data, non-string keys
        raise StoreError(f"cannot store value as JSON: {exc}") from exc


def load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def clamp_limit(limit: int) -> int:
    """A page size between 1 and ``MAX_PAGE`` whatever the caller asked for."""
    return max(1, min(int(limit), MAX_PAGE))


def encode_cursor(created_at: float, execution_id: str) -> str:
    raw = json.dumps([_TAG, float(created_at), execution_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """``(created_at, execution_id)`` of a cursor ``encode_cursor`` made, else ``InvalidData``."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= _MAX_CHARS:
        raise InvalidData(_INVALID)
    if _ALPHABET.fullmatch(cursor) is None:
        raise InvalidData(_INVALID)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError included
        raise InvalidData(_INVALID) from None
    if not isinstance(data, list) or len(data) != 3 or data[0] != _TAG:
        raise InvalidData(_INVALID)
    created_at, execution_id = data[1], data[2]
    if isinstance(created_at, bool) or not isinstance(created_at, int | float):
        raise InvalidData(_INVALID)
    if not math.isfinite(created_at):
        raise InvalidData(_INVALID)
    if not isinstance(execution_id, str) or not 0 < len(execution_id) <= _MAX_ID:
        raise InvalidData(_INVALID)
    return float(created_at), execution_id
