"""The sandbox's authorization side behaves as NetSuite's: PKCE S256 checked, codes used once,
`invalid_grant` errors in NetSuite's shape, the admin API guarded, hostile input never a 500."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from resolve_sync.netsuite.authorize import pkce_pair
from resolve_sync_tests.sandbox_helpers import TBA, admin

REDIRECT = "http://127.0.0.1:9/callback"
STATE = "s" * 32
CLIENT = (TBA["consumer_key"], TBA["consumer_secret"])


def authorize(base_url: str, challenge: str, decision: str = "allow") -> dict[str, list[str]]:
    query = {
        "response_type": "code",
        "client_id": TBA["consumer_key"],
        "redirect_uri": REDIRECT,
        "scope": "rest_webservices",
        "state": STATE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with httpx.Client(base_url=base_url) as client:
        page = client.get("/app/login/oauth2/authorize.nl?" + urlencode(query))
        assert page.status_code == 200 and "Allow access" in page.text and "Deny" in page.text
        consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
        answer = client.post(
            "/app/login/oauth2/authorize.nl",
            data={"consent": consent, "email": "a@b.test", "password": "pw", "decision": decision},
        )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def token(base_url: str, **form: str) -> httpx.Response:
    return httpx.post(base_url + "/services/rest/auth/oauth2/v1/token", data=form, auth=CLIENT)


def test_code_plus_the_right_verifier_buys_tokens_once(sandbox_server) -> None:
    verifier, challenge = pkce_pair()
    params = authorize(sandbox_server.base_url, challenge)
    assert params["state"] == [STATE] and params["company"] == ["1234567_SB1"]
    form = {"grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": REDIRECT}
    granted = token(sandbox_server.base_url, **form, code_verifier=verifier)
    assert granted.status_code == 200
    body = granted.json()
    assert body["expires_in"] == "3600" and body["token_type"] == "bearer" and body["refresh_token"]
    again = token(sandbox_server.base_url, **form, code_verifier=verifier)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})
    bearer = httpx.post(
        sandbox_server.base_url + "/services/rest/query/v1/suiteql",
        json={"q": "SELECT id FROM subsidiary"},
        headers={"Authorization": f"Bearer {body['access_token']}", "Prefer": "transient"},
    )
    assert bearer.status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"code_verifier": "x" * 50}, {"redirect_uri": "http://127.0.0.1:10/callback"}, {"code": "not-a-code"}],
)
def test_a_wrong_verifier_redirect_or_code_is_invalid_grant(sandbox_server, change) -> None:
    verifier, challenge = pkce_pair()
    params = authorize(sandbox_server.base_url, challenge)
    form = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **change,
    }
    refused = token(sandbox_server.base_url, **form)
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_grant"})


def test_deny_redirects_with_access_denied(sandbox_server) -> None:
    params = authorize(sandbox_server.base_url, pkce_pair()[1], decision="deny")
    assert params == {"error": ["access_denied"], "state": [STATE]}


def test_a_wrong_client_secret_is_invalid_client(sandbox_server) -> None:
    refused = httpx.post(
        sandbox_server.base_url + "/services/rest/auth/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(TBA["consumer_key"], "wrong"),
    )
    assert (refused.status_code, refused.json()) == (401, {"error": "invalid_client"})


def test_admin_calls_need_the_admin_token(sandbox_server) -> None:
    base = sandbox_server.base_url
    assert httpx.post(base + "/_sandbox/authorizations/revoke", json={}).status_code == 401
    assert httpx.get(base + "/_sandbox/authorizations").status_code == 401
    with admin(base) as api:
        assert api.post("/_sandbox/authorizations/revoke", json={"everything": True}).status_code == 400
        assert api.post("/_sandbox/authorizations/revoke", content=b"[" * 5000).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/app/login/oauth2/authorize.nl", {"params": {"client_id": "\x00" * 3000}}),
        (
            "GET",
            "/app/login/oauth2/authorize.nl",
            {"params": {"client_id": TBA["consumer_key"], "redirect_uri": "http://[::1"}},
        ),
        ("GET", "/app/login/secure/authorizetoken.nl", {"params": {"oauth_token": "é" * 5000}}),
        ("POST", "/app/login/oauth2/authorize.nl", {"content": b"consent=%ff%fe&decision=allow"}),
        ("POST", "/app/login/secure/authorizetoken.nl", {"content": b"a=" * 100_000}),
        ("POST", "/rest/requesttoken", {"headers": {"Authorization": 'OAuth realm="x", oauth_consumer_key'}}),
        ("POST", "/rest/accesstoken", {"headers": {"Authorization": "OAuth " + "a=b," * 5000}}),
        (
            "POST",
            "/services/rest/auth/oauth2/v1/token",
            {"headers": {"Authorization": "Basic %%%"}, "data": {"grant_type": "authorization_code"}},
        ),
        (
            "POST",
            "/services/rest/auth/oauth2/v1/token",
            {"content": b"grant_type=refresh_token&" + b"x=1&" * 20_000},
        ),
    ],
)
def test_hostile_input_is_never_a_500(sandbox_server, method, path, kwargs) -> None:
    response = httpx.request(method, sandbox_server.base_url + path, timeout=30, **kwargs)
    assert response.status_code < 500
