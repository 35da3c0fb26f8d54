"""The embedded server's token file: owner-only from its first instant, refused otherwise."""

from __future__ import annotations

import hmac
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from agentweaver.exceptions import ConfigurationError
from agentweaver.security.local_token import (
    check_local_token,
    load_or_create_local_token,
    read_or_create_secret_file,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX modes and owners")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_creates_an_owner_only_token(tmp_path: Path) -> None:
    home = tmp_path / "nested" / "home"
    token = load_or_create_local_token(home)
    path = home / "local_token"
    assert len(token) >= 43
    assert mode(path) == 0o600
    assert path.stat().st_uid == os.getuid()
    assert path.read_text().strip() == token
    assert load_or_create_local_token(home) == token  # stable across restarts
    assert sorted(p.name for p in home.iterdir()) == ["local_token"]  # no temp file left


def test_tokens_differ_between_homes(tmp_path: Path) -> None:
    assert load_or_create_local_token(tmp_path / "a") != load_or_create_local_token(tmp_path / "b")


@posix_only
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_mode_is_exactly_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        load_or_create_local_token(tmp_path)
    finally:
        os.umask(old)
    assert mode(tmp_path / "local_token") == 0o600


@posix_only
def test_never_created_with_wider_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file created on the way is opened with mode 0600 and O_EXCL: no chmod window."""
    real_open = os.open
    created: list[tuple[str, int, int]] = []

    def spy(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append((str(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    load_or_create_local_token(tmp_path)
    assert created
    for _path, flags, made_with in created:
        assert made_with == 0o600
        assert flags & os.O_EXCL


@posix_only
@pytest.mark.parametrize("loose", [0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o610])
def test_refuses_a_file_others_can_access(tmp_path: Path, loose: int) -> None:
    load_or_create_local_token(tmp_path)
    path = tmp_path / "local_token"
    path.chmod(loose)
    with pytest.raises(ConfigurationError, match="group or others") as caught:
        load_or_create_local_token(tmp_path)
    assert str(path) in str(caught.value)
    assert f"{loose:04o}" in str(caught.value)
    assert mode(path) == loose  # refused, not silently "fixed"


@posix_only
def test_refuses_a_file_owned_by_someone_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_or_create_local_token(tmp_path)
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    with pytest.raises(ConfigurationError, match="owned by another user"):
        load_or_create_local_token(tmp_path)


@posix_only
def test_refuses_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    load_or_create_local_token(target)
    tmp_path.joinpath("home").mkdir()
    (tmp_path / "home" / "local_token").symlink_to(target / "local_token")
    with pytest.raises(ConfigurationError, match="symbolic link"):
        load_or_create_local_token(tmp_path / "home")


def test_refuses_a_directory(tmp_path: Path) -> None:
    (tmp_path / "local_token").mkdir(mode=0o700)
    with pytest.raises(ConfigurationError):
        load_or_create_local_token(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"\n", b"short\n", b"has spaces in the token ok\n", "ünïcödé-token-value-here".encode()],
)
def test_refuses_a_file_without_a_token(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "local_token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(ConfigurationError, match="valid token"):
        load_or_create_local_token(tmp_path)


def test_accepts_a_token_the_user_wrote(tmp_path: Path) -> None:
    path = tmp_path / "local_token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"  my-own-long-token_1234  \n")
    os.close(fd)
    assert load_or_create_local_token(tmp_path) == "my-own-long-token_1234"


def test_refuses_a_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "local_token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"a" * 100_000)
    os.close(fd)
    with pytest.raises(ConfigurationError, match="too large"):
        load_or_create_local_token(tmp_path)


def test_concurrent_creators_share_one_token(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            tokens.append(load_or_create_local_token(tmp_path))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(tokens) == 8
    assert len(set(tokens)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local_token"]


def test_secret_file_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: Any, dst: Any) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    data = read_or_create_secret_file(tmp_path / "s", lambda: b"secret-bytes")
    assert data == b"secret-bytes"
    if os.name != "nt":
        assert mode(tmp_path / "s") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


# -- comparison --------------------------------------------------------------------------


def test_check_local_token() -> None:
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"
    assert check_local_token(token, token)
    assert check_local_token(token, str(token))  # equal value, different object
    assert not check_local_token(token, token[:-1])
    assert not check_local_token(token, token + "x")
    assert not check_local_token(token, "")
    assert not check_local_token(token, None)
    assert not check_local_token("", "")
    assert not check_local_token(token, "ünïcödé")  # no TypeError from compare_digest
    assert not check_local_token(token, "\udcff")  # a lone surrogate from a bad header


def test_check_local_token_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert check_local_token("token-value-0123456789", "token-value-0123456789")
    assert seen == [(b"token-value-0123456789", b"token-value-0123456789")]
