"""The hosted service's key vault: AWS KMS, with the owner in the encryption context.

Why KMS directly (not envelope encryption with a data key): provider keys are a few hundred
bytes, far under KMS's 4 KB ``Encrypt`` limit, and each is decrypted once per execution, so
a direct call is simpler and leaves the plaintext key material inside KMS, with every
decrypt in CloudTrail. The encryption context ``{"agentweaver:owner": owner}`` is
authenticated by KMS: a ciphertext decrypts only with the context it was made with, so a
record moved to another tenant cannot be opened for that tenant, and IAM policies can
condition on ``kms:EncryptionContext:agentweaver:owner``.

``decrypt`` also passes ``KeyId``, so a ciphertext made under some other KMS key in the
account (which the Lambda role might be allowed to use) is refused rather than opened.
boto3 is imported only when a vault is built without a client.

botocore logs whole request and response bodies at DEBUG, which for KMS means the
plaintext (base64, trivially reversible). Building a vault therefore puts a redacting filter
on the two botocore loggers that do this, so turning on DEBUG while chasing an incident
cannot write tenants' provider keys to CloudWatch. It only rewrites records that mention a
``Plaintext`` field and costs nothing unless DEBUG is on.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from agentweaver.keys.vault import KeyVaultError

__all__ = ["OWNER_CONTEXT_KEY", "KmsKeyVault", "redact_botocore_bodies"]

OWNER_CONTEXT_KEY = "agentweaver:owner"
# what KMS answers for a wrong encryption context, another key's ciphertext, or tampering
_NOT_OURS = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
_BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers")  # log request / response bodies
_REDACTED = "[agentweaver: body redacted, it holds a KMS plaintext]"


class _RedactPlaintext(logging.Filter):
    """Rewrites botocore DEBUG records that carry a KMS ``Plaintext`` (see module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot render cannot leak through a formatter
            return True
        if "Plaintext" in text:
            record.msg, record.args = _REDACTED, None
        return True


_redactor = _RedactPlaintext()


def redact_botocore_bodies() -> None:
    """Install the redacting filter (idempotent: ``addFilter`` ignores a filter it has)."""
    for name in _BODY_LOGGERS:
        logging.getLogger(name).addFilter(_redactor)


class KmsKeyVault:
    """``KeyVault`` over one KMS key (id, ARN or ``alias/...``)."""

    def __init__(self, key_id: str, client: Any = None) -> None:
        if not key_id:
            raise KeyVaultError("the KMS key vault needs a key id")
        self.key_id = key_id
        self._client = client
        self._lock = threading.Lock()
        redact_botocore_bodies()

    def __repr__(self) -> str:
        return f"KmsKeyVault(key_id={self.key_id!r})"

    def encrypt(self, owner: str, plaintext: str) -> bytes:
        response = self._call(
            "encrypt",
            KeyId=self.key_id,
            Plaintext=plaintext.encode("utf-8"),
            EncryptionContext=_context(owner),
        )
        return bytes(response["CiphertextBlob"])

    def decrypt(self, owner: str, ciphertext: bytes) -> str:
        response = self._call(
            "decrypt",
            KeyId=self.key_id,
            CiphertextBlob=ciphertext,
            EncryptionContext=_context(owner),
        )
        return bytes(response["Plaintext"]).decode("utf-8")

    def _kms(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3  # lazily: `import agentweaver` stays SDK-free

                self._client = boto3.session.Session().client("kms")
            return self._client

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._kms(), operation)(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if operation == "decrypt" and code in _NOT_OURS:
                raise KeyVaultError(
                    "the stored provider key cannot be decrypted for this owner (it belongs "
                    "to another owner, was encrypted with another KMS key, or is corrupted)"
                ) from None
            # only the code: KMS messages can quote the key ARN and account, not secrets,
            # but a client-safe message is simpler to guarantee with none of the text
            raise KeyVaultError(f"KMS {operation} failed ({code})") from None
        except BotoCoreError as exc:  # no credentials, no region, endpoint unreachable...
            raise KeyVaultError(f"KMS {operation} failed ({type(exc).__name__})") from None


def _context(owner: str) -> dict[str, str]:
    if not isinstance(owner, str) or not owner:
        raise KeyVaultError("provider keys need an owner")
    return {OWNER_CONTEXT_KEY: owner}
