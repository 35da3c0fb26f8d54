"""Tenants' model-provider keys at rest: encrypted per owner, decrypted one at a time.

Why the pieces look the way they do:

* ``KeyVault`` is two methods over ``bytes`` so the embedded server (``LocalKeyVault``, a
  file key) and the hosted service (``agentweaver.aws.kms_vault.KmsKeyVault``) are
  interchangeable and the store only ever sees ciphertext (base64 in
  ``ProviderKeyRecord.ciphertext``).
* Every ciphertext is bound to its owner (AES-GCM associated data locally, the KMS
  encryption context on AWS). A record copied into another tenant's partition, or a store
  bug that returns the wrong row, then fails to decrypt instead of handing one tenant's key
  to another.
* ``VaultKeySource`` decrypts lazily and only the provider a model asks for, so an execution
  that uses one provider never holds its owner's other keys in memory, and it never falls
  back to the server's environment: a tenant without a key gets ``None`` (a clear "no key"
  error from the model), not the operator's key billed to the operator.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from agentweaver.exceptions import ConfigurationError, InvalidData, KeyVaultError
from agentweaver.security.local_token import read_or_create_secret_file
from agentweaver.stores.base import Store
from agentweaver.stores.records import ProviderKeyRecord

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "KeyVault",
    "KeyVaultError",
    "LocalKeyVault",
    "VaultKeySource",
    "mask",
    "store_provider_key",
]

VAULT_KEY_FILE = Path("keys") / "vault.key"
_VERSION = b"\x01"  # first byte of every local ciphertext: room to rotate keys or formats
_NONCE_BYTES = 12  # 96 bits, the AES-GCM standard nonce; random per encryption
_TAG_BYTES = 16
_MASK_PREFIX = re.compile(r"[A-Za-z]{1,4}[-_]")


@runtime_checkable
class KeyVault(Protocol):
    def encrypt(self, owner: str, plaintext: str) -> bytes:
        """Ciphertext that only ``decrypt`` with the same ``owner`` can open."""
        ...

    def decrypt(self, owner: str, ciphertext: bytes) -> str:
        """The plaintext; ``KeyVaultError`` for another owner, another key or tampering."""
        ...


class LocalKeyVault:
    """AES-256-GCM with a random key in ``home/keys/vault.key`` (owner-only, made on first use).

    The key file gets the local token's rules (created 0600, refused if others can read it).
    Back it up with the store: losing it loses every stored provider key, and it is the only
    thing standing between a copied ``agentweaver.db`` and the keys in it.
    """

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / VAULT_KEY_FILE
        self._aead: AESGCM | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalKeyVault(path={str(self.path)!r})"

    def encrypt(self, owner: str, plaintext: str) -> bytes:
        aead = self._cipher()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), _associated_data(owner))
        return _VERSION + nonce + sealed

    def decrypt(self, owner: str, ciphertext: bytes) -> str:
        from cryptography.exceptions import InvalidTag

        aad = _associated_data(owner)
        if len(ciphertext) < 1 + _NONCE_BYTES + _TAG_BYTES or ciphertext[:1] != _VERSION:
            raise KeyVaultError("the stored provider key is not a ciphertext of this vault")
        nonce, sealed = ciphertext[1 : 1 + _NONCE_BYTES], ciphertext[1 + _NONCE_BYTES :]
        try:
            plain = self._cipher().decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise KeyVaultError(
                "the stored provider key cannot be decrypted for this owner (it belongs to "
                "another owner, was encrypted with another vault key, or is corrupted)"
            ) from None
        return plain.decode("utf-8")

    def _cipher(self) -> AESGCM:
        with self._lock:
            if self._aead is None:
                self._aead = self._load()
            return self._aead

    def _load(self) -> AESGCM:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError:
            raise KeyVaultError(
                "the local key vault needs the 'cryptography' package: "
                "pip install 'agentweaver[api]'"
            ) from None
        try:
            raw = read_or_create_secret_file(
                self.path,
                lambda: base64.urlsafe_b64encode(os.urandom(32)) + b"\n",
                remedy="rotate the provider keys stored with it",
            )
        except ConfigurationError as exc:
            raise KeyVaultError(str(exc)) from None
        try:
            key = base64.urlsafe_b64decode(raw.strip())
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise KeyVaultError(
                f"{self.path} does not hold a 256-bit key; restore it from a backup "
                "(deleting it makes a new key, and every stored provider key is then lost)"
            )
        return AESGCM(key)


def _associated_data(owner: str) -> bytes:
    """What a ciphertext is bound to besides the key: the format version and the owner."""
    if not isinstance(owner, str) or not owner:
        raise KeyVaultError("provider keys need an owner")
    return b"agentweaver:owner:" + _VERSION + owner.encode("utf-8")


def mask(secret: str) -> str:
    """A hint to recognise a key by, e.g. ``sk-…a1b2``: at most its last 4 characters.

    A short vendor marker (``sk-``, ``gsk_``, ``xai-``: up to four letters and a separator)
    is kept for keys of 20+ characters, as it tells keys of different providers apart and
    carries no entropy. Under 12 characters nothing is shown, since 4 characters would be a
    real share of the secret.
    """
    text = secret.strip()
    if len(text) < 12:
        return "…"
    head = _MASK_PREFIX.match(text) if len(text) >= 20 else None
    return f"{head.group(0) if head else ''}…{text[-4:]}"


class VaultKeySource:
    """A ``KeySource`` over one owner's stored provider keys (see the module docstring).

    One instance per execution: decrypted keys (and "no key") are cached on it, so they live
    exactly as long as the execution that needed them, and a key changed mid-run does not
    switch providers' credentials between two steps. ``env_vars`` is ignored on purpose.
    """

    def __init__(self, store: Store, vault: KeyVault, owner: str) -> None:
        self._store = store
        self._vault = vault
        self._owner = owner
        self._cache: dict[str, str | None] = {}

    def __repr__(self) -> str:  # keys must never reach a log line
        loaded = sorted(p for p, key in self._cache.items() if key is not None)
        return f"VaultKeySource(owner={self._owner!r}, loaded={loaded})"

    def get(self, provider: str, env_vars: Sequence[str]) -> str | None:
        if provider in self._cache:
            return self._cache[provider]
        record = self._store.get_provider_key(self._owner, provider)
        key: str | None = None
        if record is not None:
            if record.owner != self._owner or record.provider != provider:
                raise KeyVaultError(
                    f"the store returned a key that is not this owner's {provider} key"
                )
            try:
                blob = base64.b64decode(record.ciphertext, validate=True)
            except (binascii.Error, ValueError):
                raise KeyVaultError(
                    f"the stored {provider} key is not valid base64; set it again"
                ) from None
            key = self._vault.decrypt(self._owner, blob)
        self._cache[provider] = key
        return key


def store_provider_key(
    store: Store, vault: KeyVault, owner: str, provider: str, secret: str, now: float
) -> ProviderKeyRecord:
    """Encrypt ``secret`` for ``owner`` and save it; returns the record (ciphertext + hint).

    Surrounding whitespace is stripped (pasted keys often end in a newline, which a provider
    would reject as a wrong key much later, during a run).
    """
    secret = secret.strip()
    if not secret:
        raise InvalidData("the provider key is empty")
    if not provider:
        raise InvalidData("the provider name is empty")
    record = ProviderKeyRecord(
        owner=owner,
        provider=provider,
        ciphertext=base64.b64encode(vault.encrypt(owner, secret)).decode("ascii"),
        hint=mask(secret),
        updated_at=now,
    )
    store.put_provider_key(record)
    return record
