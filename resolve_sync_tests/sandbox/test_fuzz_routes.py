"""Whatever arrives on any route (method, path, headers, body), the sandbox answers below 500 and in time.

Bounded for CI: 25 examples per route (a few seconds each), every request with a 15 s timeout (a hang
fails the test). After each example on a settings route, faults, latency and the concurrency limit are
reset, since a fuzzed admin call may validly ask for 5xx faults or long delays.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolve_sync_tests.sandbox_helpers import ADMIN_TOKEN, OAuthlibTBA

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
ROUTES = [
    "/services/rest/query/v1/suiteql",
    "/services/rest/record/v1/metadata-catalog/customer",
    "/services/rest/system/v1/governanceLimits",
    "/services/rest/auth/oauth2/v1/token",
    "/_sandbox/records/customers",
    "/_sandbox/records/invoices",
    "/_sandbox/records/customers/10",
    "/_sandbox/clock",
    "/_sandbox/faults",
    "/_sandbox/latency",
    "/_sandbox/settings",
    "/_sandbox/stats",
    "/_sandbox/stats/reset",
    "/_sandbox/tokens/revoke",
]
KEYS = [
    "q", "records", "id", "entityid", "custom", "now", "advance_seconds", "per_request_ms", "per_row_ms",
    "jitter", "seed", "rate_500", "rate_429", "stall_seconds", "next", "concurrency_limit", "foreigntotal",
    "trandate", "lastmodifieddate", "subsidiary", "parent", "currency", "tranid", "entity",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [0, -1, 1e20, 1e308, 2**63, "x", "", "é", "²", "9" * 50, "2026-01-01", "0001-01-01T00:00:00+05:00"]
    ),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


def _nested(depth: int, leaf: str) -> bytes:
    return ("[" * depth + leaf + "]" * depth).encode()


bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.integers(min_value=30, max_value=50_000).map(lambda d: _nested(d, "1")),
    st.sampled_from([b"", b"null", b"[1]", b"1e999", b"NaN", b'{"q": null}', b"\xff\xfe", b'{"a":' * 2000]),
)
admin_tokens = st.sampled_from(
    [ADMIN_TOKEN, "", "wrong-token-wrong", "tökén".encode(), b"\xff", ADMIN_TOKEN * 20]
)
auth_headers = st.sampled_from(
    [
        None,
        "signed",
        "Bearer x",
        "Bearer \xff\xfe",
        "OAuth x",
        'OAuth realm="1234567_SB1", oauth_signature="\xe9"',
        "Basic Zm9vOmJhcg==",
    ]
)
extra_headers = st.dictionaries(
    st.sampled_from(["Prefer", "Content-Type", "Accept", "Content-Length-X", "X-Custom"]),
    st.sampled_from(["transient", "application/json", "application/swagger+json", "é", "", "x" * 300]),
    max_size=3,
)


def _send(
    server: Any, method: str, path: str, body: bytes, token: Any, authorization: str | None, headers: dict
) -> httpx.Response:
    sent: dict[str, Any] = {name: value.encode("utf-8") for name, value in headers.items()}
    if token is not None:
        sent["X-Sandbox-Admin-Token"] = token
    if authorization not in (None, "signed"):
        sent["Authorization"] = authorization.encode("latin-1")
    auth = OAuthlibTBA() if authorization == "signed" else None
    with httpx.Client(base_url=server.base_url, timeout=15, auth=auth) as client:
        content = None if method in ("GET", "HEAD", "OPTIONS") and not body else body
        return client.request(method, path, content=content, headers=sent)


SETTINGS_ROUTES = ("/_sandbox/faults", "/_sandbox/latency", "/_sandbox/settings")


def _reset(server: Any, route: str) -> None:
    if not route.startswith(SETTINGS_ROUTES):
        return
    with httpx.Client(base_url=server.base_url, headers={"X-Sandbox-Admin-Token": ADMIN_TOKEN}) as control:
        assert control.put("/_sandbox/faults", json={}).status_code == 200
        assert control.put("/_sandbox/latency", json={}).status_code == 200
        assert control.put("/_sandbox/settings", json={"concurrency_limit": 5}).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_no_route_answers_500_or_hangs(sandbox_server, route: str) -> None:
    @SETTINGS
    @given(
        method=st.sampled_from(METHODS),
        body=bodies,
        token=st.none() | admin_tokens,
        authorization=auth_headers,
        headers=extra_headers,
        query=st.sampled_from(
            ["", "?limit=5", "?limit=²", "?offset=" + "9" * 30, "?limit=0&offset=-1", "?q=%ff"]
        ),
    )
    def check(
        method: str, body: bytes, token: Any, authorization: str | None, headers: dict, query: str
    ) -> None:
        try:
            response = _send(sandbox_server, method, route + query, body, token, authorization, headers)
        finally:
            _reset(sandbox_server, route)
        assert response.status_code < 500, (method, route, response.status_code, response.text[:300])
        if route.startswith("/services/") and response.status_code >= 400 and method != "HEAD":
            assert "o:errorDetails" in response.json() or route.endswith("/token"), response.text[:300]

    check()


@SETTINGS
@given(
    path=st.one_of(
        st.sampled_from(ROUTES).map(lambda r: r + "/x"),
        st.text(alphabet="/_abcsx.%é0123456789", max_size=40).map(lambda p: "/" + p),
        st.sampled_from(
            [
                "/_sandbox/records/customers/" + "9" * 40,
                "/_sandbox/records/nope/1",
                "/_sandbox/",
                "/%00",
                "/..",
            ]
        ),
    ),
    method=st.sampled_from(METHODS),
    body=bodies,
)
def test_unknown_paths_answer_below_500(sandbox_server, path: str, method: str, body: bytes) -> None:
    response = _send(sandbox_server, method, path, body, ADMIN_TOKEN, "signed", {})
    assert response.status_code < 500, (method, path, response.text[:300])
