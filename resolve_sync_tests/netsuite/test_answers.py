"""What a user sees when NetSuite (or something pretending to be it) answers garbage, over real HTTP.

An answer of the wrong shape fails with a `NetSuiteProtocolError` whose message says what was expected and
what came, naming the account, never raw Python text; a row of the wrong shape is reported on its own and
the rest of the page is synced.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolve_sync.netsuite import build_client
from resolve_sync.netsuite.errors import NetSuiteError, NetSuiteProtocolError
from resolve_sync.netsuite.responses import RejectedRow
from resolve_sync.netsuite.scan import ScanQuery, full_scan, incremental_scan
from resolve_sync_tests.netsuite.garbage_server import Answer, Asked, GarbageServer, envelope
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA, fast_retry

CUSTOMERS = ScanQuery(select="id, companyname", from_="customer", key="id", modified="lastmodifieddate")
RAW_PYTHON = (
    "Expecting value",
    "char 0",
    "NoneType",
    "KeyError",
    "object is not",
    "validation error",
    "Traceback",
    "JSONDecodeError",
    "pydantic",
)
HTML_LOGIN = (
    b"<!DOCTYPE html><html><head><title>NetSuite: Login</title></head><body><form>...</form></body></html>"
)


def _client(server: GarbageServer, attempts: int = 3):
    return build_client(ACCOUNT_ID, "tba", TBA, base_url=server.base_url, retry=fast_retry(attempts=attempts))


def _always(answer: Answer):
    return lambda _asked: answer


def _raw_json(text: str) -> Answer:
    return Answer(text.encode())


def _protocol_error(answer: Answer, attempts: int = 3) -> tuple[NetSuiteProtocolError, int]:
    with GarbageServer(_always(answer)) as server, _client(server, attempts) as client:
        with pytest.raises(NetSuiteProtocolError) as raised:
            client.suiteql("SELECT id FROM customer")
        message = str(raised.value)
        assert ACCOUNT_ID in message
        assert not [text for text in RAW_PYTHON if text in message], message
        return raised.value, len(server.asked)


# -- the answer as a whole -----------------------------------------------------------------------------------


def test_an_html_login_page_with_status_200_says_so_and_is_not_retried() -> None:
    error, requests = _protocol_error(Answer(HTML_LOGIN, content_type="text/html; charset=utf-8"))
    message = str(error)
    assert "with a web page instead of NetSuite's JSON (status 200, text/html; charset=utf-8" in message
    assert 'starting "<!DOCTYPE html><html><head><title>NetSuite: Login' in message
    assert "Check the connection's account id and base URL" in message
    assert not error.retryable and requests == 1


def test_html_labelled_as_json_is_still_recognised_as_a_web_page() -> None:
    error, _ = _protocol_error(Answer(b"  <html>Service moved</html>"))
    assert "web page instead of NetSuite's JSON" in str(error) and "application/json" in str(error)


def test_json_cut_off_mid_body_is_retried_then_reported_as_cut_off() -> None:
    whole = envelope([{"links": [], "id": str(i), "companyname": f"Customer {i}"} for i in range(1, 50)]).body
    error, requests = _protocol_error(Answer(whole[: len(whole) // 2]), attempts=3)
    message = str(error)
    assert f"with JSON that stops before its end ({len(whole) // 2} bytes, application/json" in message
    assert "The answer was probably cut off on the way; it is retried." in message
    assert error.retryable and requests == 3


def test_a_cut_off_answer_that_comes_whole_on_the_retry_succeeds() -> None:
    whole = envelope([{"id": "1", "companyname": "Acme"}]).body
    answers = iter([Answer(whole[:20]), Answer(whole)])
    with GarbageServer(lambda _asked: next(answers)) as server, _client(server) as client:
        assert client.suiteql("SELECT id FROM customer").items == [{"id": "1", "companyname": "Acme"}]
        assert client.stats.retries == 1


def test_an_empty_body_is_retried_and_reported_as_empty() -> None:
    error, requests = _protocol_error(Answer(b""), attempts=2)
    assert "with an empty body (status 200, application/json" in str(error)
    assert error.retryable and requests == 2


def test_text_that_is_not_json_is_reported_with_its_first_bytes() -> None:
    error, requests = _protocol_error(Answer(b"Service Unavailable", content_type="text/plain"))
    assert 'a body that is not valid JSON (status 200, text/plain, starting "Service Unavailable"' in str(
        error
    )
    assert not error.retryable and requests == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"links": [], "hasMore": false, "items": null}', "at $.items expected a list, got null (nothing)"),
        (
            '{"links": [], "hasMore": false, "items": {}}',
            "at $.items expected a list, got an object with no keys",
        ),
        (
            '{"links": [], "hasMore": "yes", "items": []}',
            'at $.hasMore expected true or false, got the text "yes"',
        ),
        ('{"hasMore": 1, "items": []}', "at $.hasMore expected true or false, got the number 1"),
        (
            '{"hasMore": false, "items": [], "count": "x"}',
            'at $.count expected a whole number, got the text "x"',
        ),
        ('{"hasMore": false, "items": [], "offset": -1}', "at $.offset expected a whole number of 0 or more"),
        ('{"hasMore": false, "items": [], "totalResults": 2.5}', "at $.totalResults expected a whole number"),
        ('{"items": []}', "at $.hasMore expected a `hasMore` key, got nothing"),
        ('{"hasMore": false}', "at $.items expected a `items` key, got nothing"),
        (
            '{"hasMore": false, "items": [], "links": [{"rel": "self"}]}',
            "at $.links[0].href expected a `href`",
        ),
        (
            '{"hasMore": false, "items": [], "links": "none"}',
            'at $.links expected a list, got the text "none"',
        ),
        ("[]", "at $ expected a JSON object, got a list of 0 items"),
        ('"ok"', 'at $ expected a JSON object, got the text "ok"'),
        ('{"hasMore": false, "items": [{"id": "1"}], "count": 2}', "at $.count expected `count` to equal"),
    ],
)
def test_an_envelope_of_the_wrong_shape_says_where_what_was_expected_and_what_came(
    body: str, says: str
) -> None:
    error, requests = _protocol_error(_raw_json(body))
    assert "answered the SuiteQL query with JSON of an unexpected shape" in str(error)
    assert says in str(error)
    assert not error.retryable and requests == 1  # the same shape would come back


def test_a_json_error_page_with_status_200_is_not_read_as_an_empty_result() -> None:
    """Before, a 200 `{"error": …}` read as zero rows, which a full scan would take as "everything deleted"."""
    error, _ = _protocol_error(_raw_json('{"error": "session expired"}'))
    assert "expected a `items` key" in str(error) or "expected a `hasMore` key" in str(error)


def test_the_metadata_catalog_and_governance_limits_are_checked_too() -> None:
    with GarbageServer(_always(_raw_json('{"properties": {"custentity_x": "boolean"}}'))) as server:
        with _client(server) as client, pytest.raises(NetSuiteProtocolError) as raised:
            client.customer_schema()
        assert "metadata catalog request" in str(raised.value)
        assert 'at $.properties.custentity_x expected a JSON object, got the text "boolean"' in str(
            raised.value
        )
    with GarbageServer(_always(Answer(HTML_LOGIN, content_type="text/html"))) as server:
        with _client(server) as client, pytest.raises(NetSuiteProtocolError) as raised:
            client.governance_limits()
        assert "governance limits request with a web page" in str(raised.value)


# -- one row of the wrong shape ------------------------------------------------------------------------------


def _scan_server(pages: list[Answer], probe: dict[str, str]) -> GarbageServer:
    """Answers the key range probe, then the given pages in order."""
    remaining = iter(pages)

    def respond(asked: Asked) -> Answer:
        if "MIN(" in asked.query:
            return envelope([probe])
        return next(remaining)

    return GarbageServer(respond)


@pytest.mark.parametrize(
    ("bad_row", "netsuite_id", "reason"),
    [
        ({"companyname": "No id"}, None, "the row has no `id`"),
        ({"id": "abc", "companyname": "x"}, None, '`id` is the text "abc", expected a NetSuite internal id'),
        ({"id": "-4", "companyname": "x"}, None, '`id` is the text "-4", expected a NetSuite internal id'),
        ({"id": 4, "companyname": "x"}, None, "`id` is the number 4, expected a NetSuite internal id"),
        ({"id": "0", "companyname": "x"}, None, '`id` is the text "0"'),
        ({"id": "4\n5", "companyname": "x"}, None, '`id` is the text "4 5"'),  # hides a separator
        ({"id": "\u0663", "companyname": "x"}, None, "expected a NetSuite internal id"),  # a non-ASCII digit
        ({"id": "1" * 19, "companyname": "x"}, None, "at most 18 digits"),
        ({"id": "4", "companyname": 12}, "4", "`companyname` is the number 12, expected text"),
        ({"id": "4", "companyname": ["a"]}, "4", "`companyname` is a list of 1 item, expected text"),
        ({"id": "4", "companyname": True}, "4", "`companyname` is true, expected text"),
        ("just text", None, 'expected a record (a JSON object), got the text "just text"'),
    ],
)
def test_a_page_with_one_bad_row_syncs_the_rest_and_reports_that_row(
    bad_row: object, netsuite_id: str | None, reason: str
) -> None:
    rows = [{"links": [], "id": "3", "companyname": "Three"}, bad_row, {"id": "5", "companyname": "Five"}]
    with (
        _scan_server([envelope(rows)], {"lo": "3", "hi": "5", "n": "3"}) as server,
        _client(server) as client,
    ):
        pages = list(full_scan(client, CUSTOMERS))
    assert [row for page in pages for row in page] == [
        {"id": "3", "companyname": "Three"},
        {"id": "5", "companyname": "Five"},
    ]
    rejected = [r for page in pages for r in page.rejected]
    assert len(rejected) == 1 and rejected[0].netsuite_id == netsuite_id
    assert reason in rejected[0].reason and rejected[0].json_path == "$.items[1]"
    assert client.stats.rejected_rows == 1


def test_null_columns_read_as_absent_and_upper_case_keys_as_lower_case() -> None:
    rows = [{"ID": "3", "CompanyName": "Three"}, {"id": "4", "email": None, "companyname": "Four"}]
    with GarbageServer(_always(envelope(rows))) as server, _client(server) as client:
        page = client.suiteql("SELECT id FROM customer")
    assert page.items == [{"id": "3", "companyname": "Three"}, {"id": "4", "companyname": "Four"}]
    assert page.rejected == ()


def test_suiteql_all_returns_the_good_rows_as_a_list_and_the_bad_ones_beside_it() -> None:
    rows = [{"id": "1", "name": "Parent Co"}, {"name": "no id"}, {"id": "3", "name": {"x": 1}}]
    with GarbageServer(_always(envelope(rows))) as server, _client(server) as client:
        result = client.suiteql_all("SELECT id, name FROM subsidiary")
    assert result == [{"id": "1", "name": "Parent Co"}] and isinstance(result, list)
    assert result.rejected == [
        RejectedRow(None, "the row has no `id`", "$.items[1]"),
        RejectedRow("3", "`name` is an object with keys x, expected text", "$.items[2]"),
    ]


def test_a_scan_continues_after_a_rejected_last_row_and_reports_it_once() -> None:
    """A row without an id at the end of a page is sent again at the start of the next (keyset paging goes
    on from the last usable key); the scan neither stops there nor reports it twice."""
    first = envelope([{"id": "1", "companyname": "One"}, {"companyname": "lost id"}], has_more=True)
    second = envelope([{"companyname": "lost id"}, {"id": "7", "companyname": "Seven"}])
    with _scan_server([first, second], {"lo": "1", "hi": "7", "n": "3"}) as server, _client(server) as client:
        pages = list(full_scan(client, CUSTOMERS))
        asked = [a.query for a in server.asked if "MIN(" not in a.query]
    assert [row["id"] for page in pages for row in page] == ["1", "7"]
    assert [r.reason for page in pages for r in page.rejected] == ["the row has no `id`"]
    assert "id > 1" in asked[1]


def test_a_scan_moves_past_a_rejected_row_whose_id_is_valid() -> None:
    first = envelope([{"id": "1", "companyname": "One"}, {"id": "2", "companyname": 2}], has_more=True)
    second = envelope([{"id": "3", "companyname": "Three"}])
    with _scan_server([first, second], {"lo": "1", "hi": "3", "n": "3"}) as server, _client(server) as client:
        pages = list(full_scan(client, CUSTOMERS))
        asked = [a.query for a in server.asked if "MIN(" not in a.query]
    assert [row["id"] for page in pages for row in page] == ["1", "3"]
    assert [r.netsuite_id for page in pages for r in page.rejected] == ["2"]
    assert "id > 2" in asked[1]


def test_a_page_of_only_unusable_keys_that_says_more_follow_is_a_protocol_error_not_a_silent_stop() -> None:
    page = envelope([{"companyname": "a"}, {"companyname": "b"}], has_more=True)
    with (
        _scan_server([page], {"lo": "1", "hi": "9", "n": "5"}) as server,
        _client(server) as client,
        pytest.raises(NetSuiteProtocolError) as raised,
    ):
        list(full_scan(client, CUSTOMERS))
    assert "no row of the page had a usable `id` to continue after (0 good, 2 rejected rows)" in str(
        raised.value
    )


def test_a_server_that_repeats_the_same_page_forever_is_stopped() -> None:
    same = envelope([{"id": "1", "companyname": "One"}], has_more=True)
    with (
        _scan_server([same] * 5, {"lo": "1", "hi": "9", "n": "5"}) as server,
        _client(server) as client,
        pytest.raises(NetSuiteProtocolError) as raised,
    ):
        list(full_scan(client, CUSTOMERS))
    assert "expected keys in increasing order" in str(raised.value)
    with (
        GarbageServer(_always(same)) as server,
        _client(server) as client,
        pytest.raises(NetSuiteProtocolError) as raised,
    ):
        client.suiteql_all("SELECT id FROM customer")
    assert "offset paging ends at 100,000 rows" in str(raised.value)


def test_an_incremental_scan_rejects_a_row_without_a_usable_modified_cursor() -> None:
    rows = [
        {"id": "1", "companyname": "One", "modified_cursor": "2026-03-01 10:00:00"},
        {"id": "2", "companyname": "Two", "modified_cursor": "yesterday'); DROP"},
    ]
    with GarbageServer(_always(envelope(rows))) as server, _client(server) as client:
        pages = list(incremental_scan(client, CUSTOMERS, "2026-01-01 00:00:00"))
    assert [row["id"] for page in pages for row in page] == ["1"]
    [rejected] = pages[0].rejected
    assert rejected.netsuite_id == "2" and "expected a timestamp 'YYYY-MM-DD HH:MM:SS'" in rejected.reason


def test_a_garbled_key_range_probe_is_a_protocol_error() -> None:
    with (
        _scan_server([], {"lo": "1", "hi": "many", "n": "5"}) as server,
        _client(server) as client,
        pytest.raises(NetSuiteProtocolError) as raised,
    ):
        list(full_scan(client, CUSTOMERS))
    assert 'key range probe: expected `hi` to be a whole number as text, got the text "many"' in str(
        raised.value
    )


# -- hostile envelopes ---------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
hostile_rows = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(["id", "ID", "companyname", "links", "modified_cursor"]), json_values),
    st.fixed_dictionaries(
        {"id": st.text(max_size=25) | st.integers()}, optional={"companyname": json_values}
    ),
)
hostile_envelopes = st.fixed_dictionaries(
    {},
    optional={
        "items": st.lists(hostile_rows, max_size=4) | json_values,
        "hasMore": st.booleans() | json_values,
        "count": st.integers(-2, 6) | json_values,
        "offset": st.integers(-2, 2) | json_values,
        "totalResults": st.integers(-2, 10**30) | json_values,
        "links": st.lists(st.fixed_dictionaries({}, optional={"rel": json_values, "href": json_values}))
        | json_values,
    },
)


def _hostile_answer(draw_body: object, cut: int | None, html: bool) -> Answer:
    body = json.dumps(draw_body).encode()
    if cut is not None:
        body = body[: cut % (len(body) + 1)]
    return Answer(body, content_type="text/html" if html else "application/json")


@pytest.fixture(scope="module")
def hostile_server():
    """One server for every example; each example sets what it answers."""
    with GarbageServer(_always(Answer(b""))) as server:
        yield server


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=hostile_envelopes | json_values,
    cut=st.none() | st.integers(0, 400),
    html=st.booleans(),
    garbage=st.none() | st.binary(max_size=40),
)
def test_whatever_netsuite_answers_the_client_raises_only_netsuite_errors(
    hostile_server: GarbageServer, body: object, cut: int | None, html: bool, garbage: bytes | None
) -> None:
    answer = Answer(garbage) if garbage is not None else _hostile_answer(body, cut, html)
    hostile_server.respond = _always(answer)
    with _client(hostile_server, attempts=2) as client:
        for call in (
            lambda: client.suiteql("SELECT id FROM customer"),
            lambda: client.suiteql_all("SELECT id FROM customer"),
            lambda: list(full_scan(client, CUSTOMERS)),
            lambda: list(incremental_scan(client, CUSTOMERS, "2026-01-01 00:00:00")),
        ):
            try:
                call()
            except NetSuiteError as error:
                assert ACCOUNT_ID in str(error)
                assert not [text for text in RAW_PYTHON if text in str(error)], str(error)
