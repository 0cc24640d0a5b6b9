"""NetSuite authentication as httpx.Auth classes: token-based auth, OAuth 2.0 client credentials and
OAuth 2.0 authorization code (a user's "Allow access", with refresh tokens).

Signing is oauthlib's (OAuth 1.0a HMAC-SHA256 with realm) and PyJWT's (PS256/ES256 assertions); nothing
here implements crypto. Neither class's repr shows a secret.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Generator
from typing import Any, Protocol

import httpx
import jwt
import oauthlib.oauth1

from resolve_sync.netsuite.errors import NetSuiteAuthError, NetSuiteUnavailable

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


# -- OAuth 2.0 authorization code -------------------------------------------------------------------------


class AuthorizationExpired(NetSuiteAuthError):
    """The token endpoint refused the refresh token (`invalid_grant`): it expired (NetSuite's last seven
    days after the user pressed "Allow access") or was revoked. Only the user can authorize again."""


@dataclasses.dataclass(frozen=True)
class OAuth2Tokens:
    """An authorization-code grant's tokens; times are seconds since the epoch. The repr hides the tokens."""

    access_token: str = dataclasses.field(repr=False)
    access_expires_at: float
    refresh_token: str = dataclasses.field(repr=False)
    refresh_expires_at: float | None = None

    def expiring(self, now: float, margin: float = RENEW_BEFORE_EXPIRY_SECONDS) -> bool:
        return not self.access_token or now > self.access_expires_at - margin


class TokenKeeper(Protocol):
    """Where a connection's tokens live between requests and runs.

    `renew` is called when the access token is missing, about to expire or was refused; `stale` is the
    token set the caller holds, and `refresh` performs one refresh-token grant. A keeper shared by several
    processes makes renewal single-flight: one caller refreshes, the others wait for and use its result.
    """

    def renew(self, stale: OAuth2Tokens, refresh: Callable[[OAuth2Tokens], OAuth2Tokens]) -> OAuth2Tokens: ...


class InMemoryTokenKeeper:
    """One process, nothing persisted (tests, one-off commands)."""

    def renew(self, stale: OAuth2Tokens, refresh: Callable[[OAuth2Tokens], OAuth2Tokens]) -> OAuth2Tokens:
        return refresh(stale)


class AuthorizationCodeAuth(httpx.Auth):
    """OAuth 2.0 authorization code: a bearer access token renewed with the refresh token before it
    expires (and once more if NetSuite refuses it anyway); renewal goes through a `TokenKeeper`, which
    persists the new token and keeps concurrent runs from refreshing at once."""

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        client_secret: str,
        tokens: OAuth2Tokens,
        keeper: TokenKeeper | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._tokens = tokens
        self._keeper = keeper or InMemoryTokenKeeper()
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self.renewals = 0

    def __repr__(self) -> str:
        return f"AuthorizationCodeAuth(client_id=<hidden>, tokens=<hidden>, token_url={self._token_url!r})"

    @property
    def tokens(self) -> OAuth2Tokens:
        return self._tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self._current(force=False, sent=None)
        request.headers["Authorization"] = f"Bearer {sent.access_token}"
        response = yield request
        if response.status_code == 401:
            renewed = self._current(force=True, sent=sent.access_token)
            if renewed.access_token != sent.access_token:
                request.headers["Authorization"] = f"Bearer {renewed.access_token}"
                yield request

    def _current(self, *, force: bool, sent: str | None) -> OAuth2Tokens:
        """The tokens to use; renewed by the first thread that finds them expiring or refused."""
        with self._lock:
            if (force and self._tokens.access_token == sent) or self._tokens.expiring(self._clock()):
                self._tokens = self._keeper.renew(self._tokens, self.refresh)
            return self._tokens

    def refresh(self, tokens: OAuth2Tokens) -> OAuth2Tokens:
        """One refresh-token grant; `AuthorizationExpired` when NetSuite answers `invalid_grant`."""
        with httpx.Client(timeout=self._timeout) as client:
            try:
                response = client.post(
                    self._token_url,
                    data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
                    auth=(self._client_id, self._client_secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.TransportError as error:
                raise NetSuiteUnavailable(
                    f"NetSuite's token endpoint could not be reached ({type(error).__name__}); "
                    "the access token was not renewed.",
                ) from None
        self.renewals += 1
        return tokens_from_grant(response, tokens, now=self._clock())


def tokens_from_grant(response: httpx.Response, previous: OAuth2Tokens | None, *, now: float) -> OAuth2Tokens:
    """The tokens in a token-endpoint answer (an authorization-code or refresh-token grant).

    NetSuite keeps the refresh token on a refresh and sends only a new access token; a rotated one is kept
    if it is ever sent."""
    body: dict[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            body = parsed
    except ValueError:
        pass
    error = str(body.get("error", ""))
    if response.status_code in (400, 401) and error == "invalid_grant":
        raise AuthorizationExpired(
            "NetSuite refused the refresh token (invalid_grant): the authorization expired or was revoked.",
            status=response.status_code,
            code="invalid_grant",
        )
    if response.status_code != 200 or not body.get("access_token"):
        message = (
            f"NetSuite's token endpoint answered HTTP {response.status_code}"
            + (f" ({error})" if error else "")
            + "; check the integration's client id and secret (RESOLVE_SYNC_NETSUITE_CLIENT_ID/_SECRET)."
        )
        if response.status_code >= 500:
            raise NetSuiteUnavailable(message, status=response.status_code)
        raise NetSuiteAuthError(message, status=response.status_code, code=error or None)
    try:
        lifetime = float(body.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    refresh_token = str(body.get("refresh_token") or (previous.refresh_token if previous else ""))
    return OAuth2Tokens(
        access_token=str(body["access_token"]),
        access_expires_at=now + lifetime,
        refresh_token=refresh_token,
        refresh_expires_at=previous.refresh_expires_at
        if previous and not body.get("refresh_token")
        else None,
    )
