"""Sandbox path validation shared by every file backend (a local directory, an S3 prefix).

Why one pure function: the model chooses the path, and the model may have read a web page
written by an attacker. Whatever the storage, a path is first reduced to a tuple of plain
name segments, or refused, by the same rules, so the local and S3 backends cannot drift
apart. The rules are deliberately stricter than the operating system's: no ``..`` segment
at all (even one that would stay inside), no absolute or drive-letter paths, no ``~``, no
control characters, no percent-encoded dots or separators (at any depth of encoding), and
no Unicode look-alikes that compatibility normalisation turns into dots or slashes. Every
message says what to send instead, because the model reads it and tries again.

Symbolic links are a property of a real filesystem, not of a string: the local backend
checks them (``is_within`` on resolved paths) after this validation.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import PurePath
from urllib.parse import unquote

from agentweaver.exceptions import ToolError

__all__ = [
    "MAX_DEPTH",
    "MAX_PATH_CHARS",
    "MAX_SEGMENT_BYTES",
    "is_within",
    "safe_segment",
    "split_path",
]

MAX_PATH_CHARS = 1024  # also the S3 key limit (in bytes): keep both backends alike
MAX_SEGMENT_BYTES = 255  # NAME_MAX on Linux and macOS
MAX_DEPTH = 32

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_ENCODED_BYTE = re.compile(r"%([0-9A-Fa-f]{2})")
_DANGEROUS_BYTES = {0x2E, 0x2F, 0x5C}  # . / \
_HINT = "use a relative path inside the sandbox such as 'notes/today.txt'"


def _refuse(path: str, why: str) -> ToolError:
    shown = path if len(path) <= 80 else f"{path[:80]}…"
    return ToolError(f"path {shown!r} refused: {why}; {_HINT}")


def _encoded_trick(text: str) -> bool:
    """True when percent-encoding (possibly nested: ``%252e``) hides a dot, slash or byte."""
    current = text
    for _ in range(5):
        for match in _ENCODED_BYTE.finditer(current):
            byte = int(match.group(1), 16)
            if byte in _DANGEROUS_BYTES or byte < 0x20 or byte >= 0x7F:
                return True
        decoded = unquote(current)
        if decoded == current:
            return False
        current = decoded
    return True  # encoded five levels deep: nobody names a file like that by accident


def _segments(text: str) -> list[str]:
    return [s for s in text.replace("\\", "/").split("/") if s not in ("", ".")]


def split_path(path: str, *, allow_root: bool = False) -> tuple[str, ...]:
    """The plain name segments of a relative sandbox path, or ``ToolError`` saying why not.

    Backslashes count as separators and ``.``/empty segments are dropped, so ``./a/./b.txt``
    and ``a\\b.txt`` both give ``("a", "b.txt")``. ``allow_root`` accepts ``""`` and ``"."``
    (the sandbox itself, for listing); reading or writing needs a file name.
    """
    if not isinstance(path, str):
        raise ToolError(f"path must be a string, got {type(path).__name__}")
    if "\x00" in path:
        raise _refuse(path, "it contains a NUL byte")
    if _CONTROL.search(path):
        raise _refuse(path, "it contains control characters")
    if len(path) > MAX_PATH_CHARS:
        raise _refuse(path, f"it is longer than {MAX_PATH_CHARS} characters")
    if not path.strip():
        if allow_root:
            return ()
        raise ToolError(f"path is empty: give a file name; {_HINT}")
    if _encoded_trick(path):
        raise _refuse(path, "it contains percent-encoded dots, slashes or bytes; use plain text")
    unified = path.replace("\\", "/")
    if unified.startswith("/"):
        raise _refuse(path, "absolute paths are not allowed")
    if _DRIVE.match(path):
        raise _refuse(path, "drive letters are not allowed")
    if unified.startswith("~"):
        raise _refuse(path, "'~' (a home directory) is not allowed")
    parts = _segments(path)
    if ".." in parts:
        raise _refuse(path, "'..' segments are not allowed")
    folded = unicodedata.normalize("NFKC", path)
    if folded != path and (
        ".." in _segments(folded)
        or folded.count("/") + folded.count("\\") != path.count("/") + path.count("\\")
        or _CONTROL.search(folded)
    ):
        raise _refuse(path, "it contains characters that look like dots or slashes")
    if len(parts) > MAX_DEPTH:
        raise _refuse(path, f"it is nested deeper than {MAX_DEPTH} directories")
    for part in parts:
        if len(part.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise _refuse(path, f"a name is longer than {MAX_SEGMENT_BYTES} bytes")
        if not part.strip():
            raise _refuse(path, "a name is only whitespace")
    if not parts and not allow_root:
        raise ToolError(f"path {path!r} names the sandbox itself: give a file name; {_HINT}")
    if unified.endswith("/") and not allow_root:
        raise _refuse(path, "it ends with '/': give a file name, not a directory")
    return tuple(parts)


def safe_segment(value: str, what: str) -> str:
    """``value`` if it is one plain name (a tenant, an execution id, a prefix part)."""
    if (
        not value
        or value in (".", "..")
        or value != value.strip()
        or any(sep in value for sep in ("/", "\\"))
        or _CONTROL.search(value)
        or len(value.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES
    ):
        raise ToolError(f"{what} {value!r} cannot name a sandbox directory")
    return value


def is_within(root: str | PurePath, candidate: str | PurePath) -> bool:
    """Whether ``candidate`` is ``root`` or below it, segment-wise (never a string prefix).

    Both must already be resolved (``os.path.realpath``): ``/tmp/sandbox-evil`` is not within
    ``/tmp/sandbox`` although the string starts the same way.
    """
    root_s, cand_s = os.fspath(root), os.fspath(candidate)
    if not (os.path.isabs(root_s) and os.path.isabs(cand_s)):
        return False
    try:
        return os.path.commonpath([root_s, cand_s]) == os.path.normpath(root_s)
    except ValueError:  # different drives on Windows
        return False
