"""Cognito user-pool JWTs: RS256 signatures checked against the pool's own JWKS.

Why it is written this way:

* The algorithm is pinned to RS256 and read from the unverified header before anything else,
  so ``alg: none`` and the HS256-with-the-public-key confusion never reach a verifier.
* The key comes only from the pool's JWKS, looked up by ``kid``; header fields that carry a
  key or point at one (``jwk``, ``jku``, ``x5u``) are ignored, or anyone could bring their own.
* No claim is read before the signature is verified. Every refusal is an ``InvalidToken``
  with a fixed reason that is safe to send to the client and to log: no token content.
* PyJWT, cryptography and httpx are imported inside functions: the embedded server imports
  ``agentweaver.security`` and needs none of them.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from agentweaver.exceptions import ConfigurationError, InvalidToken, JwksUnavailable
from agentweaver.security.principal import Principal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = [
    "FAILED_FETCH_RETRY",
    "FETCH_TIMEOUT",
    "MIN_RSA_BITS",
    "REFETCH_INTERVAL",
    "CognitoVerifier",
    "InvalidToken",
    "JwksUnavailable",
    "fetch_jwks_https",
]

log = logging.getLogger("agentweaver.security")

MIN_RSA_BITS = 2048
FETCH_TIMEOUT = 3.0  # seconds; a request waits on this at most, so keep it short
REFETCH_INTERVAL = 300.0  # an unknown kid refetches at most this often: no fetch amplification
FAILED_FETCH_RETRY = 10.0  # after a failed fetch, refuse fast instead of hammering Cognito
MAX_TOKEN_CHARS = 16_384  # Cognito tokens are a few KB; bigger is garbage, refused unparsed

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_TOKEN_USES = frozenset({"id", "access"})

JwksFetcher = Callable[[str], Mapping[str, Any]]


def fetch_jwks_https(url: str) -> dict[str, Any]:
    """Fetch a JWKS document; any failure raises (the verifier turns it into a refusal).

    Redirects are not followed: the JWKS URL is derived from the configured pool and a
    redirect elsewhere could only serve someone else's keys.
    """
    import httpx

    response = httpx.get(url, timeout=FETCH_TIMEOUT, follow_redirects=False)
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict):
        raise ValueError("JWKS response is not a JSON object")
    return document


def _b64_json(segment: str) -> Any:
    """Decode one base64url JSON segment strictly; ``InvalidToken`` if it is anything else."""
    if not _SEGMENT.fullmatch(segment):  # b64decode would silently skip stray characters
        raise InvalidToken("malformed token")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError included
        raise InvalidToken("malformed token") from None


def _usable_key(entry: Any) -> tuple[str, RSAPublicKey] | None:
    """The ``(kid, key)`` of a JWKS entry usable for RS256 signatures, else ``None``.

    Private material in a *public* key set means something is badly wrong upstream, so
    such an entry is not trusted at all; short keys are refused outright.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from jwt.algorithms import RSAAlgorithm

    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid or _PRIVATE_MEMBERS & entry.keys():
        return None
    if entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
        return None
    ops = entry.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    try:
        key = RSAAlgorithm.from_jwk(entry)
    except Exception:  # any malformed member: skip the entry, keep the others
        return None
    if not isinstance(key, RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        return None
    return kid, key


def _time(claims: Mapping[str, Any], name: str) -> float:
    """A time claim as a finite number; bools, strings, null and infinity are not times."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken(f"token has no valid '{name}' claim")
    return float(value)


class CognitoVerifier:
    """Verifies ID and access tokens issued by one Cognito user pool for one app client."""

    def __init__(
        self,
        region: str,
        user_pool_id: str,
        client_id: str,
        *,
        fetch_jwks: JwksFetcher | None = None,
        clock: Callable[[], float] = time.time,
        leeway: float = 60,
    ) -> None:
        # both end up in URLs: a stray "/" or "@" could point the key fetch somewhere else
        if not isinstance(region, str) or not _NAME.fullmatch(region):
            raise ConfigurationError("invalid AWS region for the Cognito user pool")
        if not isinstance(user_pool_id, str) or not _NAME.fullmatch(user_pool_id):
            raise ConfigurationError("invalid Cognito user pool id")
        if not isinstance(client_id, str) or not client_id:
            raise ConfigurationError("a Cognito app client id is required")
        self.region = region
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        self.leeway = leeway
        self._fetch: JwksFetcher = fetch_jwks or fetch_jwks_https
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, RSAPublicKey] | None = None  # replaced whole, never mutated
        self._last_refetch: float | None = None  # refetches for unknown kids, not first load
        self._failed_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"CognitoVerifier(region={self.region!r}, user_pool_id={self.user_pool_id!r}, "
            f"client_id={self.client_id!r})"
        )

    # -- keys ----------------------------------------------------------------------------

    def refresh_keys(self) -> None:
        """Load the JWKS now (at startup, so the first request does not pay for the fetch)."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        """Fetch and replace the key set; the caller holds the lock.

        A failed or useless fetch keeps the keys already known: a Cognito outage must not
        sign everyone out. The error is logged by type only, as fetchers may quote anything.
        """
        try:
            document = self._fetch(self.jwks_url)
            entries = document.get("keys") if isinstance(document, Mapping) else None
            if not isinstance(entries, list):
                raise ValueError("no key list")
            keys = dict(filter(None, map(_usable_key, entries)))
            if not keys:
                raise ValueError("no usable RS256 key")
        except Exception as exc:
            self._failed_at = self._clock()
            log.warning("could not load the JWKS of %s: %s", self.jwks_url, type(exc).__name__)
            raise JwksUnavailable("signing keys are unavailable") from None
        self._keys = keys
        self._failed_at = None

    def _key(self, kid: str) -> RSAPublicKey:
        keys = self._keys  # fast path without the lock: the dict is swapped, not edited
        if keys is not None and kid in keys:
            return keys[kid]
        with self._lock:
            now = self._clock()
            if self._keys is None:
                if self._failed_at is not None and now - self._failed_at < FAILED_FETCH_RETRY:
                    raise JwksUnavailable("signing keys are unavailable")
                self._load()
            elif kid not in self._keys and (
                # a rotation shows up as a new kid; random kids must not turn into fetches
                self._last_refetch is None or now - self._last_refetch >= REFETCH_INTERVAL
            ):
                self._last_refetch = now
                try:
                    self._load()
                except JwksUnavailable:
                    pass  # the known keys stay; this kid is simply not among them
            key = (self._keys or {}).get(kid)
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        return key

    # -- tokens --------------------------------------------------------------------------

    def verify(self, token: str) -> Principal:
        """The caller a valid token names; ``scopes`` come from an access token's ``scope``."""
        claims = self.verified_claims(token)
        scope = claims.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        return Principal(owner=claims["sub"], via="jwt", scopes=scopes)

    def verified_claims(self, token: str) -> dict[str, Any]:
        """Every claim of a token whose signature, issuer, times and audience all check out."""
        try:
            return self._verify(token)
        except InvalidToken as exc:
            log.info("refused a bearer token: %s", exc.reason)
            raise

    def _verify(self, token: Any) -> dict[str, Any]:
        from jwt.api_jws import PyJWS
        from jwt.exceptions import InvalidSignatureError, PyJWTError

        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise InvalidToken("malformed token")
        header = _b64_json(token.split(".", 1)[0])
        if not isinstance(header, dict):
            raise InvalidToken("malformed token")
        if header.get("alg") != "RS256":  # exact: "rs256", "none" and HS256 all stop here
            raise InvalidToken("token algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        key = self._key(kid)
        try:
            payload = PyJWS().decode_complete(token, key, algorithms=["RS256"])["payload"]
        except InvalidSignatureError:
            raise InvalidToken("invalid token signature") from None
        except PyJWTError:
            raise InvalidToken("malformed token") from None
        try:
            claims = json.loads(payload)
        except ValueError:
            raise InvalidToken("malformed token") from None
        if not isinstance(claims, dict):
            raise InvalidToken("malformed token")
        self._check(claims)
        return claims

    def _check(self, claims: dict[str, Any]) -> None:
        """The claim checks, run only on a verified payload."""
        if claims.get("iss") != self.issuer:  # exact: no trailing "/", case or scheme games
            raise InvalidToken("token not issued by this user pool")
        now = self._clock()
        exp = _time(claims, "exp")
        iat = _time(claims, "iat")
        nbf = _time(claims, "nbf") if "nbf" in claims else None
        if now >= exp + self.leeway:
            raise InvalidToken("token has expired")
        if iat > now + self.leeway:
            raise InvalidToken("token was issued in the future")
        if nbf is not None and nbf > now + self.leeway:
            raise InvalidToken("token is not valid yet")
        token_use = claims.get("token_use")
        if token_use not in _TOKEN_USES:
            raise InvalidToken("token has an unexpected token_use")
        # Cognito names the client differently per token type; each is judged by its own
        if token_use == "id":
            aud = claims.get("aud")
            audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
            ok = self.client_id in audiences
        else:
            ok = claims.get("client_id") == self.client_id
        if not ok:
            raise InvalidToken("token is for another app client")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("token has no subject")
