"""The NetSuite client against the sandbox over real HTTP: auth, typed errors, retries, read-only."""

from __future__ import annotations

import time

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from resolve_sync.netsuite import build_client
from resolve_sync.netsuite.client import ReadOnlyViolation, is_read_only
from resolve_sync.netsuite.errors import (
    NetSuiteAuthError,
    NetSuitePermissionError,
    NetSuiteQueryError,
    NetSuiteRateLimited,
    NetSuiteUnavailable,
)
from resolve_sync.netsuite.fields import check_filter_field
from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES, InvalidQueryParameter, chart_of_accounts
from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA, admin, fast_retry, fixture_dict, tba_client


def test_host_comes_from_the_account_id() -> None:
    from resolve_sync.netsuite.client import account_host

    assert account_host("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com"


def test_tba_client_reads_subsidiaries_and_accounts(sandbox_server) -> None:
    with tba_client(sandbox_server) as client:
        assert [s["name"] for s in client.suiteql_all(ACTIVE_SUBSIDIARIES)] == ["Parent Co", "US", "Canada"]
        assert [a["acctnumber"] for a in client.suiteql_all(chart_of_accounts(3))] == ["1000", "1100"]
        assert client.account_concurrency_limit(fallback=1) == 5
        assert "secret" not in repr(client._http.auth).lower() or "<hidden>" in repr(client._http.auth)


def _m2m_server():
    key = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw = fixture_dict(
        credentials={
            "tba": [],
            "oauth2_m2m": [{"client_id": "cid", "certificate_id": "kid-1", "public_key_pem": public_pem}],
        }
    )
    return SandboxServer(parse_fixture(raw)), {
        "client_id": "cid",
        "certificate_id": "kid-1",
        "private_key_pem": private_pem,
    }


def test_oauth2_client_caches_its_token_and_renews_once_after_a_401() -> None:
    server, credentials = _m2m_server()
    with (
        server,
        build_client(
            ACCOUNT_ID, "oauth2_m2m", credentials, base_url=server.base_url, retry=fast_retry()
        ) as client,
    ):
        auth = client._http.auth
        client.suiteql("SELECT id FROM customer")
        client.suiteql("SELECT id FROM customer")
        assert auth.renewals == 1  # cached
        admin(server.base_url).post("/_sandbox/tokens/revoke")
        assert len(client.suiteql("SELECT id FROM customer").items) == 3
        assert auth.renewals == 2  # renewed once after the 401
        assert "private_key" not in repr(auth) or "<hidden>" in repr(auth)


def test_oauth2_with_an_unknown_certificate_fails_as_auth_error() -> None:
    server, credentials = _m2m_server()
    with (
        server,
        build_client(
            ACCOUNT_ID,
            "oauth2_m2m",
            {**credentials, "certificate_id": "other"},
            base_url=server.base_url,
            retry=fast_retry(),
        ) as client,
        pytest.raises(NetSuiteAuthError),
    ):
        client.suiteql("SELECT id FROM customer")


def test_wrong_secret_is_an_auth_error_that_says_what_to_check(sandbox_server) -> None:
    with (
        tba_client(sandbox_server, credentials={**TBA, "token_secret": "s3cr3t-wrong"}) as client,
        pytest.raises(NetSuiteAuthError) as raised,
    ):
        client.suiteql("SELECT id FROM customer")
    assert raised.value.code == "INVALID_LOGIN" and raised.value.status == 401
    assert "token id/secret" in str(raised.value) and "s3cr3t-wrong" not in str(raised.value)
    assert admin(sandbox_server.base_url).get("/_sandbox/stats").json()["requests_total"] == 1  # no retry


def test_clock_skew_beyond_five_minutes_is_an_auth_error(sandbox_server, monkeypatch) -> None:
    real_time = time.time
    monkeypatch.setattr("oauthlib.oauth1.rfc5849.generate_timestamp", lambda: str(int(real_time()) - 900))
    with tba_client(sandbox_server) as client, pytest.raises(NetSuiteAuthError):
        client.suiteql("SELECT id FROM customer")


@pytest.mark.sandbox_fixture(fixture_dict(denied_tables=["transaction"]))
def test_a_table_the_role_cannot_read_is_a_permission_error(sandbox_server) -> None:
    with tba_client(sandbox_server) as client, pytest.raises(NetSuitePermissionError) as raised:
        client.suiteql("SELECT id FROM transaction")
    assert "Record 'transaction' was not found." in raised.value.detail
    assert "permission" in str(raised.value)


def test_an_unknown_column_is_a_query_error(sandbox_server) -> None:
    with tba_client(sandbox_server) as client, pytest.raises(NetSuiteQueryError) as raised:
        client.suiteql("SELECT nope FROM customer")
    assert raised.value.code == "INVALID_PARAMETER" and "Unknown identifier 'nope'" in raised.value.detail


def test_persistent_429_is_retried_then_reported_as_rate_limited(sandbox_server) -> None:
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"rate_429": 1.0})
    with (
        tba_client(sandbox_server, retry=fast_retry(attempts=4)) as client,
        pytest.raises(NetSuiteRateLimited),
    ):
        client.suiteql("SELECT id FROM customer")
    assert client.stats.retries == 3 and client.stats.rate_limited == 4
    assert client.budget.adaptive.limit < 5  # multiplicative decrease


@pytest.mark.parametrize("fault", ["500", "503", "reset"])
def test_server_and_network_errors_are_retried_and_then_succeed(sandbox_server, fault: str) -> None:
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"next": [fault, fault]})
    with tba_client(sandbox_server) as client:
        assert len(client.suiteql("SELECT id FROM customer").items) == 3
    assert client.stats.retries == 2


def test_a_stalled_response_is_unavailable_after_retries(sandbox_server) -> None:
    admin(sandbox_server.base_url).post(
        "/_sandbox/faults", json={"next": ["stall", "stall"], "stall_seconds": 2}
    )
    with (
        tba_client(sandbox_server, retry=fast_retry(attempts=2), timeout=0.3) as client,
        pytest.raises(NetSuiteUnavailable) as raised,
    ):
        client.suiteql("SELECT id FROM customer")
    assert "ReadTimeout" in str(raised.value)


@pytest.mark.parametrize(
    "field_id",
    [
        "custentity_x; DROP TABLE customer",
        "custbody_x",
        "'",
        "custentity_" + "a" * 95,
        "CUSTENTITY_X",
        "custentity_x' OR '1'='1",
    ],
)
def test_bad_field_ids_are_refused_before_any_request(sandbox_server, field_id: str) -> None:
    from resolve_sync.netsuite.queries import customer_scan

    with tba_client(sandbox_server) as client:
        assert not check_filter_field(client, field_id).valid
        with pytest.raises(InvalidQueryParameter):
            customer_scan(subsidiary_id=2, filter_field_id=field_id)
    assert admin(sandbox_server.base_url).get("/_sandbox/stats").json()["requests_total"] == 0


@pytest.mark.parametrize(
    ("field_id", "valid", "reason"),
    [
        ("custentity_sync_to_resolve", True, ""),
        ("custentity_region", False, "not a checkbox"),
        ("custentity_vendor_only", False, "does not apply to customer records"),
        ("custentity_missing", False, "no custom field 'custentity_missing' exists"),
    ],
)
def test_filter_field_validation(sandbox_server, field_id: str, valid: bool, reason: str) -> None:
    with tba_client(sandbox_server) as client:
        check = check_filter_field(client, field_id)
    assert check.valid is valid and reason in check.reason


@pytest.mark.sandbox_fixture(fixture_dict(denied_tables=["customfield"]))
def test_filter_field_validation_falls_back_to_the_metadata_catalog(sandbox_server) -> None:
    with tba_client(sandbox_server) as client:
        assert check_filter_field(client, "custentity_sync_to_resolve").valid
        assert "not a checkbox" in check_filter_field(client, "custentity_region").reason
        assert "does not exist" in check_filter_field(client, "custentity_missing").reason


def test_every_request_the_client_sends_is_a_read(sandbox_server) -> None:
    import datetime as dt

    from resolve_sync.netsuite.queries import customer_scan, invoice_scan
    from resolve_sync.netsuite.scan import full_scan, incremental_scan

    with tba_client(sandbox_server) as client:
        client.suiteql_all(ACTIVE_SUBSIDIARIES)
        client.customer_schema()
        client.governance_limits()
        check_filter_field(client, "custentity_sync_to_resolve")
        list(full_scan(client, customer_scan(subsidiary_id=2, filter_field_id="custentity_sync_to_resolve")))
        list(
            incremental_scan(
                client, invoice_scan(subsidiary_id=2, since=dt.date(2025, 1, 1)), "2020-01-01 00:00:00"
            )
        )
        with pytest.raises(ReadOnlyViolation):
            client._http.post("/services/rest/record/v1/customer", json={"companyname": "x"})
        with pytest.raises(ReadOnlyViolation):
            client._http.delete("/services/rest/record/v1/customer/10")
    seen = admin(sandbox_server.base_url).get("/_sandbox/stats").json()["requests"]
    assert seen and all(path.startswith("/services/rest/") for path in seen)
    assert not is_read_only("PATCH", "/services/rest/query/v1/suiteql")
    assert not is_read_only("POST", "/services/rest/record/v1/customer")


def test_transport_errors_name_the_account_not_the_secret() -> None:
    with (
        build_client(
            ACCOUNT_ID, "tba", TBA, base_url="http://127.0.0.1:9", retry=fast_retry(attempts=2)
        ) as client,
        pytest.raises(NetSuiteUnavailable) as raised,
    ):
        client.suiteql("SELECT id FROM customer")
    assert ACCOUNT_ID in str(raised.value) and TBA["token_secret"] not in str(raised.value)
    assert isinstance(raised.value.__context__, type(None) | httpx.TransportError)


def test_a_prefetched_page_is_the_answer_to_the_same_question_once(sandbox_server) -> None:
    """Asked ahead, the page is handed to the first `suiteql` of the same query; the next one asks again.
    A query that fails fails where its answer is read, with the same error as asking directly."""
    with tba_client(sandbox_server) as client:
        client.prefetch(ACTIVE_SUBSIDIARIES)
        client.prefetch(ACTIVE_SUBSIDIARIES)  # already on its way: not asked twice
        client.prefetch("SELECT nosuchcolumn FROM customer", limit=1)
        client.prefetch("SELECT id FROM customer", limit=3)  # never read: dropped when the client closes
        ahead = client.suiteql(ACTIVE_SUBSIDIARIES)
        assert client.stats.requests == 3
        assert client.suiteql(ACTIVE_SUBSIDIARIES).items == ahead.items
        assert client.stats.requests == 4
        with pytest.raises(NetSuiteQueryError) as asked_ahead:
            client.suiteql("SELECT nosuchcolumn FROM customer", limit=1)
        with pytest.raises(NetSuiteQueryError) as asked_now:
            client.suiteql("SELECT nosuchcolumn FROM customer", limit=1)
        assert str(asked_ahead.value) == str(asked_now.value)
    with admin(sandbox_server.base_url) as control:
        assert control.get("/_sandbox/stats").json()["requests_total"] == 5


def test_a_prefetch_that_gave_up_retrying_is_asked_again(sandbox_server) -> None:
    """Three 503s in a row outlast the early request's two attempts; the read then asks again with its own
    retries and gets the page, rather than failing on the old error."""
    admin(sandbox_server.base_url).post("/_sandbox/faults", json={"next": ["503", "503", "503"]})
    with tba_client(sandbox_server, retry=fast_retry(attempts=2)) as client:
        client.prefetch("SELECT id FROM customer")
        assert len(client.suiteql("SELECT id FROM customer").items) == 3
        assert client.stats.requests == 4  # two early attempts, two now
