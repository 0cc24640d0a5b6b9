"""Load: 20 connections sync at once against one NetSuite account. Every run succeeds, the account's
concurrency limit is never exceeded (sandbox stats), nothing deadlocks, and merchants stay apart."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from resolve_sync.store.connections import list_connections
from resolve_sync.store.models import ResolveCustomer, ResolveInvoice
from resolve_sync.sync.clients import client_for
from resolve_sync.sync.steps import run_sync
from resolve_sync_tests.sandbox_helpers import admin
from resolve_sync_tests.sync_helpers import AS_OF, connect, sync_fixture

CONNECTIONS = 20
LIMIT = 4


@pytest.mark.slow
@pytest.mark.sandbox_fixture(sync_fixture(concurrency_limit=LIMIT, latency={"per_request_ms": 30}))
def test_twenty_connections_share_one_account_within_its_limit(store, sandbox_server) -> None:
    for number in range(CONNECTIONS):
        connect(store, sandbox_server, merchant=f"merchant-{number:02d}", concurrency_limit=LIMIT)
    errors: list[BaseException] = []
    reports = {}

    def sync(connection) -> None:
        try:
            with client_for(connection, store) as client:
                reports[connection.merchant_id] = run_sync(client, store, connection, as_of=AS_OF)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=sync, args=(c,)) for c in list_connections(store)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a sync is stuck (deadlock?)"
    assert errors == []
    stats = admin(sandbox_server.base_url).get("/_sandbox/stats").json()
    assert stats["peak_concurrency"] <= LIMIT
    assert stats["status_counts"].get("429", 0) == 0
    assert len(reports) == CONNECTIONS and all(r["created"] == 14 for r in reports.values())
    with store.connect() as db:
        per_merchant = dict(
            db.execute(
                select(ResolveCustomer.merchant_id, func.count()).group_by(ResolveCustomer.merchant_id)
            ).all()
        )
        invoices = db.scalar(select(func.count()).select_from(ResolveInvoice))
    assert set(per_merchant.values()) == {8} and len(per_merchant) == CONNECTIONS
    assert invoices == 6 * CONNECTIONS
