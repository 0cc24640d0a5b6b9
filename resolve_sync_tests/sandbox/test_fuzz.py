"""Whatever arrives at the SuiteQL endpoint, the sandbox answers like NetSuite: never a 500."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolve_sync_tests.sandbox_helpers import suiteql

TOKENS = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "EXISTS",
    "ORDER BY",
    "GROUP BY",
    "HAVING",
    "JOIN",
    "ON",
    "(",
    ")",
    ",",
    "*",
    "=",
    "<",
    ">",
    "<=",
    "'T'",
    "'x''y'",
    "1",
    "-1",
    "1e308",
    "NULL",
    "id",
    "customer",
    "transaction",
    "t",
    "c.id",
    "BUILTIN.DF(",
    "BUILTIN.CF(",
    "TO_CHAR(",
    "TO_DATE(",
    "ROWNUM",
    "SYSDATE",
    "ADD_MONTHS(",
    "NVL(",
    "COUNT(*)",
    "MAX(",
    "UNION",
    "SELECT 1",
    ";",
    "--",
    "/*",
    "DROP TABLE",
    "lastmodifieddate",
    "custentity_sync_to_resolve",
    "subsidiary",
    "transactionline",
    "LIKE",
    "'%'",
    "CASE WHEN",
    "THEN",
    "ELSE",
    "END",
    "AS",
    "x",
    "FETCH FIRST 5 ROWS ONLY",
    "||",
    "pragma",
]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _assert_netsuite_answer(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["o:errorDetails"][0]["o:errorCode"] in ("INVALID_PARAMETER",)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25).map(" ".join))
def test_random_sql_never_gets_a_500(ns: httpx.Client, query: str) -> None:
    _assert_netsuite_answer(suiteql(ns, query))


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_never_gets_a_500(ns: httpx.Client, query: str) -> None:
    _assert_netsuite_answer(suiteql(ns, query))


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_never_get_a_500(ns: httpx.Client, body: bytes) -> None:
    response = ns.post("/services/rest/query/v1/suiteql", content=body, headers={"Prefer": "transient"})
    _assert_netsuite_answer(response)
