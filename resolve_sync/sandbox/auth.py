"""How NetSuite checks a caller: token-based auth (OAuth 1.0a, HMAC-SHA256) and OAuth 2.0 client credentials.

Signature checking uses oauthlib's RFC 5849 primitives and PyJWT, never hand-rolled crypto. Any failure
is the same 401 INVALID_LOGIN to the caller, as NetSuite answers; the reason is kept for the sandbox's stats.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from base64 import b64encode
from collections import OrderedDict
from typing import Any

import jwt
from oauthlib.oauth1.rfc5849 import signature, utils

TIMESTAMP_TOLERANCE_SECONDS = 300
NONCE_MEMORY_SECONDS = 900
ALLOWED_JWT_ALGORITHMS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class LoginRejected(Exception):
    """The request is not authenticated; `reason` is for the sandbox's own diagnostics only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality that also works for non-ASCII text (compare_digest refuses such str)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def canonical_host(account_id: str) -> str:
    return f"{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


class TokenBasedAuth:
    """Verifies `Authorization: OAuth realm=…, oauth_…` headers exactly as NetSuite's TBA does."""

    def __init__(self, account_id: str, credentials: list[dict[str, Any]]) -> None:
        self.account_id = account_id
        self.credentials = credentials
        self._nonces: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, method: str, url: str, authorization: str, body: bytes) -> str:
        """Returns the consumer key of the verified caller."""
        try:
            header_params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(authorization)}
        except (ValueError, IndexError):
            raise LoginRejected("malformed OAuth header") from None
        if header_params.get("realm", "").upper() != self.account_id.upper():
            raise LoginRejected("realm is not the account id")
        if header_params.get("oauth_signature_method") != "HMAC-SHA256":
            raise LoginRejected("signature method must be HMAC-SHA256")
        credential = self._credential(
            header_params.get("oauth_consumer_key"), header_params.get("oauth_token")
        )
        self._check_timestamp(header_params.get("oauth_timestamp"))
        if "oauth_body_hash" in header_params:
            self._check_body_hash(header_params["oauth_body_hash"], body)
        query = url.split("?", 1)[1] if "?" in url else ""
        params = signature.collect_parameters(
            uri_query=query,
            headers={"Authorization": authorization},
            exclude_oauth_signature=True,
            with_realm=False,
        )
        base_string = signature.signature_base_string(
            method.upper(), signature.base_string_uri(url), signature.normalize_parameters(params)
        )
        expected = signature.sign_hmac_sha256(
            base_string, credential["consumer_secret"], credential["token_secret"]
        )
        if not same_secret(expected, header_params.get("oauth_signature", "")):
            raise LoginRejected("signature mismatch")
        self._use_nonce(
            credential["token_id"], header_params.get("oauth_nonce", ""), header_params["oauth_timestamp"]
        )
        return credential["consumer_key"]

    def _credential(self, consumer_key: str | None, token_id: str | None) -> dict[str, Any]:
        for credential in self.credentials:
            if same_secret(str(credential["consumer_key"]), consumer_key or "") and same_secret(
                str(credential["token_id"]), token_id or ""
            ):
                return credential
        raise LoginRejected("unknown consumer key or token")

    @staticmethod
    def _check_timestamp(raw: str | None) -> None:
        if not (raw and raw.isascii() and raw.isdigit() and len(raw) <= 12):
            raise LoginRejected("missing timestamp")
        stamp = int(raw)
        if abs(time.time() - stamp) > TIMESTAMP_TOLERANCE_SECONDS:
            raise LoginRejected("timestamp outside the allowed window")

    @staticmethod
    def _check_body_hash(sent: str, body: bytes) -> None:
        # The OAuth body-hash extension; clients use SHA-1 (authlib) or the signature's SHA-256.
        candidates = {
            b64encode(hashlib.sha1(body).digest()).decode(),
            b64encode(hashlib.sha256(body).digest()).decode(),
        }
        if sent not in candidates:
            raise LoginRejected("body hash mismatch")

    def _use_nonce(self, token_id: str, nonce: str, timestamp: str) -> None:
        now = time.time()
        key = (token_id, nonce, timestamp)
        with self._lock:
            while self._nonces and next(iter(self._nonces.values())) < now - NONCE_MEMORY_SECONDS:
                self._nonces.popitem(last=False)
            if not nonce or key in self._nonces:
                raise LoginRejected("nonce already used")
            self._nonces[key] = now


class ClientCredentialsIssuer:
    """OAuth 2.0 client credentials (M2M): JWT assertions in, one-hour bearer tokens out."""

    def __init__(self, account_id: str, clients: list[dict[str, Any]], token_ttl_seconds: int = 3600) -> None:
        self.account_id = account_id
        self.clients = clients
        self.token_ttl_seconds = token_ttl_seconds
        self._tokens: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def issue(self, form: dict[str, str], token_url: str) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise LoginRejected("grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise LoginRejected("client_assertion_type must be jwt-bearer")
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise LoginRejected("malformed assertion") from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_JWT_ALGORITHMS:
            raise LoginRejected("assertion algorithm not allowed")
        client = next((c for c in self.clients if str(c["certificate_id"]) == str(header.get("kid"))), None)
        if client is None:
            raise LoginRejected("unknown certificate id")
        audiences = [
            token_url,
            f"https://{canonical_host(self.account_id)}/services/rest/auth/oauth2/v1/token",
        ]
        try:
            claims = jwt.decode(
                assertion,
                key=client["public_key_pem"],
                algorithms=[algorithm],
                audience=audiences,
                issuer=str(client["client_id"]),
                options={"require": ["exp", "iat", "iss", "aud", "scope"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise LoginRejected(f"assertion rejected: {type(exc).__name__}") from None
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            raise LoginRejected("assertion lifetime over 60 minutes")
        scopes = (
            claims["scope"]
            if isinstance(claims["scope"], list)
            else str(claims["scope"]).replace(",", " ").split()
        )
        if "rest_webservices" not in scopes:
            raise LoginRejected("scope lacks rest_webservices")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (time.time() + self.token_ttl_seconds, str(client["client_id"]))
        return {"access_token": token, "expires_in": str(self.token_ttl_seconds), "token_type": "bearer"}

    def verify(self, authorization: str) -> str:
        token = authorization.split(" ", 1)[1].strip() if " " in authorization else ""
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None or entry[0] < time.time():
            raise LoginRejected("unknown or expired bearer token")
        return entry[1]

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()
