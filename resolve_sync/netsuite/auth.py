"""NetSuite authentication as httpx.Auth classes: token-based auth and OAuth 2.0 client credentials.

Signing is oauthlib's (OAuth 1.0a HMAC-SHA256 with realm) and PyJWT's (PS256/ES256 assertions); nothing
here implements crypto. Neither class's repr shows a secret.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Generator
from typing import Any

import httpx
import jwt
import oauthlib.oauth1

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
RENEW_BEFORE_EXPIRY_SECONDS = 300


class TokenBasedAuth(httpx.Auth):
    """NetSuite TBA: every request signed with HMAC-SHA256, realm = the account id in upper case."""

    def __init__(
        self, account_id: str, *, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ) -> None:
        self._realm = account_id.upper()
        self._client_args = dict(
            client_key=consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token_id,
            resource_owner_secret=token_secret,
        )

    def __repr__(self) -> str:
        return f"TokenBasedAuth(realm={self._realm!r}, secrets=<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signer = oauthlib.oauth1.Client(
            **self._client_args, signature_method=oauthlib.oauth1.SIGNATURE_HMAC_SHA256, realm=self._realm
        )
        _, headers, _ = signer.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


class ClientCredentialsAuth(httpx.Auth):
    """OAuth 2.0 client credentials (M2M): a JWT assertion buys a bearer token, cached and renewed before
    it expires; a 401 triggers one renewal and one retry, then the 401 stands."""

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        certificate_id: str,
        private_key_pem: str,
        algorithm: str = "",
        scopes: tuple[str, ...] = ("rest_webservices",),
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._certificate_id = certificate_id
        self._private_key = private_key_pem
        self._algorithm = algorithm or _algorithm_for(private_key_pem)
        self._scopes = list(scopes)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.renewals = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self._client_id!r}, private_key=<hidden>)"

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self._client_id,
            "scope": self._scopes,
            "aud": self._token_url,
            "iat": now,
            "exp": now + 3000,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims,
            self._private_key,
            algorithm=self._algorithm,
            headers={"kid": self._certificate_id, "typ": "JWT"},
        )

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self._token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._assertion(),
            },
        )

    def _store(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            self._token, self._expires_at = None, 0.0
            return
        body: dict[str, Any] = response.json()
        self._token = str(body["access_token"])
        self._expires_at = time.time() + float(body.get("expires_in", 3600))
        self.renewals += 1

    def _needs_token(self) -> bool:
        return self._token is None or time.time() > self._expires_at - RENEW_BEFORE_EXPIRY_SECONDS

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current_token(force=False, sent=None)
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and token is not None:
            renewed = self._current_token(force=True, sent=token)
            if renewed is not None:
                request.headers["Authorization"] = f"Bearer {renewed}"
                yield request

    def _current_token(self, *, force: bool, sent: str | None) -> str | None:
        """The cached token, renewed by the first thread that finds it missing, expiring or rejected."""
        with self._lock:
            if (force and self._token == sent) or self._needs_token():
                with httpx.Client(timeout=30) as client:
                    self._store(client.send(self._token_request()))
            return self._token


def _algorithm_for(private_key_pem: str) -> str:
    """ES256 for an elliptic-curve key, PS256 for RSA: the two NetSuite accepts for M2M certificates."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_key_pem.encode(), password=None)
    return "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "PS256"
