"""A user's "Allow access": NetSuite's authorization flows from the client's side, and the loopback server
that receives NetSuite's redirect.

Two flows (../shared/reference/netsuite-api.md §2):

- `TokenBasedAuthorization` (TBA, OAuth 1.0a three-legged): request token → the user allows access on
  `authorizetoken.nl` → verifier → access token id and secret, which never expire until revoked.
- `AuthorizationCodeFlow` (OAuth 2.0 authorization code with PKCE S256, Oracle's preferred path; from
  NetSuite 2027.1 no new TBA integrations can be created): code + verifier → an access token (one hour) and
  a refresh token (seven days by default, the integration record's "Refresh Token Validity").

The integration's own credentials (consumer key/secret, which NetSuite's integration record also shows as
client id/secret) belong to the deployment, not to the person connecting: `IntegrationCredentials` reads
them from the environment. Nothing here stores anything; the caller does once the flow has succeeded.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import oauthlib.oauth1

from resolve_sync.errors import ConfigurationError, ResolveSyncError
from resolve_sync.netsuite.auth import TOKEN_PATH, AuthorizationExpired, OAuth2Tokens, tokens_from_grant
from resolve_sync.netsuite.errors import NetSuiteAuthError

CLIENT_ID_ENV = "RESOLVE_SYNC_NETSUITE_CLIENT_ID"
CLIENT_SECRET_ENV = "RESOLVE_SYNC_NETSUITE_CLIENT_SECRET"
REFRESH_TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600  # the integration record's default "Refresh Token Validity"
SCOPE = "rest_webservices"
CALLBACK_PATH = "/callback"
TBA_REQUEST_TOKEN_PATH = "/rest/requesttoken"
TBA_ACCESS_TOKEN_PATH = "/rest/accesstoken"
TBA_AUTHORIZE_PATH = "/app/login/secure/authorizetoken.nl"
OAUTH2_AUTHORIZE_PATH = "/app/login/oauth2/authorize.nl"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class AuthorizationFailed(ResolveSyncError):
    """The "Allow access" flow did not end with credentials; nothing was stored (exit code 1)."""


class AuthorizationDenied(AuthorizationFailed):
    """The user pressed "Deny" on NetSuite's consent page."""


class AuthorizationTimedOut(AuthorizationFailed):
    """No redirect came back from NetSuite in time."""


@dataclasses.dataclass(frozen=True)
class IntegrationCredentials:
    """The integration record's consumer key / client id and consumer secret / client secret."""

    client_id: str = dataclasses.field(repr=False)
    client_secret: str = dataclasses.field(repr=False)

    @classmethod
    def from_environment(cls) -> IntegrationCredentials:
        client_id, client_secret = os.environ.get(CLIENT_ID_ENV, ""), os.environ.get(CLIENT_SECRET_ENV, "")
        if not client_id or not client_secret:
            missing = [
                n for n, v in ((CLIENT_ID_ENV, client_id), (CLIENT_SECRET_ENV, client_secret)) if not v
            ]
            raise ConfigurationError(
                f"{' and '.join(missing)} not set: the NetSuite integration record's consumer key / client id "
                "and consumer secret / client secret come from the deployment's configuration "
                "(see README, 'Connecting a NetSuite account')."
            )
        return cls(client_id, client_secret)


@dataclasses.dataclass(frozen=True)
class NetSuiteHosts:
    """Where each leg goes: the UI host (consent pages), the RESTlet host (TBA tokens), the REST host."""

    app: str
    restlets: str
    rest: str

    @classmethod
    def for_account(cls, account_id: str, base_url: str | None = None) -> NetSuiteHosts:
        if base_url:
            root = base_url.rstrip("/")
            return cls(root, root, root)
        label = account_id.lower().replace("_", "-")
        return cls(
            f"https://{label}.app.netsuite.com",
            f"https://{label}.restlets.api.netsuite.com",
            f"https://{label}.suitetalk.api.netsuite.com",
        )


def is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _check_company(params: Mapping[str, str], account_id: str) -> None:
    company = params.get("company")
    if company and company.upper() != account_id.upper():
        raise AuthorizationFailed(
            f"NetSuite authorized account {company[:40]!r}, not {account_id!r}: log in to the right account "
            "(or pass its id with --account) and run the command again. Nothing was stored."
        )


class TokenBasedAuthorization:
    """TBA's three legs. `start` returns the URL to open; `finish` takes the redirect's parameters."""

    method = "tba"

    def __init__(
        self, account_id: str, integration: IntegrationCredentials, hosts: NetSuiteHosts, timeout: float = 30
    ) -> None:
        self.account_id = account_id
        self._integration = integration
        self._hosts = hosts
        self._timeout = timeout
        self._request_token = ""
        self._request_secret = ""

    def _signed_post(self, url: str, **oauth: str) -> dict[str, str]:
        signer = oauthlib.oauth1.Client(
            self._integration.client_id,
            client_secret=self._integration.client_secret,
            signature_method=oauthlib.oauth1.SIGNATURE_HMAC_SHA256,
            realm=self.account_id.upper(),
            **oauth,
        )
        _, headers, _ = signer.sign(url, http_method="POST")
        with httpx.Client(timeout=self._timeout) as client:
            response = client.post(url, headers={"Authorization": headers["Authorization"]})
        if response.status_code != 200:
            raise NetSuiteAuthError(
                f"NetSuite refused {urlsplit(url).path} (HTTP {response.status_code}); check "
                f"{CLIENT_ID_ENV}/{CLIENT_SECRET_ENV} (the integration's consumer key and secret) and that "
                "token-based authentication is enabled for the integration.",
                status=response.status_code,
            )
        return dict(parse_qsl(response.text))

    def start(self, redirect_uri: str) -> str:
        answer = self._signed_post(self._hosts.restlets + TBA_REQUEST_TOKEN_PATH, callback_uri=redirect_uri)
        self._request_token = answer.get("oauth_token", "")
        self._request_secret = answer.get("oauth_token_secret", "")
        if not self._request_token or not self._request_secret:
            raise NetSuiteAuthError("NetSuite's request-token answer had no oauth_token.")
        return f"{self._hosts.app}{TBA_AUTHORIZE_PATH}?{urlencode({'oauth_token': self._request_token})}"

    def finish(self, params: Mapping[str, str]) -> dict[str, str]:
        if params.get("error") or "oauth_verifier" not in params:
            raise AuthorizationDenied(
                'The authorization was refused on NetSuite\'s page ("Deny"); nothing was stored.'
            )
        if not secrets.compare_digest(params.get("oauth_token", "").encode(), self._request_token.encode()):
            raise AuthorizationFailed("NetSuite redirected with another request's token; nothing was stored.")
        _check_company(params, self.account_id)
        answer = self._signed_post(
            self._hosts.restlets + TBA_ACCESS_TOKEN_PATH,
            resource_owner_key=self._request_token,
            resource_owner_secret=self._request_secret,
            verifier=params["oauth_verifier"],
        )
        if not answer.get("oauth_token") or not answer.get("oauth_token_secret"):
            raise NetSuiteAuthError("NetSuite's access-token answer had no token.")
        return {"token_id": answer["oauth_token"], "token_secret": answer["oauth_token_secret"]}


class AuthorizationCodeFlow:
    """OAuth 2.0 authorization code with PKCE S256."""

    method = "oauth2"

    def __init__(
        self,
        account_id: str,
        integration: IntegrationCredentials,
        hosts: NetSuiteHosts,
        timeout: float = 30,
        clock: Any = time.time,
    ) -> None:
        self.account_id = account_id
        self._integration = integration
        self._hosts = hosts
        self._timeout = timeout
        self._clock = clock
        self._verifier, self._challenge = pkce_pair()
        self._state = secrets.token_urlsafe(32)
        self._redirect_uri = ""

    def start(self, redirect_uri: str) -> str:
        self._redirect_uri = redirect_uri
        query = {
            "response_type": "code",
            "client_id": self._integration.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": self._state,
            "code_challenge": self._challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._hosts.app}{OAUTH2_AUTHORIZE_PATH}?{urlencode(query)}"

    def finish(self, params: Mapping[str, str]) -> OAuth2Tokens:
        if not secrets.compare_digest(params.get("state", "").encode(), self._state.encode()):
            raise AuthorizationFailed(
                "NetSuite's redirect did not carry this request's state (another tab or an old link?); "
                "nothing was stored. Run the command again."
            )
        if params.get("error") == "access_denied":
            raise AuthorizationDenied(
                'The authorization was refused on NetSuite\'s page ("Deny"); nothing was stored.'
            )
        if params.get("error") or not params.get("code"):
            error = params.get("error", "no code")[:80]
            raise AuthorizationFailed(
                f"NetSuite refused the authorization request ({error}); nothing was stored."
            )
        _check_company(params, self.account_id)
        with httpx.Client(timeout=self._timeout) as client:
            response = client.post(
                self._hosts.rest + TOKEN_PATH,
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": self._redirect_uri,
                    "code_verifier": self._verifier,
                },
                auth=(self._integration.client_id, self._integration.client_secret),
                headers={"Accept": "application/json"},
            )
        now = self._clock()
        try:
            tokens = tokens_from_grant(response, None, now=now)
        except AuthorizationExpired:
            raise AuthorizationFailed(
                "NetSuite refused the authorization code (invalid_grant: expired, used, or the PKCE check "
                "failed); nothing was stored. Run the command again."
            ) from None
        return dataclasses.replace(tokens, refresh_expires_at=now + REFRESH_TOKEN_LIFETIME_SECONDS)


class LoopbackCallback:
    """A one-shot HTTP server on 127.0.0.1 and a free port that receives NetSuite's redirect."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        received: dict[str, Any] = {}
        arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path, _, query = self.path.partition("?")
                if path != CALLBACK_PATH or len(query) > 8192:
                    self.send_error(404)
                    return
                params = dict(parse_qsl(query, max_num_fields=50))
                denied = bool(params.get("error"))
                first = not arrived.is_set() and not received
                if first:
                    received.update(params)
                page = CALLBACK_DENIED if denied else CALLBACK_DONE
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if first:
                    # Only now: the command may exit as soon as it is woken, and the browser must have its
                    # page by then (else the user sees a connection error after pressing "Deny").
                    arrived.set()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - no access log (codes)
                return

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._received = received
        self._arrived = arrived
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="netsuite-callback", daemon=True
        )
        port = self._server.server_address[1]
        self.redirect_uri = f"http://{host}:{port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackCallback:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str]:
        if not self._arrived.wait(timeout):
            raise AuthorizationTimedOut(
                f"No answer from NetSuite's consent page within {timeout:g} seconds; nothing was stored. "
                'Run the command again and press "Allow access" (use --timeout for more time).'
            )
        return dict(self._received)


CALLBACK_DONE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>resolve-sync</title></head><body>"
    "<h1>NetSuite answered</h1><p>You can close this tab and return to the terminal.</p></body></html>"
)
CALLBACK_DENIED = (
    "<!doctype html><html><head><meta charset='utf-8'><title>resolve-sync</title></head><body>"
    "<h1>Access was not allowed</h1><p>Nothing was stored. You can close this tab.</p></body></html>"
)

__all__ = [
    "AuthorizationCodeFlow",
    "AuthorizationDenied",
    "AuthorizationFailed",
    "AuthorizationTimedOut",
    "IntegrationCredentials",
    "LoopbackCallback",
    "NetSuiteHosts",
    "TokenBasedAuthorization",
    "is_loopback_url",
]
