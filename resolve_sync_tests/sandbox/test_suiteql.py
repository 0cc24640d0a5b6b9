"""SuiteQL as NetSuite answers it: envelope, value rendering, errors, paging and the functions clients send."""

from __future__ import annotations

import httpx
import pytest

from resolve_sync_tests.sandbox_helpers import fixture_dict, many_customers_fixture, suiteql

ERROR_PREFIX = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "


def _rows(client: httpx.Client, query: str) -> list[dict]:
    response = suiteql(client, query)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _error(response: httpx.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body["title"]
    return body["o:errorDetails"][0]


def test_envelope_and_rendering(ns: httpx.Client, sandbox_server) -> None:
    response = suiteql(
        ns,
        "SELECT id, companyname, email, isinactive, parent, lastmodifieddate, "
        "custentity_sync_to_resolve FROM customer WHERE id IN (10, 11) ORDER BY id",
    )
    body = response.json()
    assert set(body) == {"links", "count", "hasMore", "items", "offset", "totalResults"}
    assert (body["count"], body["hasMore"], body["offset"], body["totalResults"]) == (2, False, 0, 2)
    assert body["links"][0]["href"].startswith(sandbox_server.base_url + "/services/rest/query/v1/suiteql?")
    acme, west = body["items"]
    assert acme == {
        "links": [],
        "id": "10",
        "companyname": "Acme Inc",
        "email": "ap@acme.test",
        "isinactive": "F",
        "lastmodifieddate": "3/2/2026",
        "custentity_sync_to_resolve": "T",
    }
    assert "parent" not in acme and "email" not in west  # null columns are omitted
    assert west["parent"] == "10"


def test_to_char_gives_the_time_in_the_accounts_zone(ns: httpx.Client) -> None:
    rows = _rows(
        ns,
        "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lmd, "
        "SYS_EXTRACT_UTC(lastmodifieddate) AS utc FROM customer WHERE id = 12",
    )
    assert rows[0]["lmd"] == "2026-03-03 23:59:59"
    assert rows[0]["utc"] == "3/4/2026"  # still a datetime: date-only unless wrapped in TO_CHAR


@pytest.mark.sandbox_fixture(fixture_dict(date_format="DD/MM/YYYY"))
def test_date_format_preference_is_used(ns: httpx.Client) -> None:
    assert _rows(ns, "SELECT trandate FROM transaction WHERE id = 100")[0]["trandate"] == "01/02/2026"


def test_invoices_by_main_line_subsidiary_with_builtins(ns: httpx.Client) -> None:
    rows = _rows(
        ns,
        """
        SELECT t.id, t.tranid, BUILTIN.DF(t.status) AS status_label, BUILTIN.CF(t.status) AS status_code,
               BUILTIN.DF(t.entity) AS customer, BUILTIN.DF(t.currency) AS currency, t.foreigntotal,
               t.foreignamountunpaid, tl.subsidiary
        FROM transaction t
        JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T'
        WHERE t.type = 'CustInvc' AND tl.subsidiary = 2
          AND t.trandate >= ADD_MONTHS(TO_DATE('2026-11-26', 'YYYY-MM-DD'), -12)
        ORDER BY t.id""",
    )
    assert rows == [
        {
            "links": [],
            "id": "100",
            "tranid": "INV100",
            "status_label": "Open",
            "status_code": "CustInvc:A",
            "customer": "C10",
            "currency": "US Dollar",
            "foreigntotal": "1500",
            "foreignamountunpaid": "1234.56",
            "subsidiary": "2",
        }
    ]


def test_customers_of_a_secondary_subsidiary_through_the_relationship_table(ns: httpx.Client) -> None:
    rows = _rows(
        ns,
        "SELECT c.id FROM customer c WHERE EXISTS (SELECT 1 FROM customersubsidiaryrelationship r "
        "WHERE r.entity = c.id AND r.subsidiary = 3) ORDER BY c.id",
    )
    assert [r["id"] for r in rows] == ["10", "12"]


def test_aggregates_group_by_rownum_nvl(ns: httpx.Client) -> None:
    assert _rows(ns, "SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM customer")[0] == {
        "links": [],
        "n": "3",
        "lo": "10",
        "hi": "12",
    }
    grouped = _rows(ns, "SELECT subsidiary, COUNT(*) FROM customer GROUP BY subsidiary ORDER BY subsidiary")
    assert [(g["subsidiary"], g["expr1"]) for g in grouped] == [("2", "2"), ("3", "1")]
    assert len(_rows(ns, "SELECT id FROM customer WHERE ROWNUM <= 2")) == 2
    assert _rows(ns, "SELECT NVL(email, 'none') AS e FROM customer WHERE id = 11")[0]["e"] == "none"
    assert (
        _rows(ns, "SELECT UPPER(companyname) AS u FROM customer WHERE LOWER(companyname) = 'acme inc'")[0][
            "u"
        ]
        == "ACME INC"
    )


def test_subsidiaries_and_chart_of_accounts(ns: httpx.Client) -> None:
    subsidiaries = _rows(
        ns, "SELECT id, name FROM subsidiary WHERE isinactive = 'F' AND iselimination = 'F' ORDER BY id"
    )
    assert [s["name"] for s in subsidiaries] == ["Parent Co", "US", "Canada"]
    accounts = _rows(
        ns,
        "SELECT a.id, a.acctnumber, a.accttype FROM account a JOIN accountsubsidiarymap m "
        "ON m.account = a.id WHERE m.subsidiary = 3 ORDER BY a.acctnumber",
    )
    assert [a["acctnumber"] for a in accounts] == ["1000", "1100"]


def test_custom_fields_table(ns: httpx.Client) -> None:
    rows = _rows(
        ns,
        "SELECT scriptid, fieldvaluetype, appliestocustomer FROM customfield "
        "WHERE LOWER(scriptid) = 'custentity_sync_to_resolve'",
    )
    assert rows[0]["fieldvaluetype"] == "Check Box" and rows[0]["appliestocustomer"] == "T"


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        (
            "SELECT nope FROM customer",
            "Unknown identifier 'nope'. Available identifiers are: {customer=customer}.",
        ),
        (
            "SELECT custentity_vendor_only FROM customer",
            "Unknown identifier 'custentity_vendor_only'. Available identifiers are: {customer=customer}.",
        ),
        (
            "SELECT t.subsidiary FROM transaction t",
            "Unknown identifier 't.subsidiary'. Available identifiers are: {t=transaction, transaction=transaction}.",
        ),
        (
            "SELECT id FROM customertablethatdoesnotexist",
            "Invalid search type: customertablethatdoesnotexist.",
        ),
        ("SELECT id FROM account WHERE subsidiary = 2", "Invalid or unsupported search"),
        ("DELETE FROM customer", "Invalid or unsupported search"),
        ("SELECT id FROM customer WHERE ROWNUM > 1", "Invalid or unsupported search"),
        ("SELECT FROM WHERE", "Invalid or unsupported search"),
        ("SELECT SOMEFUNC(id) FROM customer", "Invalid or unsupported search"),
    ],
)
def test_errors_in_netsuites_words(ns: httpx.Client, query: str, detail: str) -> None:
    error = _error(suiteql(ns, query))
    assert error == {
        "detail": ERROR_PREFIX + detail,
        "o:errorCode": "INVALID_PARAMETER",
        "o:errorQueryParam": "q",
    }


@pytest.mark.sandbox_fixture(fixture_dict(denied_tables=["transaction"]))
def test_a_table_the_role_cannot_read(ns: httpx.Client) -> None:
    assert (
        _error(suiteql(ns, "SELECT id FROM transaction"))["detail"]
        == ERROR_PREFIX + "Record 'transaction' was not found."
    )


def test_request_shape_errors(ns: httpx.Client) -> None:
    assert _error(suiteql(ns, "SELECT id FROM customer", limit=1001))["o:errorQueryParam"] == "limit"
    assert _error(suiteql(ns, "SELECT id FROM customer", limit=0))["o:errorQueryParam"] == "limit"
    assert _error(suiteql(ns, "SELECT id FROM customer", limit=2, offset=3))["o:errorQueryParam"] == "offset"
    assert (
        _error(suiteql(ns, "SELECT id FROM customer", limit=1000, offset=100_000))["o:errorQueryParam"]
        == "offset"
    )
    no_prefer = ns.post("/services/rest/query/v1/suiteql", json={"q": "SELECT id FROM customer"})
    assert no_prefer.status_code == 400
    bad_body = ns.post("/services/rest/query/v1/suiteql", content=b"[1]", headers={"Prefer": "transient"})
    assert _error(bad_body)["o:errorCode"] == "INVALID_PARAMETER"


@pytest.mark.sandbox_fixture(many_customers_fixture(2_345))
def test_offset_paging_returns_every_row_once(ns: httpx.Client) -> None:
    seen, offset = [], 0
    while True:
        page = suiteql(ns, "SELECT id FROM customer ORDER BY id", limit=500, offset=offset).json()
        seen += [int(item["id"]) for item in page["items"]]
        assert page["totalResults"] == 2_345
        if not page["hasMore"]:
            break
        assert any(link["rel"] == "next" for link in page["links"])
        offset += 500
    assert seen == list(range(1, 2_346))


@pytest.mark.sandbox_fixture(many_customers_fixture(2_345))
def test_keyset_paging_returns_every_row_once(ns: httpx.Client) -> None:
    seen: list[int] = []
    last_modified, last_id = "2000-01-01 00:00:00", 0
    while True:
        query = (
            "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lmd FROM customer "
            f"WHERE lastmodifieddate > TO_TIMESTAMP('{last_modified}', 'YYYY-MM-DD HH24:MI:SS') "
            f"OR (lastmodifieddate = TO_TIMESTAMP('{last_modified}', 'YYYY-MM-DD HH24:MI:SS') AND id > {last_id}) "
            "ORDER BY lastmodifieddate, id"
        )
        items = suiteql(ns, query, limit=1000).json()["items"]
        if not items:
            break
        seen += [int(i["id"]) for i in items]
        last_modified, last_id = items[-1]["lmd"], int(items[-1]["id"])
    assert sorted(seen) == list(range(1, 2_346)) and len(seen) == len(set(seen))
