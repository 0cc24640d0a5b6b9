"""NetSuite's "Allow access" flows: the login-and-consent page, TBA's three-legged flow and OAuth 2.0's
authorization-code grant, with tokens that expire on the sandbox clock and can be revoked.

What a merchant's admin sees in NetSuite, at NetSuite's paths:

- TBA (OAuth 1.0a three-legged): `POST /rest/requesttoken` (signed with the integration's consumer key and
  secret, `oauth_callback` in the header) gives a request token; the browser goes to
  `GET /app/login/secure/authorizetoken.nl?oauth_token=…`, logs in and presses "Allow access"; NetSuite
  redirects to the callback with `oauth_token`, `oauth_verifier` and `company`; `POST /rest/accesstoken`
  (signed with the request token and the verifier) gives the access token id and secret. TBA tokens do not
  expire; they work until revoked.
- OAuth 2.0 authorization code: `GET /app/login/oauth2/authorize.nl?response_type=code&client_id=…&
  redirect_uri=…&scope=rest_webservices&state=…&code_challenge=…&code_challenge_method=S256`; "Allow access"
  redirects with `code`, `state`, `role`, `entity` and `company`; `POST /services/rest/auth/oauth2/v1/token`
  (Basic client id:secret) with `grant_type=authorization_code` and the PKCE `code_verifier` gives an
  access token (one hour) and a refresh token (seven days from the authorization); `grant_type=refresh_token`
  gives a new access token. An unknown, expired, revoked or mismatched code or refresh token is
  400 `{"error": "invalid_grant"}`.

The integration record is the fixture's TBA credentials: in NetSuite one record shows "Consumer Key / Client
ID" and "Consumer Secret / Client Secret", the same pair for both flows. "Deny" redirects with
`error=access_denied` (RFC 6749 §4.1.2.1; [U] what NetSuite's TBA page sends on Deny is not documented).

Token lifetimes are read on the sandbox clock (`/_sandbox/clock`), so a test moves past an hour or a week
without waiting. `POST /_sandbox/authorizations/revoke` revokes every grant made here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from oauthlib.oauth1.rfc5849 import utils
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from resolve_sync.sandbox.auth import LoginRejected, TokenBasedAuth, same_secret
from resolve_sync.sandbox.checks import PayloadError, settings_object
from resolve_sync.sandbox.request_body import ADMIN_MAX_BYTES, BodyRejected, parse_json, read_body

if TYPE_CHECKING:
    from resolve_sync.sandbox.account import SandboxAccount
    from resolve_sync.sandbox.app import Sandbox

ACCESS_TOKEN_TTL_SECONDS = 3600  # NSH/article_0907013045.html
REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 3600  # the default "Refresh Token Validity"; [3P] prismatic.io
PENDING_TTL_SECONDS = 600  # a consent page, request token or authorization code left unused; [U] NetSuite's
MAX_PENDING = 1000  # consents, request tokens and codes held at once; the oldest go first
MAX_FORM_FIELDS = 50
MAX_PARAM_LENGTH = 2048
STATE_LENGTH = (22, 1024)  # [U] NetSuite documents a minimum length for `state`; 22 is what we enforce
SCOPES = {"rest_webservices", "restlets", "suite_analytics"}
TBA_REQUEST_TOKEN_PATH = "/rest/requesttoken"
TBA_ACCESS_TOKEN_PATH = "/rest/accesstoken"
TBA_AUTHORIZE_PATH = "/app/login/secure/authorizetoken.nl"
OAUTH2_AUTHORIZE_PATH = "/app/login/oauth2/authorize.nl"
ADMIN_HEADER = "x-sandbox-admin-token"


class GrantRejected(Exception):
    """A token request refused with an OAuth 2.0 error code (`invalid_grant`, `invalid_client`, …)."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.status = error, status


@dataclass
class Consent:
    """One visit to the consent page, waiting for "Allow access" or "Deny"."""

    flow: str  # "tba" or "oauth2"
    client_id: str
    redirect_uri: str
    expires_at: float
    state: str = ""
    code_challenge: str = ""
    request_token: str = ""


@dataclass
class Grant:
    """One "Allow access": what the refresh token and its access tokens were issued for."""

    client_id: str
    refresh_expires_at: float
    revoked: bool = False
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at (sandbox clock)


@dataclass
class AuthorizationStats:
    consents_allowed: int = 0
    consents_denied: int = 0
    codes_exchanged: int = 0
    refreshes: int = 0
    invalid_grants: int = 0
    tba_tokens_issued: int = 0

    def as_json(self) -> dict[str, int]:
        return dict(self.__dict__)


class AuthorizationServer:
    """NetSuite's authorization side for integrations a user allows: consent, codes, tokens, revocation."""

    def __init__(self, account: SandboxAccount, tba: TokenBasedAuth) -> None:
        self.account = account
        self.account_id = account.fixture.account_id
        # The integrations are the fixture's consumer key/secret pairs; TBA tokens issued here are added to
        # the verifier's own copy of the credentials, never to the fixture.
        self.integrations = {
            str(c["consumer_key"]): str(c["consumer_secret"])
            for c in tba.credentials
            if c.get("consumer_key")
        }
        tba.credentials = list(tba.credentials)
        self.tba = tba
        self._request_signers = {
            key: TokenBasedAuth(
                self.account_id,
                [{"consumer_key": key, "consumer_secret": secret, "token_id": "", "token_secret": ""}],
            )
            for key, secret in self.integrations.items()
        }
        self._consents: OrderedDict[str, Consent] = OrderedDict()
        self._request_tokens: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._codes: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._grants: dict[str, Grant] = {}  # refresh token -> grant
        self._access: dict[str, Grant] = {}  # access token -> grant
        self._issued_tba: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.stats = AuthorizationStats()

    def now(self) -> float:
        """Seconds since the epoch on the sandbox clock (real time plus the admin API's offset)."""
        return time.time() + self.account.clock.offset.total_seconds()

    # -- bookkeeping --------------------------------------------------------------------------------------

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        now = self.now()
        for old in [k for k, v in table.items() if _expires(v) < now]:
            del table[old]
        while len(table) >= MAX_PENDING:
            table.popitem(last=False)
        table[key] = value

    def _client_secret_ok(self, client_id: str, client_secret: str) -> bool:
        expected = self.integrations.get(client_id)
        return expected is not None and same_secret(expected, client_secret)

    # -- the consent page ---------------------------------------------------------------------------------

    def consent_page(self, consent_id: str, consent: Consent, action: str) -> HTMLResponse:
        application = html.escape(consent.client_id[:12] + "…")
        return HTMLResponse(
            CONSENT_PAGE.format(
                action=html.escape(action),
                consent_id=html.escape(consent_id),
                account=html.escape(self.account_id),
                application=application,
                flow="Token-based authentication" if consent.flow == "tba" else "OAuth 2.0",
            ),
            headers=PAGE_HEADERS,
        )

    async def decide(self, request: Request, number: int) -> Response:
        """POST from the consent page: the user's login and "Allow access" or "Deny"."""
        form = _form(await request.body())
        consent_id = form.get("consent", "")
        with self._lock:
            consent = self._consents.pop(consent_id, None)
        if consent is None or consent.expires_at < self.now():
            return error_page("This authorization request has expired or was already answered. Start again.")
        if form.get("decision") == "deny":
            self.stats.consents_denied += 1
            return _redirect(consent.redirect_uri, _denied(consent))
        if form.get("decision") != "allow" or not form.get("email") or not form.get("password"):
            with self._lock:  # a login left blank: show the page again for the same request
                self._remember(self._consents, consent_id, consent)
            return self.consent_page(consent_id, consent, request.scope["path"])
        self.stats.consents_allowed += 1
        if consent.flow == "tba":
            verifier = secrets.token_urlsafe(24)
            with self._lock:
                pending = self._request_tokens.get(consent.request_token)
                if pending is None:
                    return error_page("This authorization request has expired. Start again.")
                pending["verifier"] = verifier
            params = {
                "oauth_token": consent.request_token,
                "oauth_verifier": verifier,
                "company": self.account_id,
            }
            return _redirect(consent.redirect_uri, params)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._remember(
                self._codes,
                code,
                {
                    "client_id": consent.client_id,
                    "redirect_uri": consent.redirect_uri,
                    "code_challenge": consent.code_challenge,
                    "expires_at": self.now() + PENDING_TTL_SECONDS,
                },
            )
        params = {
            "state": consent.state,
            "role": "3",
            "entity": "-5",
            "company": self.account_id,
            "code": code,
        }
        return _redirect(consent.redirect_uri, params)

    # -- TBA: request token, authorize, access token -------------------------------------------------------

    async def tba_request_token(self, request: Request, number: int) -> Response:
        authorization = request.headers.get("authorization", "")
        try:
            params = _oauth_params(authorization)
            key = params.get("oauth_consumer_key", "")
            signer = self._request_signers.get(key)
            if signer is None or "oauth_token" in params:
                raise LoginRejected("unknown consumer key")
            callback = params.get("oauth_callback", "")
            if not _is_redirect_uri(callback):
                raise LoginRejected("oauth_callback must be an http(s) URL")
            signer.verify(request.method, str(request.url), authorization, await request.body())
        except (LoginRejected, ValueError, TypeError, OverflowError):
            return restlet_login_error()
        token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        with self._lock:
            self._remember(
                self._request_tokens,
                token,
                {
                    "consumer_key": key,
                    "secret": secret,
                    "callback": callback,
                    "verifier": None,
                    "expires_at": self.now() + PENDING_TTL_SECONDS,
                },
            )
        body = urlencode(
            {"oauth_token": token, "oauth_token_secret": secret, "oauth_callback_confirmed": "true"}
        )
        return PlainTextResponse(body)

    async def tba_authorize(self, request: Request, number: int) -> Response:
        token = request.query_params.get("oauth_token", "")[:MAX_PARAM_LENGTH]
        with self._lock:
            pending = self._request_tokens.get(token)
        if pending is None or pending["expires_at"] < self.now() or pending["verifier"] is not None:
            return error_page("The request token is unknown, expired or already used. Start again.")
        consent_id = secrets.token_urlsafe(24)
        consent = Consent(
            flow="tba",
            client_id=pending["consumer_key"],
            redirect_uri=pending["callback"],
            expires_at=self.now() + PENDING_TTL_SECONDS,
            request_token=token,
        )
        with self._lock:
            self._remember(self._consents, consent_id, consent)
        return self.consent_page(consent_id, consent, TBA_AUTHORIZE_PATH)

    async def tba_access_token(self, request: Request, number: int) -> Response:
        authorization = request.headers.get("authorization", "")
        try:
            params = _oauth_params(authorization)
            token = params.get("oauth_token", "")
            with self._lock:
                pending = self._request_tokens.get(token)
            if pending is None or pending["expires_at"] < self.now() or pending["verifier"] is None:
                raise LoginRejected("unknown, expired or unauthorized request token")
            if not same_secret(pending["verifier"], params.get("oauth_verifier", "")):
                raise LoginRejected("wrong verifier")
            key = pending["consumer_key"]
            credential = {
                "consumer_key": key,
                "consumer_secret": self.integrations[key],
                "token_id": token,
                "token_secret": pending["secret"],
            }
            TokenBasedAuth(self.account_id, [credential]).verify(
                request.method, str(request.url), authorization, await request.body()
            )
        except (LoginRejected, ValueError, TypeError, OverflowError, KeyError):
            return restlet_login_error()
        with self._lock:
            self._request_tokens.pop(token, None)  # a request token buys one access token
            issued = {
                "consumer_key": key,
                "consumer_secret": self.integrations[key],
                "token_id": secrets.token_hex(32),
                "token_secret": secrets.token_hex(32),
            }
            self.tba.credentials.append(issued)
            self._issued_tba.append(issued)
            self.stats.tba_tokens_issued += 1
        return PlainTextResponse(
            urlencode({"oauth_token": issued["token_id"], "oauth_token_secret": issued["token_secret"]})
        )

    # -- OAuth 2.0: authorize and token ------------------------------------------------------------------

    async def oauth2_authorize(self, request: Request, number: int) -> Response:
        query = {k: v[:MAX_PARAM_LENGTH] for k, v in request.query_params.items()}
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        # Before the redirect URI is trusted, errors are shown, never redirected (RFC 6749 §4.1.2.1).
        if client_id not in self.integrations:
            return error_page("Invalid client_id: no integration record has this client id.")
        if not _is_redirect_uri(redirect_uri):
            return error_page("Invalid redirect_uri.")
        state = query.get("state", "")
        if query.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        if not SCOPES.intersection(query.get("scope", "").replace(",", " ").split()):
            return _redirect(redirect_uri, {"error": "invalid_scope", "state": state})
        if not STATE_LENGTH[0] <= len(state) <= STATE_LENGTH[1]:
            return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
        challenge, method = query.get("code_challenge", ""), query.get("code_challenge_method", "")
        if (challenge or method) and (method != "S256" or not 43 <= len(challenge) <= 128):
            return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
        consent_id = secrets.token_urlsafe(24)
        consent = Consent(
            flow="oauth2",
            client_id=client_id,
            redirect_uri=redirect_uri,
            expires_at=self.now() + PENDING_TTL_SECONDS,
            state=state,
            code_challenge=challenge,
        )
        with self._lock:
            self._remember(self._consents, consent_id, consent)
        return self.consent_page(consent_id, consent, OAUTH2_AUTHORIZE_PATH)

    async def token(self, request: Request, number: int, *, client_credentials: Any) -> Response:
        """The token endpoint: authorization code and refresh token here; client credentials elsewhere."""
        form = _form(await request.body())
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return await client_credentials(request, number)
        try:
            client_id = self._authenticate_client(request.headers.get("authorization", ""), form)
            if grant_type == "authorization_code":
                body = self._exchange_code(client_id, form)
            else:
                body = self._refresh(client_id, form)
        except GrantRejected as rejected:
            if rejected.error == "invalid_grant":
                self.stats.invalid_grants += 1
            return JSONResponse({"error": rejected.error}, status_code=rejected.status, headers=NO_STORE)
        return JSONResponse(body, headers=NO_STORE)

    def _authenticate_client(self, authorization: str, form: dict[str, str]) -> str:
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise GrantRejected("invalid_client", 401) from None
            client_id, _, client_secret = decoded.partition(":")
        if not self._client_secret_ok(client_id, client_secret):
            raise GrantRejected("invalid_client", 401)
        return client_id

    def _exchange_code(self, client_id: str, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)  # a code works once, even when refused
        if (
            code is None
            or code["expires_at"] < self.now()
            or code["client_id"] != client_id
            or code["redirect_uri"] != form.get("redirect_uri", "")
        ):
            raise GrantRejected("invalid_grant")
        if code["code_challenge"] and not same_secret(
            code["code_challenge"], pkce_challenge(form.get("code_verifier", ""))
        ):
            raise GrantRejected("invalid_grant")
        refresh_token = secrets.token_urlsafe(48)
        grant = Grant(client_id=client_id, refresh_expires_at=self.now() + REFRESH_TOKEN_TTL_SECONDS)
        with self._lock:
            self._grants[refresh_token] = grant
            access = self._issue_access(grant)
            self.stats.codes_exchanged += 1
        return {**access, "refresh_token": refresh_token}

    def _refresh(self, client_id: str, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            grant = self._grants.get(form.get("refresh_token", ""))
            if (
                grant is None
                or grant.revoked
                or grant.refresh_expires_at < self.now()
                or grant.client_id != client_id
            ):
                raise GrantRejected("invalid_grant")
            self.stats.refreshes += 1
            # NetSuite keeps the refresh token (valid 7 days from the authorization) and only issues a new
            # access token; [U] whether it ever rotates refresh tokens is not documented.
            return self._issue_access(grant)

    def _issue_access(self, grant: Grant) -> dict[str, Any]:
        now = self.now()
        for token in [t for t, at in grant.access_tokens.items() if at < now]:
            del grant.access_tokens[token]
            self._access.pop(token, None)
        token = secrets.token_urlsafe(48)
        grant.access_tokens[token] = now + ACCESS_TOKEN_TTL_SECONDS
        self._access[token] = grant
        return {"access_token": token, "expires_in": str(ACCESS_TOKEN_TTL_SECONDS), "token_type": "bearer"}

    def verify_bearer(self, authorization: str, *, otherwise: Any) -> str:
        """The client id of a valid auth-code access token; other bearer tokens go to `otherwise` (M2M)."""
        token = authorization.split(" ", 1)[1].strip() if " " in authorization else ""
        with self._lock:
            grant = self._access.get(token)
            if grant is None:
                return otherwise(authorization)
            expires_at = grant.access_tokens.get(token, 0.0)
        if grant.revoked or expires_at < self.now():
            raise LoginRejected("expired or revoked access token")
        return grant.client_id

    # -- admin ---------------------------------------------------------------------------------------------

    def revoke_all(self) -> dict[str, int]:
        """Every refresh and access token and every TBA token issued through "Allow access" stops working."""
        with self._lock:
            grants = [g for g in self._grants.values() if not g.revoked]
            for grant in grants:
                grant.revoked = True
            issued = {id(c) for c in self._issued_tba}
            self.tba.credentials = [c for c in self.tba.credentials if id(c) not in issued]
            revoked_tba = len(self._issued_tba)
            self._issued_tba = []
        return {"oauth2_grants": len(grants), "tba_tokens": revoked_tba}

    def summary(self) -> dict[str, Any]:
        now = self.now()
        with self._lock:
            live = [g for g in self._grants.values() if not g.revoked and g.refresh_expires_at >= now]
            return {
                "oauth2_grants": len(live),
                "tba_tokens": len(self._issued_tba),
                "refresh_tokens_expire_at": sorted(
                    dt.datetime.fromtimestamp(g.refresh_expires_at, dt.UTC).isoformat() for g in live
                ),
                **self.stats.as_json(),
            }


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _expires(value: Any) -> float:
    return value.expires_at if isinstance(value, Consent) else float(value["expires_at"])


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=MAX_FORM_FIELDS))
    except ValueError:
        return {}


def _oauth_params(authorization: str) -> dict[str, str]:
    if authorization[:6].lower() != "oauth ":
        raise LoginRejected("no OAuth header")
    try:
        return {k: utils.unescape(v) for k, v in utils.parse_authorization_header(authorization)}
    except (ValueError, IndexError):
        raise LoginRejected("malformed OAuth header") from None


def _is_redirect_uri(uri: str) -> bool:
    if not uri or len(uri) > MAX_PARAM_LENGTH or any(ord(c) < 33 for c in uri):
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a port out of range raises ValueError
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.fragment


def _denied(consent: Consent) -> dict[str, str]:
    if consent.flow == "tba":
        return {"oauth_token": consent.request_token, "error": "access_denied"}
    return {"error": "access_denied", "state": consent.state}


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    separator = "&" if urlsplit(uri).query else "?"
    return RedirectResponse(uri + separator + urlencode(params), status_code=302, headers=NO_STORE)


def restlet_login_error() -> JSONResponse:
    # The RESTlet domain's error shape (its requesttoken/accesstoken live there); [U] exact text.
    return JSONResponse(
        {"error": {"code": "INVALID_LOGIN_ATTEMPT", "message": "Invalid login attempt."}}, status_code=401
    )


def error_page(message: str) -> HTMLResponse:
    return HTMLResponse(
        ERROR_PAGE.format(message=html.escape(message)), status_code=400, headers=PAGE_HEADERS
    )


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Frame-Options": "DENY",
}

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NetSuite - Allow access</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:3em auto}}
button{{padding:.6em 1.4em;margin-right:1em;border:0;border-radius:3px}}
.allow{{background:#4b8a2c;color:#fff}} .deny{{background:#ddd}} label{{display:block;margin:.6em 0}}</style>
</head><body>
<h1>NetSuite</h1>
<p>Account <strong>{account}</strong> (sandbox)</p>
<form method="post" action="{action}">
<input type="hidden" name="consent" value="{consent_id}">
<label>Email <input type="email" name="email" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<label>Role <select name="role"><option value="3">Administrator</option></select></label>
<p>The application <strong>{application}</strong> ({flow}) is requesting access to your NetSuite account
with the role above. It will be able to read your data through REST web services.</p>
<button class="allow" type="submit" name="decision" value="allow">Allow access</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button>
</form></body></html>
"""

ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NetSuite - Error</title></head>
<body><h1>NetSuite</h1><p>{message}</p></body></html>
"""


def authorization_routes(sandbox: Sandbox, gated: Any) -> list[Route]:
    """NetSuite's authorization routes (through the sandbox's gates) and their admin calls."""
    server: AuthorizationServer = sandbox.authorization

    async def token(request: Request, number: int) -> Response:
        return await server.token(request, number, client_credentials=sandbox.token)

    def guarded(handler: Any) -> Any:
        from resolve_sync.sandbox.admin import admin_error, token_matches

        async def endpoint(request: Request) -> Response:
            if not token_matches(request.headers.get(ADMIN_HEADER, ""), sandbox.account.fixture.admin_token):
                return admin_error(401, f"missing or wrong {ADMIN_HEADER} header")
            try:
                return await handler(request)
            except BodyRejected as rejected:
                return admin_error(rejected.status, rejected.reason)
            except PayloadError as error:
                return admin_error(400, str(error))

        return endpoint

    async def revoke(request: Request) -> Response:
        settings_object(parse_json(await read_body(request, ADMIN_MAX_BYTES), empty={}), "revoke", ())
        return JSONResponse({"revoked": server.revoke_all()})

    async def summary(request: Request) -> Response:
        return JSONResponse(server.summary())

    no_auth = {"authenticate": False}
    return [
        Route(TBA_REQUEST_TOKEN_PATH, gated(server.tba_request_token, **no_auth), methods=["POST"]),
        Route(TBA_ACCESS_TOKEN_PATH, gated(server.tba_access_token, **no_auth), methods=["POST"]),
        Route(TBA_AUTHORIZE_PATH, gated(server.tba_authorize, **no_auth), methods=["GET"]),
        Route(TBA_AUTHORIZE_PATH, gated(server.decide, **no_auth), methods=["POST"]),
        Route(OAUTH2_AUTHORIZE_PATH, gated(server.oauth2_authorize, **no_auth), methods=["GET"]),
        Route(OAUTH2_AUTHORIZE_PATH, gated(server.decide, **no_auth), methods=["POST"]),
        Route("/services/rest/auth/oauth2/v1/token", gated(token, **no_auth), methods=["POST"]),
        Route("/_sandbox/authorizations", guarded(summary), methods=["GET"]),
        Route("/_sandbox/authorizations/revoke", guarded(revoke), methods=["POST"]),
    ]
