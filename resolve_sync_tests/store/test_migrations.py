"""The schema comes from alembic migrations, and the models say the same thing the migrations do."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, inspect

from resolve_sync.cli import cli
from resolve_sync.store import migrations
from resolve_sync.store.database import StoreNotMigrated, create_store_engine, store_engine
from resolve_sync.store.models import Base

EXPECTED_TABLES = {
    "merchant_connections",
    "resolve_customers",
    "resolve_invoices",
    "netsuite_customer_links",
    "netsuite_invoice_links",
    "sync_cursors",
    "sync_runs",
    "sync_record_outcomes",
    "duplicate_resolutions",
    "invoice_drift",
    "netsuite_request_leases",
    "netsuite_staged_customers",
    "netsuite_staged_invoices",
}


def test_upgrade_creates_every_table_on_an_empty_database(empty_store_url: str) -> None:
    engine = create_store_engine(empty_store_url)
    migrations.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    assert migrations.current_revision(engine) == migrations.head_revision(engine)


def test_models_match_the_migrations(store) -> None:
    with store.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_spec_columns_exist(store) -> None:
    columns = {
        t: {c["name"] for c in inspect(store).get_columns(t)}
        for t in ("resolve_customers", "resolve_invoices")
    }
    assert {
        "id",
        "merchant_id",
        "business_name",
        "email",
        "archived",
        "netsuite_id",
        "source",
        "version",
        "created_at",
        "updated_at",
        "updated_by",
    } <= columns["resolve_customers"]
    assert {
        "id",
        "merchant_id",
        "customer_id",
        "number",
        "amount_due",
        "amount_balance",
        "invoiced_at",
        "due_at",
        "advanced",
        "archived",
        "netsuite_id",
        "source",
        "version",
        "created_at",
        "updated_at",
        "updated_by",
    } <= columns["resolve_invoices"]


def test_cli_db_upgrade_twice_changes_nothing(empty_store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_DATABASE_URL", empty_store_url)
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "upgraded (empty) ->" in first.output
    schema_before = _schema(empty_store_url)
    second = runner.invoke(cli, ["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert "already at" in second.output
    assert _schema(empty_store_url) == schema_before
    current = runner.invoke(cli, ["db", "current"])
    assert "(latest)" in current.output


def test_configured_database_is_not_migrated_behind_the_operators_back(
    empty_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_DATABASE_URL", empty_store_url)
    with pytest.raises(StoreNotMigrated, match="resolve-sync db upgrade"):
        store_engine()


def test_default_sqlite_store_is_created_and_migrated_on_first_use(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RESOLVE_SYNC_STATE_DIR", str(tmp_path / "fresh"))
    engine = store_engine()
    assert (tmp_path / "fresh" / "resolve_sync.db").exists()
    assert migrations.is_current(engine)


def _schema(url: str) -> dict[str, list[str]]:
    inspector = inspect(create_store_engine(url))
    return {t: sorted(c["name"] for c in inspector.get_columns(t)) for t in inspector.get_table_names()}


def test_the_cheap_head_check_agrees_with_alembic(store: Engine) -> None:
    from resolve_sync.store import migrations

    assert migrations.HEAD == migrations.head_revision(store) == migrations.current_revision(store)
    assert migrations.is_current(store)
