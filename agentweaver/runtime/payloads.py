"""Large step outputs travel by reference, so no execution hits Step Functions' 256 KB limit.

A value whose JSON is larger than the threshold (64 KB by default; less inside a Map, where
the Map collects every item's value into one list) is written to a ``PayloadStore`` (S3 on
AWS, a directory beside the local store embedded) and replaced in the state by a small
reference::

    {"agentweaver_ref": "<owner>/<execution id>/<sha256>.json", "bytes": n, "sha256": "..."}

Objects are content-addressed, so a redelivered step writes the same object. The agent-step
function resolves references in a step's input before the agent sees it, so agents never
see one. A reference names its tenant and execution: resolving one from another execution
is refused, as is one whose content does not match its digest.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

from agentweaver.exceptions import InvalidData, StoreError
from agentweaver.tools.sandbox_paths import safe_segment

__all__ = ["REF_KEY", "DirectoryPayloads", "PayloadStore", "Payloads", "is_ref"]

REF_KEY = "agentweaver_ref"


class PayloadStore(Protocol):
    """Where offloaded payloads live: ``put`` and ``get`` by key (``<owner>/<exec>/<sha>``)."""

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...


class DirectoryPayloads:
    """Payloads as files under a directory (embedded, and tests)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 3 or any(p in ("", ".", "..") or "\\" in p for p in parts):
            raise InvalidData(f"payload reference {key!r} is not <owner>/<execution>/<name>")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StoreError(f"payload {key!r} is missing") from None


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get(REF_KEY), str)


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Payloads:
    """Offload and resolve for one execution; without a store, values stay inline."""

    def __init__(
        self, store: PayloadStore | None, owner: str, execution_id: str, threshold: int
    ) -> None:
        self.store = store
        self.prefix = (
            f"{safe_segment(owner, 'tenant')}/{safe_segment(execution_id, 'execution id')}"
        )
        self.threshold = threshold

    def offload(self, value: Any, what: str = "", *, room: int | None = None) -> Any:
        """``value``, or a reference to it when its JSON is over the threshold (or ``room``)."""
        if self.store is None or value is None or isinstance(value, bool | int | float):
            return value
        limit = self.threshold if room is None else min(self.threshold, room)
        data = _encode(value)
        if len(data) <= max(limit, 256):  # a reference is ~150 bytes: never worth it below
            return value
        digest = hashlib.sha256(data).hexdigest()
        key = f"{self.prefix}/{digest}.json"
        self.store.put(key, data)
        return {REF_KEY: key, "bytes": len(data), "sha256": digest}

    def resolve(self, value: Any) -> Any:
        """``value`` with every reference in it (top level, list items, dict values) loaded."""
        if is_ref(value):
            return self._load(value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def _load(self, ref: dict[str, Any]) -> Any:
        key = ref[REF_KEY]
        if not key.startswith(self.prefix + "/"):
            raise InvalidData(f"payload reference {key!r} belongs to another execution")
        if self.store is None:
            raise StoreError(f"payload {key!r} cannot be read: no payload store is configured")
        data = self.store.get(key)
        if hashlib.sha256(data).hexdigest() != ref.get("sha256"):
            raise StoreError(f"payload {key!r} does not match its digest")
        return json.loads(data)
