"""Compiled-query templates (suiteql.QueryCompiler) and the inlined TO_CHAR: the same answers as compiling
every query on its own, with one compilation per query shape."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from sqlglot import exp

from resolve_sync.sandbox import sql_functions
from resolve_sync.sandbox.schema import build_tables
from resolve_sync.sandbox.suiteql import (
    QueryCompiler,
    SuiteQLError,
    _inline_to_char,
    compile_suiteql,
)
from resolve_sync_tests.sandbox_helpers import admin, suiteql

TABLES = build_tables(oneworld=True, customer_custom_fields={})
NONE_DENIED: frozenset[str] = frozenset()
SCAN = (
    "SELECT c.id, c.companyname, TO_CHAR(c.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodified "
    "FROM customer c WHERE (c.id > {low}) AND (c.id <= {high}) ORDER BY c.id"
)


def test_queries_that_differ_in_compared_numbers_share_one_template() -> None:
    compiler = QueryCompiler(TABLES)
    first = compiler.prepare(SCAN.format(low=0, high=13000), NONE_DENIED)
    later = compiler.prepare(SCAN.format(low=41000, high=999999999999999999), NONE_DENIED)
    assert later.compiled is first.compiled
    assert first.params == {"nsq_p0": 0, "nsq_p1": 13000}
    assert later.params == {"nsq_p0": 41000, "nsq_p1": 999999999999999999}
    assert ":nsq_p0" in first.compiled.sql and ":nsq_p1" in first.compiled.count_sql


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("SELECT id FROM customer WHERE ROWNUM <= 2", "SELECT id FROM customer WHERE ROWNUM <= 3"),
        ("SELECT id FROM customer WHERE id IN (1, 2)", "SELECT id FROM customer WHERE id IN (1, 3)"),
        (
            "SELECT id, companyname FROM customer ORDER BY 1",
            "SELECT id, companyname FROM customer ORDER BY 2",
        ),
        ("SELECT id FROM customer WHERE id > -5", "SELECT id FROM customer WHERE id > -6"),
        ("SELECT id FROM customer WHERE id > 1.5", "SELECT id FROM customer WHERE id > 2.5"),
        # 19 digits: past SQLite's integer, so the literal stays what SQLite makes of it
        ("SELECT id FROM customer WHERE id > 1000000000000000000", "SELECT id FROM customer WHERE id > 1"),
    ],
)
def test_numbers_that_change_the_query_stay_literal(one: str, other: str) -> None:
    compiler = QueryCompiler(TABLES)
    first, second = compiler.prepare(one, NONE_DENIED), compiler.prepare(other, NONE_DENIED)
    assert first.compiled is not second.compiled
    assert first.compiled.sql == compile_suiteql(one, TABLES, NONE_DENIED).sql


@pytest.mark.parametrize(
    "query",
    [
        "SELECT id FROM customer WHERE id > :low",
        "SELECT id FROM customer WHERE id > :nsq_p0",
        "SELECT id FROM customer WHERE id > ?",
        "SELECT :nsq_limit AS x FROM customer WHERE id > 5",
    ],
)
def test_a_clients_bind_variables_are_refused(query: str) -> None:
    with pytest.raises(SuiteQLError):
        QueryCompiler(TABLES).prepare(query, NONE_DENIED)


def test_errors_are_the_same_through_a_template() -> None:
    compiler = QueryCompiler(TABLES)
    query = "SELECT c.nosuchcolumn FROM customer c WHERE c.id > 5"
    with pytest.raises(SuiteQLError) as direct:
        compile_suiteql(query, TABLES, NONE_DENIED)
    for _ in range(2):
        with pytest.raises(SuiteQLError) as templated:
            compiler.prepare(query, NONE_DENIED)
        assert templated.value.detail == direct.value.detail
    with pytest.raises(SuiteQLError, match="was not found"):
        compiler.prepare("SELECT id FROM customer WHERE id > 5", frozenset({"customer"}))


def test_the_caches_are_bounded() -> None:
    compiler = QueryCompiler(TABLES, maxsize=4)
    for n in range(10):
        compiler.prepare(f"SELECT id FROM customer WHERE id IN ({n})", NONE_DENIED)
    assert compiler._compiled.cache_info().currsize == 4
    assert compiler._slots.cache_info().currsize <= 4


def test_a_template_reads_the_accounts_current_rows(ns: httpx.Client, sandbox_server) -> None:
    def names(low: int) -> list[str]:
        response = suiteql(ns, f"SELECT id, companyname FROM customer WHERE id > {low} ORDER BY id")
        assert response.status_code == 200, response.text
        return [item["companyname"] for item in response.json()["items"]]

    assert "Renamed Inc" not in names(9)
    with admin(sandbox_server.base_url) as control:
        record = {"id": 11, "entityid": "C11", "companyname": "Renamed Inc", "subsidiary": 2}
        assert control.post("/_sandbox/records/customers", json={"records": [record]}).status_code == 200
    assert "Renamed Inc" in names(10)  # same template, new bound value, the rows as they are now
    assert "Renamed Inc" in names(9)


def test_a_parameter_the_count_does_not_use(ns: httpx.Client) -> None:
    response = suiteql(
        ns, "SELECT id, CASE WHEN id = 10 THEN 'first' ELSE 'other' END AS which FROM customer WHERE id < 12"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["which"] for item in body["items"]] == ["first", "other"]
    assert body["totalResults"] == 2


def test_keyset_pages_through_a_template_match_offset_pages(ns: httpx.Client) -> None:
    offset_pages = suiteql(ns, "SELECT id, companyname FROM customer ORDER BY id", limit=2).json()
    keyset = suiteql(ns, "SELECT id, companyname FROM customer WHERE id > 0 ORDER BY id", limit=2).json()
    assert keyset["items"] == offset_pages["items"]
    assert keyset["totalResults"] == offset_pages["totalResults"]
    last = keyset["items"][-1]["id"]
    following = suiteql(ns, f"SELECT id, companyname FROM customer WHERE id > {last} ORDER BY id", limit=2)
    assert (
        following.json()["items"]
        == suiteql(ns, "SELECT id, companyname FROM customer ORDER BY id", limit=2, offset=2).json()["items"]
    )


@pytest.mark.parametrize("fmt", ["YYYY-MM-DD HH24:MI:SS", "YYYY-MM-DD", "DD-MON-YY"])
@pytest.mark.parametrize(
    "value",
    [
        None,
        "2026-03-02 10:15:30",
        "2026-03-02 10:15:30.250",
        "2026-03-02",
        "2026-03-02T10:15:30",
        "2026-03-02 1",
        "Acme Incorporated, the company",
        "2026-03-02 10:1\x0030",
        "2026-03-0\x00 10:15:30",
        "é026-03-02 10:15:30",
        "",
        17,
        2.5,
        b"2026-03-02 10:15:30",
    ],
)
def test_inlined_to_char_answers_as_the_function(value: object, fmt: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.create_function("ns_to_char", 2, sql_functions.to_char, deterministic=True)
    call = exp.Anonymous(this="NS_TO_CHAR", expressions=[exp.column("v"), exp.Literal.string(fmt)])
    inlined = exp.select(_inline_to_char(call)).from_("t").sql(dialect="sqlite")
    plain = exp.select(call).from_("t").sql(dialect="sqlite")
    connection.execute("CREATE TABLE t (v)")
    connection.execute("INSERT INTO t VALUES (?)", (value,))
    assert connection.execute(inlined).fetchall() == connection.execute(plain).fetchall()
