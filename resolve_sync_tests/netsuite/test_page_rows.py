"""The rows of a well-formed page, as `responses.suiteql_page` hands them on: NetSuite's rows without
`links`, in order, as dicts the garbage collector does not track (pages live on in a scan's queue)."""

from __future__ import annotations

import gc

import httpx
import orjson
import pytest

from resolve_sync.netsuite.errors import NetSuiteProtocolError
from resolve_sync.netsuite.parse_bench import sample_page
from resolve_sync.netsuite.responses import KEYED, RowShape, suiteql_page


def _page(body: bytes, shape: RowShape = KEYED):
    response = httpx.Response(200, headers={"content-type": "application/json"}, content=body)
    return suiteql_page(response, "1234567_SB1", shape=shape)


def test_good_rows_are_netsuites_rows_without_links_and_untracked() -> None:
    body = sample_page(50)
    expected = [{k: v for k, v in row.items() if k != "links"} for row in orjson.loads(body)["items"]]
    page = _page(body)
    assert page.items == expected
    assert [list(row) for row in page.items] == [list(row) for row in expected]  # column order kept
    assert page.resume_row == expected[-1] and not page.rejected
    assert not any(gc.is_tracked(row) for row in page.items)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"links": [], "id": "1", "Name": "x"}, None),  # upper-case key: read as lower case, kept
        ({"links": [], "id": "1", "name": 5}, "`name` is the number 5, expected text"),
        ({"links": [], "id": "1", "name": ["a"]}, "`name` is a list of 1 item, expected text"),
        ({"links": [], "id": "01", "name": "x"}, "expected a NetSuite internal id"),
    ],
)
def test_a_page_with_an_odd_row_is_checked_row_by_row(row: dict, reason: str | None) -> None:
    good = {"links": [], "id": "2", "name": "fine"}
    body = orjson.dumps({"items": [good, row], "hasMore": False, "count": 2})
    page = _page(body)
    assert page.items[0] == {"id": "2", "name": "fine"}
    if reason is None:
        assert page.items[1] == {"id": "1", "name": "x"} and not page.rejected
    else:
        assert len(page.items) == 1 and reason in page.rejected[0].reason


def test_a_wrong_envelope_is_still_a_protocol_error() -> None:
    with pytest.raises(NetSuiteProtocolError):
        _page(orjson.dumps({"items": {"id": "1"}, "hasMore": False}))
