"""The database going away mid-run: the run fails with a clear error, and the re-run completes to the
state of an uninterrupted run."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from resolve_sync.sync import apply as apply_module
from resolve_sync.sync.errors import StoreUnavailable
from resolve_sync_tests.sync_helpers import connect, customers, invoices, snapshot, sync, sync_fixture


@pytest.mark.sandbox_fixture(sync_fixture())
def test_store_outage_mid_apply_fails_clearly_and_the_rerun_completes(
    store, sandbox_server, monkeypatch
) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("terminating the server's connections needs a database server")
    connection = connect(store, sandbox_server)
    original = apply_module.write_actions
    writes = []

    def outage_after_first_batch(db, ctx, actions):  # the fault: the server drops every connection
        if writes:
            admin = create_engine(store.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as control:
                control.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": store.url.database},
                )
            admin.dispose()
        writes.append(len(actions))
        return original(db, ctx, actions)

    monkeypatch.setattr(apply_module, "write_actions", outage_after_first_batch)
    with pytest.raises(StoreUnavailable) as raised:
        sync(store, sandbox_server, connection)
    assert "acme" in str(raised.value) and "run the sync again" in str(raised.value)
    assert "password" not in str(raised.value)
    partial = len(customers(store))
    monkeypatch.setattr(apply_module, "write_actions", original)
    sync(store, sandbox_server, connection)
    assert len(customers(store)) == 8 and len(invoices(store)) == 6 and partial == 8
    assert len(snapshot(store)["customer_links"]) == 8
