"""Provider keys at rest: the local AES-GCM vault, masking, and the vault-backed KeySource."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentweaver.exceptions import ConfigurationError, InvalidData, ModelNotConfigured
from agentweaver.keys import (
    KeyVault,
    KeyVaultError,
    LocalKeyVault,
    VaultKeySource,
    mask,
    store_provider_key,
)
from agentweaver.models.keys import KeySource
from agentweaver.stores.records import ProviderKeyRecord

pytest.importorskip("cryptography")

NOW = 1_700_000_000.0
ANTHROPIC = "sk-ant-api03-Zq9v1XbT0yUeW3rLpA7mN4cK8sJ2hG6fD5-a1b2"
OPENAI = "sk-proj-Hq2w8E4r6T0y1U3i5O7p9A2s4D6f8G0hJ1kL3-z9y8"


class FakeProviderKeys:
    """Just the provider-key half of the Store, counting reads."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], ProviderKeyRecord] = {}
        self.reads = 0

    def put_provider_key(self, record: ProviderKeyRecord) -> None:
        self.rows[(record.owner, record.provider)] = replace(record)

    def get_provider_key(self, owner: str, provider: str) -> ProviderKeyRecord | None:
        self.reads += 1
        found = self.rows.get((owner, provider))
        return None if found is None else replace(found)


@pytest.fixture(params=["fake", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield FakeProviderKeys()
        return
    from agentweaver.stores.sqlite import SQLiteStore

    if not hasattr(SQLiteStore, "get_provider_key"):
        pytest.skip("SQLiteStore does not implement provider keys yet (issue 6)")
    sqlite = SQLiteStore(":memory:")
    try:
        yield sqlite
    finally:
        sqlite.close()


@pytest.fixture
def vault(tmp_path: Path) -> LocalKeyVault:
    return LocalKeyVault(tmp_path / "home")


class CountingVault:
    """Wraps a vault to count decryptions."""

    def __init__(self, inner: KeyVault) -> None:
        self.inner = inner
        self.decrypted: list[str] = []

    def encrypt(self, owner: str, plaintext: str) -> bytes:
        return self.inner.encrypt(owner, plaintext)

    def decrypt(self, owner: str, ciphertext: bytes) -> str:
        self.decrypted.append(owner)
        return self.inner.decrypt(owner, ciphertext)


# -- LocalKeyVault -----------------------------------------------------------------------


def test_round_trip(vault: LocalKeyVault) -> None:
    sealed = vault.encrypt("acme", ANTHROPIC)
    assert isinstance(sealed, bytes)
    assert ANTHROPIC.encode() not in sealed
    assert vault.decrypt("acme", sealed) == ANTHROPIC
    assert vault.decrypt("acme", vault.encrypt("acme", "ünïcödé ✓")) == "ünïcödé ✓"


def test_fresh_nonce_every_time(vault: LocalKeyVault) -> None:
    sealed = [vault.encrypt("acme", ANTHROPIC) for _ in range(20)]
    assert len(set(sealed)) == 20
    assert len({s[1:13] for s in sealed}) == 20  # the 96-bit nonces differ
    assert all(len(s) == 1 + 12 + len(ANTHROPIC) + 16 for s in sealed)


def test_is_a_key_vault(vault: LocalKeyVault) -> None:
    assert isinstance(vault, KeyVault)
    assert issubclass(KeyVaultError, ConfigurationError)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_key_file_is_created_owner_only_on_first_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    vault = LocalKeyVault(home)
    assert not home.exists()  # nothing happens until a key is needed
    vault.encrypt("acme", ANTHROPIC)
    key_file = home / "keys" / "vault.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700
    assert len(base64.urlsafe_b64decode(key_file.read_bytes().strip())) == 32
    assert sorted(p.name for p in (home / "keys").iterdir()) == ["vault.key"]


def test_key_persists_across_instances(tmp_path: Path) -> None:
    sealed = LocalKeyVault(tmp_path).encrypt("acme", ANTHROPIC)
    assert LocalKeyVault(tmp_path).decrypt("acme", sealed) == ANTHROPIC


def test_another_owner_cannot_decrypt(vault: LocalKeyVault) -> None:
    sealed = vault.encrypt("acme", ANTHROPIC)
    with pytest.raises(KeyVaultError, match="cannot be decrypted for this owner") as caught:
        vault.decrypt("globex", sealed)
    assert ANTHROPIC not in str(caught.value)
    for near in ("Acme", "acme ", "acm", "acme\x00"):
        with pytest.raises(KeyVaultError):
            vault.decrypt(near, sealed)


def test_another_vault_cannot_decrypt(tmp_path: Path) -> None:
    sealed = LocalKeyVault(tmp_path / "a").encrypt("acme", ANTHROPIC)
    with pytest.raises(KeyVaultError, match="another vault key"):
        LocalKeyVault(tmp_path / "b").decrypt("acme", sealed)


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_tampering_is_detected(vault: LocalKeyVault, position: int) -> None:
    sealed = bytearray(vault.encrypt("acme", ANTHROPIC))
    sealed[position] ^= 0x01
    with pytest.raises(KeyVaultError):
        vault.decrypt("acme", bytes(sealed))


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\x00" * 27, b"\x02" + b"\x00" * 40])
def test_not_a_ciphertext(vault: LocalKeyVault, blob: bytes) -> None:
    with pytest.raises(KeyVaultError, match="not a ciphertext"):
        vault.decrypt("acme", blob)


def test_owner_required(vault: LocalKeyVault) -> None:
    with pytest.raises(KeyVaultError, match="owner"):
        vault.encrypt("", ANTHROPIC)
    with pytest.raises(KeyVaultError, match="owner"):
        vault.decrypt("", vault.encrypt("acme", ANTHROPIC))


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_exposed_key_file_is_refused(tmp_path: Path) -> None:
    LocalKeyVault(tmp_path).encrypt("acme", ANTHROPIC)
    key_file = tmp_path / "keys" / "vault.key"
    key_file.chmod(0o644)
    with pytest.raises(KeyVaultError, match="group or others") as caught:
        LocalKeyVault(tmp_path).encrypt("acme", ANTHROPIC)
    assert "rotate" in str(caught.value)  # not "delete it": that would lose every key
    assert "delete" not in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"tooshort\n", b"!!!not base64!!!\n"])
def test_bad_key_file(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "keys" / "vault.key"
    key_file.parent.mkdir(mode=0o700)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyVaultError, match="256-bit key; restore it from a backup"):
        LocalKeyVault(tmp_path).encrypt("acme", ANTHROPIC)


def test_repr_shows_no_key(vault: LocalKeyVault) -> None:
    vault.encrypt("acme", ANTHROPIC)
    key_text = vault.path.read_text().strip()
    assert key_text not in repr(vault)
    assert "vault.key" in repr(vault)


# -- mask ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        (ANTHROPIC, "sk-…a1b2"),
        (OPENAI, "sk-…z9y8"),
        ("gsk_0123456789abcdefghijWXYZ", "gsk_…WXYZ"),
        ("xai-0123456789abcdefghijWXYZ", "xai-…WXYZ"),
        ("AIzaSyA1234567890abcdefghijk", "…hijk"),  # no separator: no prefix
        ("sk-123456789", "…6789"),  # 12 characters: the tail only
        ("abcdefghijkl", "…ijkl"),
        ("abcdefghijk", "…"),  # 11 characters: nothing
        ("sk-1234", "…"),
        ("", "…"),
        ("  sk-ant-api03-0123456789abcdefghij-a1b2\n", "sk-…a1b2"),
    ],
)
def test_mask(secret: str, hint: str) -> None:
    assert mask(secret) == hint


@given(st.text())
def test_mask_never_shows_more_than_four_trailing_characters(secret: str) -> None:
    hint = mask(secret)
    head, sep, tail = hint.partition("…")
    assert sep == "…"
    assert len(tail) <= 4
    assert len(head) <= 5
    if len(secret.strip()) < 12:
        assert hint == "…"
    else:
        assert secret.strip().endswith(tail)


# -- VaultKeySource ------------------------------------------------------------------------


def test_key_source_returns_the_owners_key(store: Any, vault: LocalKeyVault) -> None:
    store_provider_key(store, vault, "acme", "anthropic", ANTHROPIC, NOW)
    store_provider_key(store, vault, "globex", "anthropic", OPENAI, NOW)
    source = VaultKeySource(store, vault, "acme")
    assert isinstance(source, KeySource)
    assert source.get("anthropic", ["ANTHROPIC_API_KEY"]) == ANTHROPIC
    assert VaultKeySource(store, vault, "globex").get("anthropic", []) == OPENAI
    assert source.get("openai", ["OPENAI_API_KEY"]) is None


def test_key_source_never_falls_back_to_the_environment(
    store: Any, vault: LocalKeyVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-operators-own-key-0123456789")
    assert VaultKeySource(store, vault, "acme").get("openai", ["OPENAI_API_KEY"]) is None


def test_key_source_decrypts_only_what_is_asked_and_caches(vault: LocalKeyVault) -> None:
    store = FakeProviderKeys()
    store_provider_key(store, vault, "acme", "anthropic", ANTHROPIC, NOW)
    store_provider_key(store, vault, "acme", "openai", OPENAI, NOW)
    counting = CountingVault(vault)
    source = VaultKeySource(store, counting, "acme")  # type: ignore[arg-type]
    for _ in range(3):
        assert source.get("anthropic", []) == ANTHROPIC
        assert source.get("gemini", []) is None
    assert counting.decrypted == ["acme"]  # one decryption, of the one key asked for
    assert store.reads == 2  # anthropic once, gemini (missing) once


def test_key_source_repr_shows_no_secret(store: Any, vault: LocalKeyVault) -> None:
    store_provider_key(store, vault, "acme", "anthropic", ANTHROPIC, NOW)
    source = VaultKeySource(store, vault, "acme")
    source.get("anthropic", [])
    text = repr(source)
    assert ANTHROPIC not in text
    assert ANTHROPIC[-4:] not in text
    assert text == "VaultKeySource(owner='acme', loaded=['anthropic'])"


def test_a_record_moved_to_another_owner_does_not_decrypt(vault: LocalKeyVault) -> None:
    store = FakeProviderKeys()
    record = store_provider_key(store, vault, "acme", "anthropic", ANTHROPIC, NOW)
    store.put_provider_key(replace(record, owner="globex"))  # copied across tenants
    with pytest.raises(KeyVaultError, match="for this owner"):
        VaultKeySource(store, vault, "globex").get("anthropic", [])


def test_a_store_returning_the_wrong_row_is_refused(vault: LocalKeyVault) -> None:
    store = FakeProviderKeys()
    record = store_provider_key(store, vault, "acme", "anthropic", ANTHROPIC, NOW)
    store.get_provider_key = lambda owner, provider: record  # type: ignore[method-assign]
    with pytest.raises(KeyVaultError, match="not this owner's"):
        VaultKeySource(store, vault, "globex").get("anthropic", [])
    with pytest.raises(KeyVaultError, match="not this owner's"):
        VaultKeySource(store, vault, "acme").get("openai", [])


def test_corrupt_ciphertext_in_the_store(vault: LocalKeyVault) -> None:
    store = FakeProviderKeys()
    store.put_provider_key(ProviderKeyRecord("acme", "anthropic", ciphertext="%%% not b64"))
    with pytest.raises(KeyVaultError, match="not valid base64"):
        VaultKeySource(store, vault, "acme").get("anthropic", [])


# -- store_provider_key --------------------------------------------------------------------


def test_store_provider_key(store: Any, vault: LocalKeyVault) -> None:
    record = store_provider_key(store, vault, "acme", "anthropic", f"  {ANTHROPIC}\n", NOW)
    assert record.owner == "acme"
    assert record.provider == "anthropic"
    assert record.hint == "sk-…a1b2"
    assert record.updated_at == NOW
    assert ANTHROPIC not in record.ciphertext
    assert vault.decrypt("acme", base64.b64decode(record.ciphertext)) == ANTHROPIC  # stripped
    getattr(store, "flush", lambda: None)()
    stored = store.get_provider_key("acme", "anthropic")
    assert stored == record


def test_store_provider_key_replaces(store: Any, vault: LocalKeyVault) -> None:
    store_provider_key(store, vault, "acme", "openai", OPENAI, NOW)
    store_provider_key(store, vault, "acme", "openai", ANTHROPIC, NOW + 1)
    getattr(store, "flush", lambda: None)()
    assert VaultKeySource(store, vault, "acme").get("openai", []) == ANTHROPIC


@pytest.mark.parametrize(("provider", "secret"), [("openai", ""), ("openai", " \n"), ("", OPENAI)])
def test_store_provider_key_refuses_empty(vault: LocalKeyVault, provider: str, secret: str) -> None:
    store = FakeProviderKeys()
    with pytest.raises(InvalidData):
        store_provider_key(store, vault, "acme", provider, secret, NOW)
    assert store.rows == {}


# -- with the model registry ---------------------------------------------------------------


def test_models_take_their_key_from_the_vault(
    vault: LocalKeyVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("openai")
    from agentweaver.models.registry import infer_model

    monkeypatch.setenv("OPENAI_API_KEY", "sk-operators-own-key-0123456789")
    store = FakeProviderKeys()
    with pytest.raises(ModelNotConfigured, match="needs an API key"):
        infer_model("openai:gpt-4o-mini", keys=VaultKeySource(store, vault, "acme"))
    store_provider_key(store, vault, "acme", "openai", OPENAI, NOW)
    source = VaultKeySource(store, vault, "acme")
    infer_model("openai:gpt-4o-mini", keys=source)
    assert "openai" in repr(source)


# -- imports -------------------------------------------------------------------------------


def test_importing_keys_and_security_loads_no_sdk() -> None:
    """The key and auth packages stay importable without boto3, PyJWT or cryptography."""
    code = (
        "import sys, json\n"
        "import agentweaver.keys, agentweaver.security, agentweaver.aws.kms_vault\n"
        "from agentweaver.security import Principal, new_api_key, load_or_create_local_token\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: Sequence[str] = json.loads(done.stdout.strip().splitlines()[-1])
    for package in ("boto3", "botocore", "jwt", "cryptography", "httpx"):
        assert not any(m == package or m.startswith(package + ".") for m in loaded), package
