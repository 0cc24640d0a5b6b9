"""Engines for the store: one place that knows how URLs, SQLite pragmas and migrations fit together."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from resolve_sync import settings, validation
from resolve_sync.errors import ConfigurationError, StoreError


class StoreConfigurationError(ConfigurationError):
    """RESOLVE_SYNC_DATABASE_URL names no database this store can use."""


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


WAL_CHECKPOINT_PAGES = 20_000


def _enable_sqlite_integrity(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked, per connection; WAL lets readers (the UI, status) run beside a sync.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A sync commits a batch every 2,000 records, and a first sync's batches each dirty thousands of index
    # pages (Resolve ids are random): at SQLite's default (a checkpoint once the WAL holds 1,000 pages)
    # every commit also copied the WAL into the database and synced it, 12 of 68 s of a 600k-record first
    # sync. Checkpointing every 20,000 pages (about 80 MB of WAL) writes a page rewritten by several
    # batches once, and syncs the file a twentieth as often.
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.close()


def checked_url(url: str) -> str:
    """The normalised URL, or a configuration error that says what to set (never with its password)."""
    try:
        normalised = normalise_url(url)
        if not normalised.startswith(("sqlite", "postgresql")):
            raise ValueError("unsupported database")
        make_url(normalised).get_dialect()
    except (ArgumentError, ValueError, ImportError, NoSuchModuleError) as error:
        shown = validation.redact_url(url)
        raise StoreConfigurationError(
            f"{shown!r} is not a database URL the Resolve store supports ({type(error).__name__}).",
            hint="Set RESOLVE_SYNC_DATABASE_URL to sqlite:///PATH or postgresql://USER@HOST:PORT/DB, or unset it "
            "for the local SQLite file.",
        ) from None
    return normalised


def shown_url(engine: Engine) -> str:
    """The engine's URL as it may be printed: no password in any of the places a URL can carry one."""
    return validation.redact_url(engine.url.render_as_string(hide_password=True))


def create_store_engine(url: str) -> Engine:
    """An engine for `url` with the settings the store relies on (foreign keys on SQLite)."""
    url = checked_url(url)
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
    engine = _engine_for(checked_url(url))
    if migrations.is_current(engine):
        return engine
    if settings.uses_default_database() and url == settings.database_url():
        migrations.upgrade(engine)
    else:
        raise StoreNotMigrated(
            f"The store at {shown_url(engine)} is not at the latest schema; "
            "run `resolve-sync db upgrade` first."
        )
    return engine


# -- bulk writes ------------------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value in COPY's text format: NULL as \\N, booleans as t/f, JSON as its text, aware timestamps as
    naive UTC (how `UTCDateTime` stores them), and tab, newline, carriage return and backslash escaped."""
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | int | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return copy_text(orjson.dumps(value).decode())
    return copy_text(str(value))


def copy_rows(db: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL's bulk path: `COPY table (columns) FROM STDIN` in the caller's transaction; returns the
    rows copied. Errors come back as SQLAlchemy's (an IntegrityError for a unique violation, a DBAPIError
    for a lost connection), as they would from `db.execute`."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join([copy_text(value) for value in row]))
        buffer.write("\n")
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    raw = db.connection.driver_connection
    try:
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.copy_expert(statement, buffer)
    except raw.Error as error:  # type: ignore[union-attr]
        raise DBAPIError.instance(statement, None, error, raw.Error, dialect=db.dialect) from error  # type: ignore[union-attr]
    return count
