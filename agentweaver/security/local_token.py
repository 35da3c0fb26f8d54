"""The embedded server's bearer token, and the owner-only secret files it (and the local key
vault) live in.

The embedded server listens on localhost, but localhost is shared with every other user and
every browser tab on the machine: a token that only this user can read is what tells "this
user's CLI or UI" apart from "anything else that can open a socket". That only holds if the
file is never readable by anyone else, so:

* it is created with ``os.open(..., 0o600)`` under a temporary name and published with a
  hard link, so it is never visible with wider permissions (not even between ``open`` and a
  ``chmod``) and never half-written; two processes racing to create it end up sharing
  whichever was linked first;
* an existing file is opened without following symlinks and checked on the open descriptor
  (no check-then-open race): it must be a regular file owned by this user with no
  group/other permission bits, otherwise we refuse rather than "fix" it, since a file
  someone else could read must be assumed leaked.

On Windows POSIX modes and owners mean nothing; the checks are skipped there and the file
relies on the user profile's ACLs.
"""

from __future__ import annotations

import errno
import hmac
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from agentweaver.exceptions import ConfigurationError

__all__ = [
    "LOCAL_TOKEN_FILE",
    "check_local_token",
    "load_or_create_local_token",
    "read_or_create_secret_file",
]

LOCAL_TOKEN_FILE = "local_token"
_MAX_SECRET_FILE = 4096  # a token or a key is tiny; anything bigger is not ours
_POSIX = os.name != "nt"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def load_or_create_local_token(home: Path) -> str:
    """The token in ``home/local_token``, created (random, 256 bits) if there is none.

    Raises ``ConfigurationError`` if the file is readable by others, owned by someone else,
    a symlink, or does not hold a token; the message names the file and the fix.
    """
    path = Path(home) / LOCAL_TOKEN_FILE
    raw = read_or_create_secret_file(
        path,
        lambda: (secrets.token_urlsafe(32) + "\n").encode(),
        remedy="delete it (a new token is made; clients must pick up the new one)",
    )
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        token = ""
    if len(token) < 16 or not set(token) <= _TOKEN_CHARS:
        raise ConfigurationError(
            f"{path} does not hold a valid token (16+ URL-safe characters); "
            "delete it and a new one is made"
        )
    return token


def check_local_token(expected: str, presented: str | None) -> bool:
    """Whether ``presented`` is the local token, compared in constant time.

    ``hmac.compare_digest`` so the time taken does not reveal how many leading characters a
    guess got right (only the length can leak, and the length is public). Both sides are
    encoded first because ``compare_digest`` refuses non-ASCII ``str``; ``surrogatepass``
    makes any header value encodable, so a junk header is a plain ``False``.
    """
    if not expected or not presented:
        return False
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), presented.encode("utf-8", "surrogatepass")
    )


def read_or_create_secret_file(
    path: Path, create: Callable[[], bytes], *, remedy: str = ""
) -> bytes:
    """The bytes of an owner-only secret file, creating it from ``create()`` if missing.

    Shared by the local token and the local key vault's key so both get the same creation
    and permission rules (see the module docstring). Raises ``ConfigurationError``;
    ``remedy`` says what to do about an exposed file, which differs per secret (a token can
    be replaced, a vault key cannot without losing what it encrypted).
    """
    path = Path(path)
    data = _read_checked(path, remedy)
    if data is None:
        _create(path, create())
        data = _read_checked(path, remedy)
        if data is None:
            raise ConfigurationError(f"{path} disappeared right after it was created")
    return data


def _read_checked(path: Path, remedy: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigurationError(f"{path} is a symbolic link; refusing to use it") from None
        raise ConfigurationError(f"cannot open {path}: {exc.strerror}") from None
    try:
        _check_owner_only(path, os.fstat(fd), remedy)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, _MAX_SECRET_FILE + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > _MAX_SECRET_FILE:
                raise ConfigurationError(f"{path} is too large to be a secret file")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _check_owner_only(path: Path, st: os.stat_result, remedy: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ConfigurationError(f"{path} is not a regular file; refusing to use it")
    if not _POSIX:
        return
    if st.st_uid != os.getuid():
        raise ConfigurationError(
            f"{path} is owned by another user (uid {st.st_uid}); refusing to use it"
        )
    if st.st_mode & 0o077:
        raise ConfigurationError(
            f"{path} is accessible to group or others (mode {stat.S_IMODE(st.st_mode):04o}), "
            f"so its secret may have leaked; {remedy + ', or ' if remedy else ''}"
            f"if you are sure no one else read it, run `chmod 600 {path}`"
        )


def _create(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        _write_new(tmp, data)
    except OSError as exc:
        raise ConfigurationError(f"cannot create {path}: {exc.strerror}") from None
    try:
        os.link(tmp, path)  # atomic and never replaces: a concurrent creator's file wins
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: create in place, still exclusive
        try:
            _write_new(path, data)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigurationError(f"cannot create {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet, with mode 0600 from its first instant."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
    try:
        if _POSIX:
            os.fchmod(fd, 0o600)  # the umask may have removed our own bits; never adds others
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
