"""No secret reaches a log line, an exception message or a repr, even on failure paths.

Runs every security path at DEBUG (every logger, third-party ones included: botocore logs
request parameters at DEBUG) with failures injected, then searches everything captured for
each secret and for distinctive pieces of it (a key's random part, a JWT's segments).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from agentweaver.exceptions import AgentWeaverError, StoreError
from agentweaver.keys import LocalKeyVault, VaultKeySource, store_provider_key
from agentweaver.security.api_keys import new_api_key, verify_api_key
from agentweaver.security.local_token import check_local_token, load_or_create_local_token

NOW = 1_700_000_000.0
PROVIDER_KEY = "sk-ant-api03-LEAKCANARY0123456789abcdefghijklmnop-a1b2"


class Evidence:
    """Collects every secret used and every message/repr produced, then cross-checks."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.texts: list[str] = []

    def secret(self, value: str, *pieces: str) -> str:
        self.secrets.append(value)
        self.secrets.extend(p for p in pieces if len(p) >= 8)
        return value

    def failure(self, exc: BaseException) -> None:
        self.texts.extend([str(exc), repr(exc)])

    def check(self, caplog: pytest.LogCaptureFixture) -> None:
        """Call at the end of a test: ``caplog`` only shows the current phase's records."""
        assert caplog.records, "nothing was logged: the check would prove nothing"
        logged = caplog.text + "".join(repr(r.args) for r in caplog.records if r.args)
        for secret in self.secrets:
            for text in [logged, *self.texts]:
                assert secret not in text, f"a secret leaked into: {text[:300]!r}"
            # also as base64 (how botocore logs KMS plaintexts): any 3-byte-aligned slice
            encoded = base64.b64encode(secret.encode()).decode()
            if len(encoded) >= 24:
                assert encoded[:20] not in logged, "a secret leaked base64-encoded"


@pytest.fixture
def evidence(caplog: pytest.LogCaptureFixture) -> Evidence:
    caplog.set_level(logging.DEBUG)
    return Evidence()


def expect_failure(evidence: Evidence, call: Any, *args: Any) -> None:
    try:
        call(*args)
    except (AgentWeaverError, ValueError) as exc:
        evidence.failure(exc)
    else:
        raise AssertionError(f"{call} did not fail")


def test_api_keys(
    evidence: Evidence, fake_key_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret, record = new_api_key("acme", "ci", ["run"], now=NOW)
    evidence.secret(secret, secret.split("_", 2)[2])
    fake_key_store.save_api_key(record)
    evidence.texts.append(repr(record))
    principal = verify_api_key(fake_key_store, secret, NOW)
    evidence.texts.append(repr(principal))
    assert verify_api_key(fake_key_store, secret[:-1] + "x", NOW) is None

    def broken(key_hash: str, when: float) -> None:
        raise StoreError(f"cannot touch {key_hash} for {secret}")

    fake_key_store.touch_api_key = broken
    assert verify_api_key(fake_key_store, secret, NOW + 3600) is not None
    assert any(r.name == "agentweaver.security" for r in caplog.records)  # not vacuous
    evidence.check(caplog)


def test_local_token(evidence: Evidence, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = evidence.secret(load_or_create_local_token(tmp_path))
    assert not check_local_token(token, token[::-1])
    assert check_local_token(token, token)
    (tmp_path / "local_token").chmod(0o644)
    expect_failure(evidence, load_or_create_local_token, tmp_path)
    logging.getLogger("agentweaver.test").debug("local token checks done")
    evidence.check(caplog)


def test_jwt(evidence: Evidence, caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("jwt")
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from agentweaver.security.jwt import CognitoVerifier

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    evidence.secret(pem.decode())
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
    claims = {
        "sub": "user-LEAKCANARY",
        "iss": issuer,
        "token_use": "id",
        "aud": "client",
        "iat": NOW,
        "exp": NOW + 60,
        "email": "canary@example.com",
    }
    good = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "k1"})
    expired = jwt.encode(
        {**claims, "exp": NOW - 3600}, pem, algorithm="RS256", headers={"kid": "k1"}
    )
    for token in (good, expired):
        evidence.secret(token, *token.split("."))
    evidence.secret("canary@example.com")
    jwks = {"keys": [{**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}]}
    state = {"fail": True}

    def fetch(url: str) -> dict[str, Any]:
        if state["fail"]:
            raise OSError(f"refused while verifying {good}")  # a fetcher error quoting a token
        return jwks

    verifier = CognitoVerifier(
        "eu-west-1", "eu-west-1_Pool", "client", fetch_jwks=fetch, clock=lambda: NOW
    )
    expect_failure(evidence, verifier.verify, good)
    state["fail"] = False
    verifier.refresh_keys()
    evidence.texts.append(repr(verifier.verify(good)))
    header, payload, signature = good.split(".")
    for bad in (
        expired,
        good[:-3] + "abc",
        f"{header}.{payload}x.{signature}",
        good + ".x",
        "garbage-" + good,
        f"{header}.{payload}.",
    ):
        expect_failure(evidence, verifier.verify, bad)
    assert any("refused a bearer token" in r.getMessage() for r in caplog.records)
    evidence.check(caplog)


def test_local_vault(
    evidence: Evidence, tmp_path: Path, fake_key_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("cryptography")
    evidence.secret(PROVIDER_KEY, PROVIDER_KEY[13:-4])
    vault = LocalKeyVault(tmp_path)
    record = store_provider_key(fake_key_store, vault, "acme", "anthropic", PROVIDER_KEY, NOW)
    evidence.secret((tmp_path / "keys" / "vault.key").read_text().strip())
    evidence.texts += [repr(record), repr(vault)]
    source = VaultKeySource(fake_key_store, vault, "acme")
    assert source.get("anthropic", []) == PROVIDER_KEY
    evidence.texts.append(repr(source))
    sealed = base64.b64decode(record.ciphertext)
    expect_failure(evidence, vault.decrypt, "globex", sealed)
    expect_failure(evidence, vault.decrypt, "acme", sealed[:-1] + b"\x00")
    fake_key_store.put_provider_key(
        type(record)(owner="globex", provider="anthropic", ciphertext=record.ciphertext)
    )
    expect_failure(evidence, VaultKeySource(fake_key_store, vault, "globex").get, "anthropic", [])
    logging.getLogger("agentweaver.test").debug("vault checks done")
    evidence.check(caplog)


def test_kms_vault(
    evidence: Evidence,
    monkeypatch: pytest.MonkeyPatch,
    fake_key_store: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """botocore logs KMS bodies at DEBUG; the vault's filter must keep plaintexts out."""
    pytest.importorskip("moto")
    from moto import mock_aws

    from agentweaver.aws.kms_vault import KmsKeyVault

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    evidence.secret(PROVIDER_KEY, PROVIDER_KEY[13:-4])
    with mock_aws():
        import boto3

        client = boto3.client("kms", region_name="us-east-1")
        vault = KmsKeyVault(client.create_key()["KeyMetadata"]["KeyId"], client=client)
        record = store_provider_key(fake_key_store, vault, "acme", "anthropic", PROVIDER_KEY, NOW)
        assert VaultKeySource(fake_key_store, vault, "acme").get("anthropic", []) == PROVIDER_KEY
        expect_failure(evidence, vault.decrypt, "globex", base64.b64decode(record.ciphertext))
    assert any(r.name == "botocore.endpoint" for r in caplog.records)  # DEBUG really was on
    assert any("body redacted" in r.getMessage() for r in caplog.records)
    evidence.check(caplog)
