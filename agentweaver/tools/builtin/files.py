"""File tools: ``read_file``, ``write_file`` and ``list_files`` inside a per-execution sandbox.

Why a sandbox: the model picks the path, and whatever it read (a web page, a document) may
try to make it read ``/etc/passwd`` or overwrite a neighbour's files. Each tenant and
execution gets its own root: a local directory (``ToolContext.sandbox``, from the runner's
``sandbox_root``) or an S3 prefix (``<prefix>/<tenant>/<execution id>/`` in a bucket, see
``agentweaver.aws.s3_sandbox``). Paths go through ``sandbox_paths.split_path`` on both;
locally, symbolic links are then resolved and the real path must stay inside the real root,
and files are opened one directory at a time with ``O_NOFOLLOW`` so a link swapped in after
the check is refused too.

Configuration (``tool_settings: files:``), never from the model: ``max_bytes`` (default 1 MB,
for reading and writing), ``read_only``, ``max_entries`` (listing bound, default 200),
``backend`` (``local`` or ``s3``), and for S3 ``bucket`` and ``prefix`` (default ``sandbox``).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools.base import Tool, tool
from agentweaver.tools.context import ToolContext
from agentweaver.tools.sandbox_paths import is_within, split_path

__all__ = [
    "TOOLS",
    "FileSettings",
    "LocalSandbox",
    "SandboxBackend",
    "list_files",
    "read_file",
    "write_file",
]

SETTINGS_KEY = "files"
_DEFAULT_MAX_BYTES = 1_000_000
_DEFAULT_MAX_ENTRIES = 200
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted in the sandbox must not hang us
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FD = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd

Listing = list[tuple[str, int | None]]  # (name, size); directories end with "/", size None


class SandboxBackend(Protocol):
    """What a storage needs to offer; it validates ``path`` with ``split_path`` itself."""

    def read(self, path: str, limit: int) -> bytes: ...

    def write(self, path: str, data: bytes) -> None: ...

    def listdir(self, path: str, limit: int) -> tuple[Listing, bool]: ...


@dataclass(frozen=True)
class FileSettings:
    """The ``files`` settings, checked once per call so a typo fails loudly, not open."""

    max_bytes: int = _DEFAULT_MAX_BYTES
    read_only: bool = False
    max_entries: int = _DEFAULT_MAX_ENTRIES
    backend: str = "local"
    bucket: str = ""
    prefix: str = "sandbox"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> FileSettings:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigurationError(f"tool_settings.files: unknown keys {unknown}")
        made = cls(**raw)
        for key in ("max_bytes", "max_entries"):
            value = getattr(made, key)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigurationError(f"tool_settings.files.{key} must be a positive integer")
        if not isinstance(made.read_only, bool):
            raise ConfigurationError("tool_settings.files.read_only must be true or false")
        if made.backend not in ("local", "s3"):
            raise ConfigurationError("tool_settings.files.backend must be 'local' or 's3'")
        if not isinstance(made.bucket, str) or not isinstance(made.prefix, str):
            raise ConfigurationError("tool_settings.files.bucket and prefix must be strings")
        if made.backend == "s3" and not made.bucket:
            raise ConfigurationError("tool_settings.files.bucket is required with backend s3")
        return made


def _oserror(path: str, exc: OSError) -> ToolError:
    """An OS error as advice for the model, without the host's absolute paths."""
    if isinstance(exc, FileNotFoundError):
        return ToolError(f"{path!r} does not exist in the sandbox; list_files shows what does")
    if isinstance(exc, IsADirectoryError):
        return ToolError(f"{path!r} is a directory; use list_files on it")
    if isinstance(exc, NotADirectoryError):
        return ToolError(f"a parent of {path!r} is a file, not a directory")
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return ToolError(f"{path!r} refused: it changed into a symbolic link while opening")
    if exc.errno == errno.ENAMETOOLONG:
        return ToolError(f"{path!r} is too long for the file system")
    return ToolError(f"{path!r}: {exc.strerror or type(exc).__name__}")


class LocalSandbox:
    """A directory per tenant and execution; nothing outside its real path is ever opened."""

    def __init__(self, root: Path) -> None:
        if ".." in root.parts:
            raise ToolError("the sandbox directory may not contain '..'")
        self.root = root

    def _real_root(self) -> str:
        """Create the sandbox on first use, private to this user (0o700), and resolve it."""
        if not self.root.is_dir():
            self.root.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                self.root.mkdir(mode=0o700)
                os.chmod(self.root, 0o700)  # whatever the umask
            except FileExistsError:
                pass
        return os.path.realpath(self.root)

    def _relative(self, path: str, *, allow_root: bool = False) -> tuple[str, tuple[str, ...]]:
        """The real root and the resolved segments below it, or refused if links lead out."""
        parts = split_path(path, allow_root=allow_root)
        root = self._real_root()
        real = os.path.realpath(os.path.join(root, *parts))
        if not is_within(root, real):
            raise ToolError(
                f"path {path!r} refused: it leads outside the sandbox through a symbolic link"
            )
        relative = Path(real).relative_to(root).parts
        if not relative and not allow_root:
            raise ToolError(f"path {path!r} is the sandbox directory itself: give a file name")
        return root, relative

    @contextmanager
    def _directory(self, root: str, parts: tuple[str, ...], create: bool) -> Iterator[int]:
        """An fd for ``root/parts``, opened a segment at a time without following links."""
        fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        try:
            if not _DIR_FD:  # no openat here: one path-based open (links were checked above)
                if create:
                    os.makedirs(os.path.join(root, *parts), mode=0o700, exist_ok=True)
                if parts:
                    inner = os.path.join(root, *parts)
                    os.close(fd)
                    fd = os.open(inner, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
                yield fd
                return
            for part in parts:
                flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
                try:
                    child = os.open(part, flags, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(part, 0o700, dir_fd=fd)
                    except FileExistsError:
                        pass
                    child = os.open(part, flags, dir_fd=fd)
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _open_file(self, root: str, parts: tuple[str, ...], flags: int, create: bool) -> int:
        with self._directory(root, parts[:-1], create) as parent:
            flags |= _NOFOLLOW | _NONBLOCK | _CLOEXEC
            if _DIR_FD:
                return os.open(parts[-1], flags, 0o600, dir_fd=parent)
            return os.open(os.path.join(root, *parts), flags, 0o600)

    @staticmethod
    def _check_regular(path: str, fd: int) -> os.stat_result:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ToolError(f"{path!r} is a directory; use list_files on it")
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{path!r} is not a regular file")
        if info.st_nlink > 1:  # a hard link could share its data with a file outside
            raise ToolError(f"{path!r} refused: it has other hard links")
        return info

    def read(self, path: str, limit: int) -> bytes:
        root, parts = self._relative(path)
        try:
            fd = self._open_file(root, parts, os.O_RDONLY, create=False)
            with os.fdopen(fd, "rb") as handle:
                size = self._check_regular(path, fd).st_size
                if size > limit:
                    raise ToolError(f"{path!r} is {size} bytes, over the {limit}-byte limit")
                data = handle.read(limit + 1)
        except OSError as exc:
            raise _oserror(path, exc) from None
        if len(data) > limit:
            raise ToolError(f"{path!r} is over the {limit}-byte limit")
        return data

    def write(self, path: str, data: bytes) -> None:
        root, parts = self._relative(path)
        try:
            fd = self._open_file(root, parts, os.O_WRONLY | os.O_CREAT, create=True)
            with os.fdopen(fd, "wb") as handle:
                self._check_regular(path, fd)
                os.ftruncate(fd, 0)  # only now: checked that it is ours to overwrite
                handle.write(data)
        except OSError as exc:
            raise _oserror(path, exc) from None

    def listdir(self, path: str, limit: int) -> tuple[Listing, bool]:
        root, parts = self._relative(path, allow_root=True)
        found: Listing = []
        truncated = False
        try:
            with (
                self._directory(root, parts, create=False) as fd,
                os.scandir(fd if _DIR_FD else os.path.join(root, *parts)) as entries,
            ):
                for entry in entries:
                    if len(found) >= limit:
                        truncated = True
                        break
                    if entry.is_symlink():
                        found.append((f"{entry.name}@", None))
                    elif entry.is_dir(follow_symlinks=False):
                        found.append((f"{entry.name}/", None))
                    else:
                        found.append((entry.name, entry.stat(follow_symlinks=False).st_size))
        except OSError as exc:
            raise _oserror(path, exc) from None
        return sorted(found), truncated


def _backend(ctx: ToolContext, settings: FileSettings) -> SandboxBackend:
    if settings.backend == "s3":
        from agentweaver.aws.s3_sandbox import S3Sandbox

        return S3Sandbox(settings.bucket, settings.prefix, ctx.tenant, ctx.execution_id)
    if ctx.sandbox is None:
        raise ToolError(
            "file tools need a sandbox directory, and none is configured: run with a "
            "sandbox_root (LocalRunner(sandbox_root=...)) or set tool_settings.files.backend"
        )
    return LocalSandbox(ctx.sandbox)


def _setup(ctx: ToolContext) -> tuple[FileSettings, SandboxBackend]:
    settings = FileSettings.from_mapping(ctx.settings_for(SETTINGS_KEY))
    return settings, _backend(ctx, settings)


@tool(register=False)
def read_file(path: str, ctx: ToolContext) -> str:
    """Read a UTF-8 text file from this run's private sandbox directory.

    ``path`` is relative to the sandbox root (for example ``notes/summary.md``); absolute
    paths, ``..`` and links leading out are refused. Binary files are not returned: you get
    their size instead. Use list_files to see what exists.
    """
    settings, backend = _setup(ctx)
    data = backend.read(path, settings.max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        return f"{path} is a binary file ({len(data)} bytes); read_file only returns text"
    return text


@tool(register=False)
def write_file(path: str, content: str, ctx: ToolContext) -> str:
    """Write a UTF-8 text file into this run's private sandbox directory, replacing it.

    ``path`` is relative to the sandbox root (for example ``reports/draft.md``); missing
    parent directories are created. Absolute paths and ``..`` are refused.
    """
    settings, backend = _setup(ctx)
    if settings.read_only:
        raise ToolError("the sandbox is read-only for this workflow: you may only read files")
    try:
        data = content.encode("utf-8")
    except UnicodeEncodeError:
        raise ToolError("content is not valid Unicode text (a lone surrogate)") from None
    if len(data) > settings.max_bytes:
        raise ToolError(
            f"content is {len(data)} bytes, over the {settings.max_bytes}-byte limit; "
            "split it into several files"
        )
    backend.write(path, data)
    return f"wrote {len(data)} bytes to {path}"


@tool(register=False)
def list_files(path: str = ".", *, ctx: ToolContext) -> dict[str, Any]:
    """List a directory of this run's private sandbox (default: its root), one level deep.

    Names ending in ``/`` are directories (list them in turn), ``@`` marks a symbolic link
    (not part of the name); files come with their size in bytes. Long listings are cut off
    and say so.
    """
    settings, backend = _setup(ctx)
    entries, truncated = backend.listdir(path, settings.max_entries)
    return {
        "path": path,
        "entries": [
            {"name": name} if size is None else {"name": name, "size": size}
            for name, size in entries
        ],
        "truncated": truncated,
    }


TOOLS: list[Tool] = [read_file, write_file, list_files]
