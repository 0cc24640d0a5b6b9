"""The sandbox checks callers exactly as NetSuite does: TBA (OAuth 1.0a HMAC-SHA256) and OAuth 2.0 M2M."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from resolve_sync_tests.sandbox_helpers import TBA, OAuthlibTBA, admin, fixture_dict, suiteql

QUERY = "SELECT id FROM customer ORDER BY id"


def _client(server, auth: httpx.Auth | None) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, auth=auth, timeout=30)


def test_request_signed_by_oauthlib_is_accepted(ns: httpx.Client) -> None:
    response = suiteql(ns, QUERY)
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == ["10", "11", "12"]


@pytest.mark.parametrize(
    "auth",
    [
        OAuthlibTBA({**TBA, "consumer_secret": "wrong"}),
        OAuthlibTBA({**TBA, "token_secret": "wrong"}),
        OAuthlibTBA(realm="7654321"),
        OAuthlibTBA(timestamp=str(int(time.time()) - 600)),
        OAuthlibTBA({**TBA, "token_id": "unknown"}),
        None,
    ],
    ids=[
        "wrong-consumer-secret",
        "wrong-token-secret",
        "wrong-realm",
        "stale-timestamp",
        "unknown-token",
        "none",
    ],
)
def test_bad_credentials_get_invalid_login(sandbox_server, auth) -> None:
    with _client(sandbox_server, auth) as client:
        response = suiteql(client, QUERY)
    assert response.status_code == 401
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert response.json()["o:errorDetails"][0]["detail"] == "Invalid login attempt."


def test_replayed_nonce_is_rejected(sandbox_server) -> None:
    replay = OAuthlibTBA(nonce=uuid.uuid4().hex, timestamp=str(int(time.time())))
    with _client(sandbox_server, replay) as client:
        assert suiteql(client, QUERY).status_code == 200
        assert suiteql(client, QUERY).status_code == 401


def test_body_hash_must_match_the_body(sandbox_server) -> None:
    import base64
    import hashlib

    import oauthlib.oauth1

    body = b'{"q": "SELECT id FROM customer"}'

    def signed(hash_of: bytes) -> dict[str, str]:
        client = oauthlib.oauth1.Client(
            TBA["consumer_key"],
            client_secret=TBA["consumer_secret"],
            resource_owner_key=TBA["token_id"],
            resource_owner_secret=TBA["token_secret"],
            signature_method="HMAC-SHA256",
            realm="1234567_SB1",
        )
        url = f"{sandbox_server.base_url}/services/rest/query/v1/suiteql"
        params = [("oauth_body_hash", base64.b64encode(hashlib.sha1(hash_of).digest()).decode())]
        client.get_oauth_params = lambda request, _orig=client.get_oauth_params: _orig(request) + params  # type: ignore[method-assign]
        return client.sign(url, http_method="POST")[1]

    with httpx.Client(base_url=sandbox_server.base_url) as client:
        good = client.post(
            "/services/rest/query/v1/suiteql",
            content=body,
            headers={**signed(body), "Prefer": "transient", "Content-Type": "application/json"},
        )
        bad = client.post(
            "/services/rest/query/v1/suiteql",
            content=body,
            headers={**signed(b"other"), "Prefer": "transient", "Content-Type": "application/json"},
        )
    assert good.status_code == 200, good.text
    assert bad.status_code == 401


def _m2m_fixture(kind: str):
    key = (
        ec.generate_private_key(ec.SECP256R1()) if kind == "ES256" else rsa.generate_private_key(65537, 2048)
    )
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    raw = fixture_dict(
        credentials={
            "tba": [],
            "oauth2_m2m": [
                {"client_id": "client-abc", "certificate_id": "cert-123", "public_key_pem": public_pem}
            ],
        }
    )
    return raw, key


def _assertion(key, alg: str, token_url: str, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": "client-abc",
        "scope": ["rest_webservices"],
        "aud": token_url,
        "iat": now,
        "exp": now + 3000,
    }
    payload.update(claims)
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": claims.pop("kid", "cert-123")})


def _token(server, assertion: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/services/rest/auth/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


@pytest.mark.parametrize("alg", ["ES256", "PS256"])
def test_oauth2_client_credentials_issue_a_bearer_token(alg: str) -> None:
    from resolve_sync.sandbox.fixture import parse_fixture
    from resolve_sync.sandbox.server import SandboxServer

    raw, key = _m2m_fixture(alg)
    with SandboxServer(parse_fixture(raw)) as server:
        token_url = f"{server.base_url}/services/rest/auth/oauth2/v1/token"
        response = _token(server, _assertion(key, alg, token_url))
        assert response.status_code == 200, response.text
        assert response.json()["expires_in"] == "3600"
        bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
        with httpx.Client(base_url=server.base_url, headers=bearer) as client:
            assert suiteql(client, QUERY).status_code == 200
            admin(server.base_url).post("/_sandbox/tokens/revoke")
            revoked = suiteql(client, QUERY)
        assert revoked.status_code == 401
        assert 'error="invalid_token"' in revoked.headers["www-authenticate"]

        for bad in (
            _assertion(key, alg, token_url, exp=int(time.time()) + 4000),  # over 60 minutes
            _assertion(key, alg, token_url, scope=["restlets"]),
            _assertion(key, alg, "https://elsewhere.example/token"),
            _assertion(key, alg, token_url, iss="someone-else"),
            _assertion(key, alg, token_url, exp=int(time.time()) - 100, iat=int(time.time()) - 200),
        ):
            assert _token(server, bad).status_code == 401
        other_key = ec.generate_private_key(ec.SECP256R1())
        assert _token(server, _assertion(other_key, "ES256", token_url)).status_code == 401
