"""The pure rule functions, one table per rule, without NetSuite or a database.

The end-to-end tests in test_rules.py prove the same rules through HTTP and the store; these point a
failure at the function that decides it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from resolve_sync.kinds import ArchiveChange, Outcome, RecordKind, RunMode
from resolve_sync.store.connections import Connection
from resolve_sync.sync.duplicates import (
    Candidate,
    DuplicatePair,
    find_duplicates,
    hold_back_duplicate,
    links_from_resolutions,
    normalised_name,
)
from resolve_sync.sync.errors import SubsidiaryRequired
from resolve_sync.sync.hierarchy import archive_reason, invoice_owner, top_level_ancestors
from resolve_sync.sync.plan import freeze_financed, keep_out_of_filter, plan_customer, plan_invoice
from resolve_sync.sync.records import Action, CustomerFacts, Link, ResolveRow
from resolve_sync.sync.scope import (
    choose_subsidiary,
    filter_changes,
    invoice_window_start,
    is_in_filter,
    is_synced,
    run_mode,
)
from resolve_sync.sync.transform import InvalidRecord, netsuite_changes, resolve_invoice_fields


def facts(
    cid: str, parent: str | None = None, *, inactive=False, in_scope=True, checked=None
) -> CustomerFacts:
    return CustomerFacts(cid, parent, inactive, in_scope, checked)


def connection(subsidiary_id: int | None) -> Connection:
    return Connection(
        id=1,
        merchant_id="acme",
        partition_key=f"acme|{subsidiary_id or 'default'}",
        netsuite_account_id="1234567",
        base_url=None,
        auth_kind="tba",
        subsidiary_id=subsidiary_id,
        filter_field_id=None,
        account_timezone="UTC",
        concurrency_limit=None,
        enabled=True,
        bookkeeping_account_ids={},
        credentials_encrypted="",
    )


CUSTOMER_ROW = {"netsuite_id": "10", "companyname": "Acme Inc", "email": "AP@Acme.test", "phone": None}
INVOICE_ROW = {
    "netsuite_id": "100",
    "tranid": "INV100",
    "trandate": "2026-02-01",
    "duedate": "2026-03-03",
    "status": "A",
    "currency": "USD",
    "foreigntotal": "1500",
    "foreignamountunpaid": "1234.56",
    "memo": None,
}


# -- R1 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "start"),
    [
        (dt.date(2026, 11, 26), dt.date(2025, 11, 26)),
        (dt.date(2024, 2, 29), dt.date(2023, 2, 28)),  # no 29 February a year earlier
        (dt.date(2026, 1, 31), dt.date(2025, 1, 31)),
    ],
)
def test_r1_invoice_window_is_the_twelve_months_before_the_logical_date(as_of, start) -> None:
    assert invoice_window_start(as_of) == start


# -- R2 ------------------------------------------------------------------------------------------------------

SUBSIDIARIES = [{"id": "2", "name": "US"}, {"id": "3", "name": "UK"}]


@pytest.mark.parametrize(
    ("subsidiaries", "chosen", "expected"),
    [
        (SUBSIDIARIES, 2, 2),
        ([{"id": "1", "name": "Parent"}], None, 1),  # one subsidiary needs no choice
        ([], None, None),  # no OneWorld
    ],
)
def test_r2_subsidiary_choice(subsidiaries, chosen, expected) -> None:
    assert choose_subsidiary(subsidiaries, connection(chosen)) == expected


@pytest.mark.parametrize("chosen", [None, 9])
def test_r2_several_subsidiaries_need_a_valid_choice_and_the_error_lists_them(chosen) -> None:
    with pytest.raises(SubsidiaryRequired) as refused:
        choose_subsidiary(SUBSIDIARIES, connection(chosen))
    assert (
        "2 (US)" in str(refused.value) and "3 (UK)" in str(refused.value) and "'acme'" in str(refused.value)
    )


# -- R5, R6 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parents", "customer", "top"),
    [
        ({"1": None, "2": "1", "3": "2"}, "3", "1"),  # any depth
        ({"1": None}, "1", "1"),
        ({"2": "1"}, "2", None),  # parent not returned by NetSuite
        ({"1": "2", "2": "1"}, "1", None),  # cycle
    ],
)
def test_r5_top_level_ancestor(parents, customer, top) -> None:
    ancestry = top_level_ancestors(parents)[customer]
    assert ancestry.top_level_id == top
    assert (ancestry.reason is None) == (top is not None)


@pytest.mark.parametrize(
    ("customer", "archived"),
    [(facts("1"), False), (facts("2", "1"), True), (facts("3", inactive=True), True)],
)
def test_r5_r6_sub_customers_and_inactive_customers_are_archived(customer, archived) -> None:
    assert (archive_reason(customer) is not None) == archived


def test_r5_invoice_owner_is_the_top_level_customer_or_held_back_with_the_reason() -> None:
    customers = {
        "1": facts("1"),
        "2": facts("2", "1"),
        "5": facts("5", in_scope=False),
        "6": facts("6", "5"),
        "7": facts("7", checked=False),
    }
    ancestry = top_level_ancestors({k: f.parent_id for k, f in customers.items()})
    assert invoice_owner("2", customers, ancestry, None).netsuite_id == "1"
    held = invoice_owner("6", customers, ancestry, None)
    assert held.netsuite_id is None and "outside the subsidiary" in (held.reason or "")
    skipped = invoice_owner("7", customers, ancestry, "custentity_x")
    assert skipped.out_of_scope and skipped.netsuite_id is None
    assert invoice_owner("99", customers, ancestry, None).netsuite_id is None


# -- R7 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fresh", "last", "changed"),
    [
        ({"email": "a@b.c"}, None, {"email"}),
        ({"email": "a@b.c"}, {"email": "a@b.c"}, set()),
        ({"email": "new@b.c", "business_name": "X"}, {"email": "a@b.c", "business_name": "X"}, {"email"}),
        ({"amount_due": Decimal("10.5000")}, {"amount_due": "10.5"}, set()),
    ],
)
def test_r7_only_fields_netsuite_changed_since_the_last_sync_are_written(fresh, last, changed) -> None:
    assert set(netsuite_changes(fresh, last).changed) == changed


def test_r7_update_carries_the_planned_version_for_compare_and_set() -> None:
    link = Link("cus_1", {"business_name": "Acme Inc", "email": "old@acme.test", "business_phone": None})
    link = Link("cus_1", {**link.synced_values, "archived": False})
    action = plan_customer(CUSTOMER_ROW, facts("10"), link, ResolveRow(7))
    assert action.kind == Outcome.UPDATED and action.fields == {"email": "ap@acme.test"}
    assert action.expected_version == 7


# -- R8 ------------------------------------------------------------------------------------------------------


def test_r8_a_financed_invoice_is_frozen_and_the_change_kept_as_drift() -> None:
    synced = {"amount_balance": "1500", "customer_id": "cus_1"}
    action = plan_invoice(
        INVOICE_ROW, _owner("10"), "cus_1", Link("inv_1", synced), ResolveRow(3, advanced=True)
    )
    assert action.kind == Outcome.FROZEN and action.fields == {}
    assert action.drift["amount_balance"] == {"synced": "1500", "netsuite": "1234.56"}
    assert freeze_financed("100", "inv_1", {"memo": "x"}, {}).drift == {
        "memo": {"synced": None, "netsuite": "x"}
    }


def test_r8_an_unfinanced_invoice_is_updated() -> None:
    action = plan_invoice(
        INVOICE_ROW, _owner("10"), "cus_1", Link("inv_1", {"amount_balance": "1500"}), ResolveRow(3)
    )
    assert action.kind == Outcome.UPDATED and "amount_balance" in action.fields


def _owner(netsuite_id: str):
    from resolve_sync.sync.hierarchy import InvoiceOwner

    return InvoiceOwner(netsuite_id)


# -- R9, R10 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "in_filter", "synced"),
    [
        (facts("1"), True, True),
        (facts("1", checked=True), True, True),
        (facts("1", checked=False), False, False),
        (facts("1", in_scope=False), True, False),
    ],
)
def test_r9_filter_field(customer, in_filter, synced) -> None:
    assert is_in_filter(customer) is in_filter and is_synced(customer) is synced


@pytest.mark.parametrize(
    ("full_refresh", "cursors", "field", "mode"),
    [
        (False, {"customers": None, "invoices": None}, None, RunMode.INCREMENTAL),
        (True, {"customers": None, "invoices": None}, None, RunMode.FULL),
        (False, {}, None, RunMode.FULL),  # never synced
        (False, {"customers": None, "invoices": None}, "custentity_a", RunMode.FULL),  # filter set
        (False, {"customers": "custentity_a", "invoices": "custentity_a"}, "custentity_b", RunMode.FULL),
        (False, {"customers": "custentity_a", "invoices": "custentity_a"}, None, RunMode.FULL),  # cleared
        (
            False,
            {"customers": "custentity_a", "invoices": "custentity_a"},
            "custentity_a",
            RunMode.INCREMENTAL,
        ),
    ],
)
def test_r10_r17_a_filter_change_makes_the_run_a_full_re_evaluation(
    full_refresh, cursors, field, mode
) -> None:
    assert run_mode(full_refresh=full_refresh, cursor_filter_ids=cursors, filter_field_id=field) == mode


def test_r10_staging_written_under_another_filter_by_an_unfinished_run_forces_a_full_run() -> None:
    cursors = {"customers": "custentity_a", "invoices": "custentity_a"}
    mode = run_mode(
        full_refresh=False,
        cursor_filter_ids=cursors,
        filter_field_id="custentity_a",
        staged_filter_ids=[None],
    )
    assert mode == RunMode.FULL


def test_r10_a_record_leaving_the_filter_is_kept_never_deleted() -> None:
    kept = plan_customer(CUSTOMER_ROW, facts("10", checked=False), Link("cus_1", {}), ResolveRow(1))
    assert kept.kind == Outcome.SKIPPED and kept.resolve_id == "cus_1" and not kept.fields
    assert "kept as it is" in (kept.reason or "")
    assert keep_out_of_filter(RecordKind.INVOICE, "100", None, "why").resolve_id is None


def test_r10_sensor_sees_set_changed_and_cleared_filters_and_a_b_a() -> None:
    changed, cursor = filter_changes({}, {"acme|2": None})
    assert changed == []
    changed, cursor = filter_changes(cursor, {"acme|2": "custentity_a"})
    assert changed == ["acme|2"]
    changed, cursor = filter_changes(cursor, {"acme|2": None})
    changed, cursor = filter_changes(cursor, {"acme|2": "custentity_a"})
    assert changed == ["acme|2"] and cursor["acme|2"] == ["custentity_a", 3]


# -- R12 -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalised"),
    [("ACME, Inc.", "acme"), ("Acme Pty Ltd", "acme"), ("Café Müller GmbH", "cafe muller"), ("Inc", "inc")],
)
def test_r12_names_are_compared_normalised(name, normalised) -> None:
    assert normalised_name(name) == normalised


def test_r12_pairs_need_an_unlinked_side_and_skip_families_and_resolved_pairs() -> None:
    a = Candidate("netsuite:1", "Acme Inc", "a@x.test", linked=False, family="1")
    b = Candidate("netsuite:2", "ACME", "b@x.test", linked=True, family="2")
    c = Candidate("netsuite:3", "Acme", "c@x.test", linked=False, family="1")  # a's sub-customer
    r = Candidate("resolve:cus_9", "Other", "a@x.test")
    pairs = find_duplicates([a, b, c], [r], resolved=set())
    assert {p.keys for p in pairs} == {
        ("netsuite:1", "netsuite:2"),
        ("netsuite:2", "netsuite:3"),
        ("netsuite:1", "resolve:cus_9"),
    }
    assert find_duplicates([a, b], [], resolved={("netsuite:1", "netsuite:2")}) == []
    assert find_duplicates([b, Candidate("netsuite:4", "Acme", None, linked=True)], [], set()) == []


def test_r12_a_create_in_an_unresolved_pair_is_held_back_and_linked_pairs_adopt() -> None:
    pair = DuplicatePair(
        Candidate("netsuite:1", "Acme", None), Candidate("netsuite:2", "Acme", None), "business name"
    )
    create = Action(Outcome.CREATED, RecordKind.CUSTOMER, "1", fields={"business_name": "Acme"})
    held = hold_back_duplicate(create, pair, "acme")
    assert held.kind == Outcome.HELD_BACK and "netsuite:2" in (held.reason or "") and not held.fields
    update = Action(Outcome.UPDATED, RecordKind.CUSTOMER, "1", "cus_1")
    assert hold_back_duplicate(update, pair, "acme") is update
    assert links_from_resolutions(
        {("netsuite:1", "resolve:cus_9"): "linked", ("netsuite:2", "netsuite:3"): "distinct"}
    ) == {"1": "cus_9"}


# -- §4 per-record guard -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"foreigntotal": "0"}, "not positive"),
        ({"foreignamountunpaid": "2000"}, "outside 0..1500"),
        ({"duedate": "2026-01-01"}, "before the invoice date"),
        ({"trandate": None}, "invoice date"),
        ({"currency": "dollars"}, "ISO 4217"),
        ({"tranid": "  "}, "blank"),
    ],
)
def test_invalid_invoices_are_refused_with_the_reason(change, reason) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        resolve_invoice_fields({**INVOICE_ROW, **change}, "cus_1")


def test_create_marks_archived_sub_customers() -> None:
    action = plan_customer(CUSTOMER_ROW, facts("10", "1"), None, None)
    assert action.kind == Outcome.CREATED and action.fields["archived"] is True
    assert action.archive_change == ArchiveChange.ARCHIVED
