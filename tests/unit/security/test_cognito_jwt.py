"""Cognito JWT verification against a locally generated RSA key served as the pool's JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

pytest.importorskip("jwt")
pytest.importorskip("cryptography")

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from agentweaver.exceptions import ConfigurationError
from agentweaver.security import AuthError, Principal
from agentweaver.security.jwt import (
    FAILED_FETCH_RETRY,
    REFETCH_INTERVAL,
    CognitoVerifier,
    InvalidToken,
    JwksUnavailable,
    fetch_jwks_https,
)

REGION = "eu-west-1"
POOL = "eu-west-1_AbCdEf123"
CLIENT = "3n4b5urk1ft4fl3mg5e62d9ado"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
KID = "key-1"
NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": "RS256", "use": "sig"}


class Jwks:
    """The injected fetcher: serves ``keys`` and records every URL it was asked for."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.urls: list[str] = []
        self.fail = False

    def __call__(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        if self.fail:
            raise OSError("connection refused")
        return {"keys": self.keys}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jwks(private_key: rsa.RSAPrivateKey) -> Jwks:
    return Jwks(jwk(private_key, KID))


@pytest.fixture
def verifier(jwks: Jwks, clock: Clock) -> CognitoVerifier:
    return CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=jwks, clock=clock)


def claims(token_use: str = "id", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "5f1c-user",
        "iss": ISSUER,
        "token_use": token_use,
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
        "auth_time": int(NOW),
    }
    if token_use == "id":
        base.update(aud=CLIENT, email="ada@example.com")
    else:
        base.update(client_id=CLIENT, scope="openid aw/workflows.run")
    base.update(changes)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()


def sign(key: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str = KID, **header: Any) -> str:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return jwt.encode(payload, pem, algorithm="RS256", headers={"kid": kid, **header})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj).encode())


def refused(verifier: CognitoVerifier, token: Any, match: str) -> InvalidToken:
    with pytest.raises(InvalidToken, match=match) as caught:
        verifier.verify(token)
    if isinstance(token, str) and len(token) > 8:
        for part in token.split("."):
            if len(part) > 8:
                assert part not in str(caught.value)
    return caught.value


# -- accepted ------------------------------------------------------------------------------


def test_valid_id_token(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    principal = verifier.verify(sign(private_key, claims("id")))
    assert principal == Principal(owner="5f1c-user", via="jwt", scopes=frozenset(), key_id=None)


def test_valid_access_token(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    principal = verifier.verify(sign(private_key, claims("access")))
    assert principal.owner == "5f1c-user"
    assert principal.via == "jwt"
    assert principal.scopes == frozenset({"openid", "aw/workflows.run"})


def test_verified_claims(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    assert verifier.verified_claims(sign(private_key, claims()))["email"] == "ada@example.com"


def test_id_token_audience_list(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    verifier.verify(sign(private_key, claims(aud=["other", CLIENT])))
    refused(verifier, sign(private_key, claims(aud=["other"])), "another app client")


def test_keys_are_fetched_once_and_cached(
    verifier: CognitoVerifier, jwks: Jwks, private_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    for _ in range(5):
        verifier.verify(sign(private_key, claims()))
        clock.now += REFETCH_INTERVAL  # even long after: known kids never refetch
    assert jwks.urls == [JWKS_URL]


def test_leeway(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, clock: Clock) -> None:
    token = sign(private_key, claims())
    clock.now = NOW + 3600 + 59  # expired 59 s ago: inside the default 60 s leeway
    verifier.verify(token)
    clock.now = NOW - 59  # issued "in the future" by a clock 59 s ahead
    verifier.verify(token)


# -- time ----------------------------------------------------------------------------------


def test_expired(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, clock: Clock) -> None:
    token = sign(private_key, claims())
    clock.now = NOW + 3600 + 61
    refused(verifier, token, "expired")
    refused(verifier, sign(private_key, claims(exp=int(NOW) - 3600)), "expired")


def test_issued_in_the_future(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    refused(verifier, sign(private_key, claims(iat=int(NOW) + 120)), "issued in the future")


def test_not_yet_valid(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    refused(verifier, sign(private_key, claims(nbf=int(NOW) + 120)), "not valid yet")
    verifier.verify(sign(private_key, claims(nbf=int(NOW) - 5)))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("exp", DROP),
        ("exp", "tomorrow"),
        ("exp", True),
        ("iat", DROP),
        ("iat", None),
        ("nbf", "soon"),
        ("exp", float("nan")),
    ],
)
def test_time_claims_must_be_numbers(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, name: str, value: Any
) -> None:
    payload = claims(**{name: value})
    if value is not DROP and isinstance(value, float):
        token = sign(private_key, {**payload, name: 1e400})  # JSON has no NaN: use inf
    else:
        token = sign(private_key, payload)
    refused(verifier, token, f"no valid '{name}' claim")


def test_custom_leeway(jwks: Jwks, clock: Clock, private_key: rsa.RSAPrivateKey) -> None:
    strict = CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=jwks, clock=clock, leeway=0)
    clock.now = NOW + 3601
    refused(strict, sign(private_key, claims()), "expired")


# -- issuer, audience, token_use -----------------------------------------------------------


@pytest.mark.parametrize(
    "issuer",
    [
        f"https://cognito-idp.{REGION}.amazonaws.com/eu-west-1_Other",
        ISSUER + "/",
        ISSUER.replace("https", "http"),
        f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}",
        ISSUER.upper(),
        DROP,
    ],
)
def test_wrong_issuer(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, issuer: Any
) -> None:
    refused(verifier, sign(private_key, claims(iss=issuer)), "not issued by this user pool")


def test_wrong_audience(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    refused(verifier, sign(private_key, claims("id", aud="another-client")), "another app client")
    refused(verifier, sign(private_key, claims("id", aud=DROP)), "another app client")
    # an id token is judged by aud only: a matching client_id claim does not rescue it
    token = sign(private_key, claims("id", aud="another-client", client_id=CLIENT))
    refused(verifier, token, "another app client")


def test_wrong_client_id(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    token = sign(private_key, claims("access", client_id="another-client"))
    refused(verifier, token, "another app client")
    # an access token is judged by client_id only: aud is not Cognito's field for it
    token = sign(private_key, claims("access", client_id=DROP, aud=CLIENT))
    refused(verifier, token, "another app client")


@pytest.mark.parametrize("token_use", ["refresh", "ID", "", None, DROP])
def test_wrong_token_use(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, token_use: Any
) -> None:
    payload = claims("id")
    payload["token_use"] = token_use
    if token_use is DROP:
        del payload["token_use"]
    refused(verifier, sign(private_key, payload), "token_use")


@pytest.mark.parametrize("sub", [DROP, "", 42])
def test_subject_required(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, sub: Any
) -> None:
    refused(verifier, sign(private_key, claims(sub=sub)), "no subject")


# -- algorithms and signatures -------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none(verifier: CognitoVerifier, alg: str) -> None:
    token = f"{segment({'alg': alg, 'kid': KID, 'typ': 'JWT'})}.{segment(claims())}."
    refused(verifier, token, "algorithm not allowed")
    no_alg = f"{segment({'kid': KID})}.{segment(claims())}."
    refused(verifier, no_alg, "algorithm not allowed")


def test_hs256_signed_with_the_public_key(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey
) -> None:
    """The classic confusion: the public key (which anyone can fetch) used as an HMAC key."""
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{segment({'alg': 'HS256', 'kid': KID, 'typ': 'JWT'})}.{segment(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    refused(verifier, f"{signing_input}.{b64(mac)}", "algorithm not allowed")


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256", "HS512", "EdDSA", "rs256"])
def test_other_algorithms(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey, alg: str
) -> None:
    genuine = sign(private_key, claims())
    _, payload, signature = genuine.split(".")
    relabelled = f"{segment({'alg': alg, 'kid': KID})}.{payload}.{signature}"
    refused(verifier, relabelled, "algorithm not allowed")


def test_tampered_payload(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    header, _, signature = sign(private_key, claims()).split(".")
    forged = f"{header}.{segment(claims(sub='admin'))}.{signature}"
    refused(verifier, forged, "invalid token signature")


def test_tampered_signature(verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey) -> None:
    header, payload, signature = sign(private_key, claims()).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 1
    refused(verifier, f"{header}.{payload}.{b64(bytes(raw))}", "invalid token signature")


def test_signed_by_another_key_with_our_kid(
    verifier: CognitoVerifier, other_key: rsa.RSAPrivateKey
) -> None:
    refused(verifier, sign(other_key, claims()), "invalid token signature")


def test_embedded_key_headers_are_ignored(
    verifier: CognitoVerifier, other_key: rsa.RSAPrivateKey
) -> None:
    """A token carrying its own key (jwk / jku / x5u) is still checked against the pool's."""
    token = sign(other_key, claims(), jwk=jwk(other_key, KID), jku="https://evil.example/jwks")
    refused(verifier, token, "invalid token signature")


# -- unknown kid and the JWKS --------------------------------------------------------------


def test_unknown_kid_refetches_at_most_every_five_minutes(
    verifier: CognitoVerifier, jwks: Jwks, private_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    verifier.verify(sign(private_key, claims()))
    assert len(jwks.urls) == 1
    refused(verifier, sign(private_key, claims(), kid="rotated"), "unknown key")
    assert len(jwks.urls) == 2  # one refetch...
    for _ in range(20):
        refused(verifier, sign(private_key, claims(), kid="made-up"), "unknown key")
    assert len(jwks.urls) == 2  # ...and no more within the interval
    clock.now += REFETCH_INTERVAL
    refused(verifier, sign(private_key, claims(exp=int(clock.now) + 60), kid="x"), "unknown key")
    assert len(jwks.urls) == 3
    assert set(jwks.urls) == {JWKS_URL}


def test_rotated_key_is_picked_up(
    verifier: CognitoVerifier,
    jwks: Jwks,
    private_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
) -> None:
    verifier.verify(sign(private_key, claims()))
    jwks.keys = [jwk(other_key, "key-2")]  # Cognito rotated: the old key is gone
    assert verifier.verify(sign(other_key, claims(), kid="key-2")).owner == "5f1c-user"
    assert len(jwks.urls) == 2
    refused(verifier, sign(private_key, claims()), "unknown key")  # the old kid was dropped


def test_jwks_unavailable(
    verifier: CognitoVerifier, jwks: Jwks, private_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    jwks.fail = True
    token = sign(private_key, claims())
    error = refused(verifier, token, "signing keys are unavailable")
    assert isinstance(error, JwksUnavailable)
    refused(verifier, token, "signing keys are unavailable")
    assert len(jwks.urls) == 1  # failures back off too
    jwks.fail = False
    clock.now += FAILED_FETCH_RETRY
    assert verifier.verify(token).owner == "5f1c-user"
    assert len(jwks.urls) == 2


def test_failed_refetch_keeps_known_keys(
    verifier: CognitoVerifier, jwks: Jwks, private_key: rsa.RSAPrivateKey
) -> None:
    verifier.verify(sign(private_key, claims()))
    jwks.fail = True
    refused(verifier, sign(private_key, claims(), kid="new"), "unknown key")
    verifier.verify(sign(private_key, claims()))


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"keys": "nope"},
        {"keys": []},
        {"keys": [{"kid": KID, "kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]},
        {"keys": [{"kid": KID, "kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQAB"}]},
        {"keys": ["not a dict", {"kty": "RSA"}]},
    ],
)
def test_unusable_jwks(
    private_key: rsa.RSAPrivateKey, clock: Clock, document: dict[str, Any]
) -> None:
    v = CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=lambda url: document, clock=clock)
    refused(v, sign(private_key, claims()), "signing keys are unavailable")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_weak_and_private_keys_are_not_trusted(
    private_key: rsa.RSAPrivateKey, clock: Clock
) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    leaked: dict[str, Any] = {
        **RSAAlgorithm.to_jwk(private_key, as_dict=True),
        "kid": KID,
        "alg": "RS256",
    }
    document = {"keys": [jwk(weak, "weak"), leaked, jwk(private_key, "good")]}
    v = CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=lambda url: document, clock=clock)
    assert v.verify(sign(private_key, claims(), kid="good")).owner == "5f1c-user"
    refused(v, sign(weak, claims(), kid="weak"), "unknown key")
    refused(v, sign(private_key, claims(), kid=KID), "unknown key")


def test_refresh_keys(jwks: Jwks, clock: Clock) -> None:
    v = CognitoVerifier(REGION, POOL, CLIENT, fetch_jwks=jwks, clock=clock)
    v.refresh_keys()
    assert jwks.urls == [JWKS_URL]
    jwks.fail = True
    with pytest.raises(JwksUnavailable):
        v.refresh_keys()


def test_default_fetcher_uses_httpx_with_a_short_timeout(
    monkeypatch: pytest.MonkeyPatch, private_key: rsa.RSAPrivateKey
) -> None:
    import httpx

    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_get(url: str, **kwargs: Any) -> httpx.Response:
        calls.append((url, kwargs))
        return httpx.Response(
            200, json={"keys": [jwk(private_key, KID)]}, request=httpx.Request("GET", url)
        )

    monkeypatch.setattr(httpx, "get", fake_get)
    v = CognitoVerifier(REGION, POOL, CLIENT, clock=Clock())
    assert v.verify(sign(private_key, claims())).owner == "5f1c-user"
    [(url, kwargs)] = calls
    assert url == JWKS_URL
    assert kwargs["timeout"] <= 5
    assert kwargs["follow_redirects"] is False


def test_default_fetcher_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    monkeypatch.setattr(
        httpx,
        "get",
        lambda url, **kw: httpx.Response(503, request=httpx.Request("GET", url)),
    )
    with pytest.raises(httpx.HTTPStatusError):
        fetch_jwks_https(JWKS_URL)
    monkeypatch.setattr(
        httpx,
        "get",
        lambda url, **kw: httpx.Response(200, json=[1], request=httpx.Request("GET", url)),
    )
    with pytest.raises(ValueError, match="not a JSON object"):
        fetch_jwks_https(JWKS_URL)


# -- garbage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "....",
        "Bearer eyJ",
        "eyJhbGciOiJSUzI1NiJ9",
        "eyJhbGciOiJSUzI1NiJ9..",
        "!!!.@@@.###",
        "x" * 20_000,
        "ünïcödé.ünïcödé.ünïcödé",
        f"{b64(b'[1,2]')}.{segment(claims())}.c2ln",
        f"{b64(b'not json')}.{segment(claims())}.c2ln",
        None,
        b"bytes.are.refused",
        42,
    ],
)
def test_garbage(verifier: CognitoVerifier, token: Any) -> None:
    refused(verifier, token, "malformed token|algorithm not allowed|no key id")


def test_payload_that_is_not_an_object(
    verifier: CognitoVerifier, private_key: rsa.RSAPrivateKey
) -> None:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    token = jwt.api_jws.encode(b"[1, 2, 3]", pem, algorithm="RS256", headers={"kid": KID})
    refused(verifier, token, "malformed token")
    token = jwt.api_jws.encode(b"not json", pem, algorithm="RS256", headers={"kid": KID})
    refused(verifier, token, "malformed token")


def test_non_string_kid(verifier: CognitoVerifier) -> None:
    token = f"{segment({'alg': 'RS256', 'kid': 7})}.{segment(claims())}.c2ln"
    refused(verifier, token, "malformed token|no key id")
    token = f"{segment({'alg': 'RS256'})}.{segment(claims())}.c2ln"
    refused(verifier, token, "no key id")


# -- the error and the configuration -------------------------------------------------------


def test_invalid_token_is_an_auth_error() -> None:
    error = InvalidToken("token has expired")
    assert isinstance(error, AuthError)
    assert error.reason == str(error) == "token has expired"
    assert issubclass(JwksUnavailable, InvalidToken)


@pytest.mark.parametrize(
    ("region", "pool"),
    [("eu-west-1/../x", POOL), (REGION, "pool/../../evil"), (REGION, ""), ("a@b", POOL)],
)
def test_configuration_is_validated(region: str, pool: str) -> None:
    with pytest.raises(ConfigurationError):
        CognitoVerifier(region, pool, CLIENT)


def test_client_id_required() -> None:
    with pytest.raises(ConfigurationError, match="client id"):
        CognitoVerifier(REGION, POOL, "")


def test_urls_and_repr(verifier: CognitoVerifier) -> None:
    assert verifier.issuer == ISSUER
    assert verifier.jwks_url == JWKS_URL
    assert POOL in repr(verifier)
