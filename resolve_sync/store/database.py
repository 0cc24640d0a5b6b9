"""Engines for the store: one place that knows how URLs, SQLite pragmas and migrations fit together."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from resolve_sync import settings
from resolve_sync.errors import StoreError


class StoreNotMigrated(StoreError):
    """The database exists but its schema is behind the code."""


def normalise_url(url: str) -> str:
    """Pin every PostgreSQL URL to psycopg2, the one driver dagster-postgres also uses.

    SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which is not installed; `postgres://` (as
    Heroku-style providers hand out) is not understood at all.
    """
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    if parsed.drivername in ("postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def upsert_insert(engine: Engine, table: Any) -> Any:
    """An INSERT that accepts ON CONFLICT clauses on the engine's dialect (both store engines have them)."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


def _enable_sqlite_integrity(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked, per connection; WAL lets readers (the UI, status) run beside a sync.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for `url` with the settings the store relies on (foreign keys on SQLite)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _enable_sqlite_integrity)
        return engine
    return create_engine(url, pool_pre_ping=True)


@cache
def _engine_for(url: str) -> Engine:
    return create_store_engine(url)


def store_engine(url: str | None = None) -> Engine:
    """The store's engine, migrated and ready.

    The default local SQLite file is created and migrated on first use so a fresh clone needs no setup;
    a configured database (production PostgreSQL) is migrated only by `resolve-sync db upgrade`, and using
    it before that is an error that says so.
    """
    from resolve_sync.store import migrations

    url = url or settings.database_url()
    engine = _engine_for(normalise_url(url))
    if migrations.is_current(engine):
        return engine
    if settings.uses_default_database() and url == settings.database_url():
        migrations.upgrade(engine)
    else:
        raise StoreNotMigrated(
            f"The store at {engine.url.render_as_string(hide_password=True)} is not at the latest schema; "
            "run `resolve-sync db upgrade` first."
        )
    return engine
