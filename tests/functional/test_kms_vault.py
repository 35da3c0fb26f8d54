"""The KMS key vault under moto: owner-bound ciphertexts, errors mapped to KeyVaultError."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("moto")
pytest.importorskip("boto3")

from agentweaver.aws.kms_vault import OWNER_CONTEXT_KEY, KmsKeyVault
from agentweaver.keys import KeyVault, KeyVaultError, VaultKeySource, store_provider_key
from agentweaver.stores.records import ProviderKeyRecord

SECRET = "sk-ant-api03-Zq9v1XbT0yUeW3rLpA7mN4cK8sJ2hG6fD5-a1b2"
NOW = 1_700_000_000.0


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        import boto3

        yield boto3.client("kms", region_name="us-east-1")


@pytest.fixture
def key_id(kms: Any) -> str:
    return str(kms.create_key(Description="agentweaver provider keys")["KeyMetadata"]["KeyId"])


@pytest.fixture
def vault(kms: Any, key_id: str) -> KmsKeyVault:
    return KmsKeyVault(key_id, client=kms)


class Rows:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], ProviderKeyRecord] = {}

    def put_provider_key(self, record: ProviderKeyRecord) -> None:
        self.rows[(record.owner, record.provider)] = replace(record)

    def get_provider_key(self, owner: str, provider: str) -> ProviderKeyRecord | None:
        return self.rows.get((owner, provider))


def test_round_trip(vault: KmsKeyVault) -> None:
    assert isinstance(vault, KeyVault)
    sealed = vault.encrypt("acme", SECRET)
    assert SECRET.encode() not in sealed
    assert vault.decrypt("acme", sealed) == SECRET


def test_another_owner_cannot_decrypt(vault: KmsKeyVault) -> None:
    sealed = vault.encrypt("acme", SECRET)
    with pytest.raises(KeyVaultError, match="cannot be decrypted for this owner") as caught:
        vault.decrypt("globex", sealed)
    assert SECRET not in str(caught.value)


def test_owner_is_the_encryption_context(kms: Any, vault: KmsKeyVault) -> None:
    """What makes IAM conditions on kms:EncryptionContext:agentweaver:owner possible."""
    sealed = vault.encrypt("acme", SECRET)
    opened = kms.decrypt(CiphertextBlob=sealed, EncryptionContext={OWNER_CONTEXT_KEY: "acme"})
    assert opened["Plaintext"] == SECRET.encode()
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=sealed)


def test_ciphertext_of_another_kms_key_is_refused(kms: Any, vault: KmsKeyVault) -> None:
    other = KmsKeyVault(kms.create_key()["KeyMetadata"]["KeyId"], client=kms)
    sealed = other.encrypt("acme", SECRET)
    with pytest.raises(KeyVaultError):
        vault.decrypt("acme", sealed)


def test_garbage_ciphertext(vault: KmsKeyVault) -> None:
    with pytest.raises(KeyVaultError, match="cannot be decrypted"):
        vault.decrypt("acme", b"not a kms ciphertext at all")


def test_unknown_key(kms: Any) -> None:
    vault = KmsKeyVault("alias/does-not-exist", client=kms)
    with pytest.raises(KeyVaultError, match=r"KMS encrypt failed \(NotFoundException\)"):
        vault.encrypt("acme", SECRET)


def test_service_errors_carry_only_their_code() -> None:
    """KMS messages quote ARNs and accounts: only the error code reaches the message."""
    from botocore.exceptions import ClientError

    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd"

    class Disabled:
        def decrypt(self, **params: Any) -> Any:
            error = {"Error": {"Code": "DisabledException", "Message": f"{arn} is disabled."}}
            raise ClientError(error, "Decrypt")  # type: ignore[arg-type]

    with pytest.raises(KeyVaultError, match=r"KMS decrypt failed \(DisabledException\)") as caught:
        KmsKeyVault(arn, client=Disabled()).decrypt("acme", b"sealed")
    assert "123456789012" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__  # the ClientError (with its text) is not chained


def test_client_is_made_lazily_with_boto3(kms: Any, key_id: str) -> None:
    vault = KmsKeyVault(key_id)
    assert vault.decrypt("acme", vault.encrypt("acme", SECRET)) == SECRET


def test_transport_errors_are_mapped() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Down:
        def encrypt(self, **params: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://kms.example")

    with pytest.raises(KeyVaultError, match=r"KMS encrypt failed \(EndpointConnectionError\)"):
        KmsKeyVault("k", client=Down()).encrypt("acme", SECRET)


def test_owner_and_key_required(vault: KmsKeyVault) -> None:
    with pytest.raises(KeyVaultError, match="owner"):
        vault.encrypt("", SECRET)
    with pytest.raises(KeyVaultError, match="key id"):
        KmsKeyVault("")
    assert "secret" not in repr(vault).lower()


def test_with_the_key_source(vault: KmsKeyVault) -> None:
    rows = Rows()
    record = store_provider_key(rows, vault, "acme", "anthropic", SECRET, NOW)  # type: ignore[arg-type]
    assert record.hint == "sk-…a1b2"
    assert base64.b64decode(record.ciphertext)
    assert VaultKeySource(rows, vault, "acme").get("anthropic", []) == SECRET  # type: ignore[arg-type]
    rows.put_provider_key(replace(record, owner="globex"))  # copied to another tenant
    with pytest.raises(KeyVaultError):
        VaultKeySource(rows, vault, "globex").get("anthropic", [])  # type: ignore[arg-type]


def test_the_plaintext_never_reaches_a_log_even_botocores_at_debug(
    vault: KmsKeyVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")  # every logger, botocore's request and response dumps included
    ciphertext = vault.encrypt("team-a", SECRET)
    assert vault.decrypt("team-a", ciphertext) == SECRET
    assert caplog.records, "nothing was logged: the check would prove nothing"
    encoded = base64.b64encode(SECRET.encode()).decode()
    for record in caplog.records:
        text = record.getMessage()
        assert SECRET not in text, record.name
        assert encoded not in text, record.name
