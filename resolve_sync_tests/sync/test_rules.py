"""One test per rule of SPEC §3, from a user's point of view, against the sandbox over HTTP and the store
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.models import (
    DuplicateResolution,
    InvoiceDrift,
    ResolveCustomer,
    ResolveInvoice,
    SyncRecordOutcome,
    SyncRun,
)
from resolve_sync.sync.errors import DuplicatesFound, FilterFieldInvalid, SubsidiaryRequired
from resolve_sync_tests.sandbox_helpers import admin, bulk_account, fixture_dict
from resolve_sync_tests.sync_helpers import (
    FILTER,
    connect,
    customers,
    invoices,
    orm_rows,
    set_filter,
    snapshot,
    sync,
    sync_fixture,
)

pytestmark = pytest.mark.sandbox_fixture(sync_fixture())


def _outcomes(store, netsuite_id: str, kind: str = "invoice") -> list[tuple[str, str]]:
    return [
        (r.outcome, r.reason)
        for r in orm_rows(
            store,
            select(SyncRecordOutcome)
            .where(SyncRecordOutcome.netsuite_id == netsuite_id, SyncRecordOutcome.record_kind == kind)
            .order_by(SyncRecordOutcome.id),
        )
    ]


def test_r1_customers_of_the_subsidiary_and_invoices_of_the_last_12_months(store, sandbox_server) -> None:
    report = sync(store, sandbox_server, connect(store, sandbox_server))
    assert set(customers(store)) == {
        "10",
        "11",
        "12",
        "13",
        "20",
        "30",
        "31",
        "40",
    }  # 40 via a secondary subsidiary
    assert set(invoices(store)) == {"100", "101", "102", "103", "104", "106"}  # 105 is too old, 107 elsewhere
    assert report["created"] == 14 and report["invalid"] == 0 and report.mode == "full"
    acme = invoices(store)["100"]
    assert (acme.number, float(acme.amount_due), float(acme.amount_balance)) == ("INV100", 1500.0, 1234.56)
    assert str(acme.invoiced_at) == "2026-02-01" and acme.currency == "USD"


def test_r2_several_subsidiaries_and_none_chosen_lists_the_choices(store, sandbox_server) -> None:
    with pytest.raises(SubsidiaryRequired) as raised:
        sync(store, sandbox_server, connect(store, sandbox_server, subsidiary=None))
    message = str(raised.value)
    assert (
        "'acme'" in message and "1 (Parent Co)" in message and "2 (US)" in message and "3 (Canada)" in message
    )
    assert "Elimination" not in message
    assert customers(store) == {}


def test_r2_an_account_without_oneworld_needs_no_subsidiary(store) -> None:
    raw = fixture_dict(
        oneworld=False,
        subsidiaries=[],
        customer_subsidiaries=[],
        customers=[{"id": 1, "entityid": "C1", "companyname": "Solo Inc", "email": "ap@solo.test"}],
        invoices=[
            {
                "id": 5,
                "tranid": "INV5",
                "trandate": "2026-10-01",
                "entity": 1,
                "foreigntotal": 10,
                "currency": "USD",
            }
        ],
        accounts=[],
    )
    with SandboxServer(parse_fixture(raw)) as server:
        sync(store, server, connect(store, server, subsidiary=None))
    assert set(customers(store)) == {"1"} and set(invoices(store)) == {"5"}


def test_r3_a_sync_only_reads_netsuite(store, sandbox_server) -> None:
    sync(store, sandbox_server, connect(store, sandbox_server, filter_field=FILTER))
    requests = admin(sandbox_server.base_url).get("/_sandbox/stats").json()["requests"]
    assert set(requests) <= {
        "/services/rest/query/v1/suiteql",
        "/services/rest/record/v1/metadata-catalog/customer",
    }


def test_r5_sub_customers_are_archived_and_their_invoices_go_to_the_top_level_customer(
    store, sandbox_server
) -> None:
    sync(store, sandbox_server, connect(store, sandbox_server))
    rows = customers(store)
    assert [rows[i].archived for i in ("10", "11", "12", "13")] == [False, True, True, True]
    assert invoices(store)["101"].customer_id == rows["10"].id  # three levels deep → Acme Inc
    assert invoices(store)["103"].customer_id == rows["30"].id


def test_r5_invoice_of_a_sub_customer_whose_ancestor_is_filtered_out_is_held_back(
    store, sandbox_server
) -> None:
    report = sync(store, sandbox_server, connect(store, sandbox_server, filter_field=FILTER))
    assert "103" not in invoices(store) and "31" in customers(store)
    outcome, reason = _outcomes(store, "103")[-1]
    assert outcome == "held_back" and "top-level customer 30" in reason and FILTER in reason
    assert report["held_back"] == 1


def test_r6_inactive_customer_is_archived_and_reactivation_unarchives(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    assert customers(store)["20"].archived
    control = admin(sandbox_server.base_url)
    control.post("/_sandbox/clock", json={"now": "2026-11-26T09:00:00"})
    control.post(
        "/_sandbox/records/customers",
        json={
            "records": [
                {
                    "id": 20,
                    "entityid": "C20",
                    "companyname": "Globex LLC",
                    "email": "ap@globex.test",
                    "subsidiary": 2,
                    "isinactive": False,
                    "custom": {FILTER: True},
                },
                {
                    "id": 40,
                    "entityid": "C40",
                    "companyname": "Maple Ltd",
                    "email": "ap@maple.test",
                    "subsidiary": 3,
                    "isinactive": True,
                    "custom": {FILTER: True},
                },
            ]
        },
    )
    report = sync(store, sandbox_server, connection)
    assert report.mode == "incremental"
    assert not customers(store)["20"].archived and customers(store)["40"].archived
    assert (report["unarchived"], report["archived"]) == (1, 1)


def test_r7_resolve_edits_stand_unless_netsuite_changed_that_field(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    with store.begin() as db:
        db.execute(
            update(ResolveCustomer)
            .where(ResolveCustomer.netsuite_id == "10")
            .values(email="payables@acme.test", version=ResolveCustomer.version + 1)
        )
    admin(sandbox_server.base_url).post(
        "/_sandbox/records/customers",
        json={
            "records": [
                {
                    "id": 10,
                    "entityid": "C10",
                    "companyname": "Acme Holdings Inc",
                    "email": "ap@acme.test",
                    "subsidiary": 2,
                    "custom": {FILTER: True},
                }
            ]
        },
    )
    sync(store, sandbox_server, connection)
    acme = customers(store)["10"]
    assert (acme.business_name, acme.email) == ("Acme Holdings Inc", "payables@acme.test")


def test_r8_financed_invoice_is_frozen_and_netsuite_changes_become_drift(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server)
    sync(store, sandbox_server, connection)
    with store.begin() as db:
        db.execute(update(ResolveInvoice).where(ResolveInvoice.netsuite_id == "100").values(advanced=True))
    before = invoices(store)["100"]
    admin(sandbox_server.base_url).post(
        "/_sandbox/records/invoices",
        json={
            "records": [
                {
                    **{
                        "id": 100,
                        "tranid": "INV100",
                        "trandate": "2026-02-01",
                        "duedate": "2026-03-03",
                        "entity": 10,
                        "subsidiary": 2,
                        "status": "A",
                        "currency": "USD",
                    },
                    "foreigntotal": 1800,
                    "foreignamountunpaid": 1800,
                }
            ]
        },
    )
    report = sync(store, sandbox_server, connection)
    after = invoices(store)["100"]
    assert (after.amount_due, after.amount_balance, after.version) == (
        before.amount_due,
        before.amount_balance,
        before.version,
    )
    assert report["frozen"] == 1
    drift = orm_rows(store, select(InvoiceDrift))
    assert len(drift) == 1 and drift[0].changes["amount_due"] == {"synced": "1500", "netsuite": "1800"}
    sync(store, sandbox_server, connection)  # the same drift is not recorded twice
    with store.connect() as db:
        assert db.scalar(select(func.count()).select_from(InvoiceDrift)) == 1


def test_r9_filter_field_syncs_only_checked_customers_and_their_invoices(store, sandbox_server) -> None:
    sync(store, sandbox_server, connect(store, sandbox_server, filter_field=FILTER))
    assert "30" not in customers(store) and "104" not in invoices(store)
    assert {"10", "11", "12", "13", "20", "31", "40"} == set(customers(store))


def test_r10_switching_the_filter_re_evaluates_everything_and_removes_nothing(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server, filter_field=FILTER)
    sync(store, sandbox_server, connection)
    before = snapshot(store)
    set_filter(store, connection, "custentity_vip")
    report = sync(store, sandbox_server, connection)
    assert report.mode == "full"
    after = snapshot(store)
    assert set(before["customers"]) <= set(after["customers"])  # nothing deleted, archived or changed
    assert "30" in customers(store)  # newly in the filter (VIP), so now synced
    assert report["skipped"] >= 1 and report["archived"] == 0
    set_filter(store, connection, None)
    assert sync(store, sandbox_server, connection).mode == "full"  # clearing re-evaluates too


def test_r11_invalid_filter_field_writes_nothing_and_says_which_field_and_why(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server, filter_field="custentity_region")
    for _ in range(2):  # every later run fails the same way until corrected
        with pytest.raises(FilterFieldInvalid) as raised:
            sync(store, sandbox_server, connection)
        assert "custentity_region" in str(raised.value) and "not a checkbox" in str(raised.value)
    assert customers(store) == {} and invoices(store) == {}
    set_filter(store, connection, "custentity_nope")
    with pytest.raises(FilterFieldInvalid, match="no custom field 'custentity_nope' exists"):
        sync(store, sandbox_server, connection)
    set_filter(store, connection, FILTER)
    assert sync(store, sandbox_server, connection)["created"] > 0


def test_r12_duplicates_fail_the_run_until_an_operator_resolves_them(store) -> None:
    raw = sync_fixture()
    raw["customers"].append(
        {
            "id": 60,
            "entityid": "C60",
            "companyname": "ACME, Inc.",
            "email": "other@acme.test",
            "subsidiary": 2,
            "custom": {FILTER: True},
        }
    )
    with SandboxServer(parse_fixture(raw)) as server:
        connection = connect(store, server)
        with pytest.raises(DuplicatesFound) as raised:
            sync(store, server, connection)
        assert "netsuite:10" in str(raised.value) and "netsuite:60" in str(raised.value)
        assert customers(store) == {}
        with store.begin() as db:
            db.execute(
                DuplicateResolution.__table__.insert().values(
                    merchant_id="acme",
                    left_key="netsuite:10",
                    right_key="netsuite:60",
                    resolution="distinct",
                    resolved_by="test",
                    created_at=func.now(),
                )
            )
        sync(store, server, connection)
    assert {"10", "60"} <= set(customers(store))


def test_r12_a_netsuite_customer_matching_an_unlinked_resolve_customer_is_linked_not_duplicated(
    store, sandbox_server
) -> None:
    from resolve_sync.store.models import utcnow

    with store.begin() as db:
        db.execute(
            ResolveCustomer.__table__.insert().values(
                id="cus_manual",
                merchant_id="acme",
                business_name="Maple Limited",
                email="ap@maple.test",
                archived=False,
                source="MERCHANT_USER",
                version=1,
                created_at=utcnow(),
                updated_at=utcnow(),
                updated_by="merchant",
            )
        )
    connection = connect(store, sandbox_server)
    with pytest.raises(DuplicatesFound, match="resolve:cus_manual"):
        sync(store, sandbox_server, connection)
    with store.begin() as db:
        db.execute(
            DuplicateResolution.__table__.insert().values(
                merchant_id="acme",
                left_key="netsuite:40",
                right_key="resolve:cus_manual",
                resolution="linked",
                resolved_by="test",
                created_at=func.now(),
            )
        )
    sync(store, sandbox_server, connection)
    assert customers(store)["40"].id == "cus_manual"
    with store.connect() as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(ResolveCustomer)
                .where(ResolveCustomer.email == "ap@maple.test")
            )
            == 1
        )


def test_r15_the_same_sync_twice_writes_nothing_the_second_time(store, sandbox_server) -> None:
    connection = connect(store, sandbox_server, filter_field=FILTER)
    sync(store, sandbox_server, connection)
    before = snapshot(store)
    with store.connect() as db:
        outcomes_before = db.scalar(select(func.count()).select_from(SyncRecordOutcome))
    report = sync(store, sandbox_server, connection)
    assert report.mode == "incremental"
    assert (report["created"], report["updated"], report["written"]) == (0, 0, 0)
    assert snapshot(store) == before
    with store.connect() as db:
        assert db.scalar(select(func.count()).select_from(SyncRecordOutcome)) == outcomes_before


def test_r17_many_rows_sharing_one_timestamp_across_pages_all_arrive(store) -> None:
    raw = bulk_account(2600)
    with SandboxServer(parse_fixture(raw)) as server:
        connection = connect(store, server)
        sync(store, server, connection)
        control = admin(server.base_url)
        control.post("/_sandbox/clock", json={"now": "2026-11-26T09:00:00"})
        control.post(
            "/_sandbox/records/customers",
            json={
                "records": [
                    {
                        "id": i,
                        "entityid": f"C{i}",
                        "companyname": f"Renamed {i}",
                        "email": f"ap{i}@c{i}.test",
                        "subsidiary": 2,
                        "lastmodifieddate": "2026-11-26T09:00:00",
                    }
                    for i in range(1, 2601)
                ]
            },
        )
        report = sync(store, server, connection)
    assert report.mode == "incremental" and report["updated"] == 2600
    assert all(c.business_name.startswith("Renamed") for c in customers(store).values())


def test_run_history_records_counts(store, sandbox_server) -> None:
    sync(store, sandbox_server, connect(store, sandbox_server))
    (run,) = orm_rows(store, select(SyncRun))
    assert run.status == "succeeded" and run.counts["created"] == 14 and run.counts["netsuite_requests"] > 0
