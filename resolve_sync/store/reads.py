"""Read-only queries over the database driver itself, for the commands an operator runs all day.

`resolve-sync status`, `connections list|show` and `drift list` must answer in a blink (issue 14: at most
0.3 s), and importing SQLAlchemy alone costs about that on a 2-core machine. Their queries are a handful of
SELECTs, so they go through the DB-API driver (`sqlite3`, `psycopg2`) directly. The Dagster definitions
and every write keep SQLAlchemy: `Reads.of(engine)` runs the same SQL over an engine, so each query is
written once (in `run_history` and `connection_records`) whoever asks.

Anything unusual while opening the fast path — a file that is missing, locked or read-only, a server
that does not answer, a schema behind the code, a URL that is not plain SQLite or PostgreSQL — falls back
to `store_engine()`, which migrates the local default store or raises the error the CLI explains.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from resolve_sync import settings
from resolve_sync.errors import StoreError
from resolve_sync.store.schema_version import HEAD

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

PARAMETER = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class Reads(Protocol):
    """Something that runs a SELECT written with `:name` parameters and returns its rows as tuples."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]: ...


class Writes(Reads, Protocol):
    """Reads, and statements that change rows (inside `transaction`)."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...


def expand_lists(sql: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """`x IN :ids` with a list becomes `x IN (:ids_0, :ids_1, …)`: neither driver binds a list."""
    flat: dict[str, Any] = {}
    for name, value in params.items():
        if _is_list(value):
            names = [f"{name}_{i}" for i in range(len(value))]
            flat.update(zip(names, value, strict=True))
            sql = re.sub(rf":{name}\b", "(" + ", ".join(f":{n}" for n in names) + ")", sql)
        else:
            flat[name] = value
    return sql, flat


class EngineReads:
    """The same queries over a SQLAlchemy engine (Dagster, the sync, tests), or over a connection the
    caller holds, inside its transaction (the sync's batches read and write in one)."""

    def __init__(self, engine: Engine | Connection) -> None:
        self.engine = engine

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        from sqlalchemy import Connection, bindparam, text

        params = dict(params or {})
        # A list binds as an expanding parameter, as the ORM's `in_` does: the statement is compiled (and
        # cached) once whatever the list's length, which the sync's batches of 2,000 ids rely on.
        lists = [bindparam(name, expanding=True) for name, value in params.items() if _is_list(value)]
        params.update({p.key: list(params[p.key]) for p in lists})
        statement = text(sql).bindparams(*lists) if lists else text(sql)
        if isinstance(self.engine, Connection):
            return [tuple(row) for row in self.engine.execute(statement, params)]
        with self.engine.connect() as db:
            return [tuple(row) for row in db.execute(statement, params)]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """One statement on the caller's connection (inside its transaction); the rows it changed."""
        from sqlalchemy import text

        sql, flat = expand_lists(sql, params or {})
        return self.engine.execute(text(sql), flat).rowcount  # type: ignore[union-attr]


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


class DriverReads:
    """A DB-API connection of `sqlite3` or `psycopg2`, autocommitting reads."""

    def __init__(self, connection: Any, *, pyformat: bool, location: str) -> None:
        self.connection = connection
        self.pyformat = pyformat  # psycopg2 wants %(name)s; sqlite3 takes :name as written
        self.location = location

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._run(sql, params, fetch=True)  # type: ignore[return-value]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self._run(sql, params, fetch=False)  # type: ignore[return-value]

    def _run(self, sql: str, params: Mapping[str, Any] | None, *, fetch: bool) -> list[tuple[Any, ...]] | int:
        sql, flat = expand_lists(sql, params or {})
        if self.pyformat:
            sql = PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, flat)
            return [tuple(row) for row in cursor.fetchall()] if fetch else cursor.rowcount
        except Exception as error:  # the driver's own error classes; the message is what helps
            verb = "Reading" if fetch else "Writing"
            raise StoreError(
                f"{verb} the store at {self.location} failed: {str(error).strip().splitlines()[0]}"
            ) from None
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def as_reads(source: Engine | Connection | Reads) -> Reads:
    """Callers hand an engine or a connection (Dagster, the sync) or an open `Reads` (the CLI's fast path)."""
    return source if hasattr(source, "rows") else EngineReads(source)  # type: ignore[return-value]


@contextmanager
def transaction(source: Engine | Connection | Writes) -> Iterator[Writes]:
    """Statements that commit together or not at all: over the driver (BEGIN … COMMIT), an engine
    (`engine.begin()`), or a connection the caller holds (its own transaction)."""
    if isinstance(source, DriverReads):
        source.execute("BEGIN IMMEDIATE" if not source.pyformat else "BEGIN")  # SQLite: the write lock now
        try:
            yield source
        except BaseException:
            source.execute("ROLLBACK")
            raise
        source.execute("COMMIT")
        return
    if hasattr(source, "rows"):  # an EngineReads: unwrap to what it holds
        source = source.engine  # type: ignore[union-attr]
    from sqlalchemy import Engine

    if isinstance(source, Engine):
        with source.begin() as db:
            yield EngineReads(db)
        return
    yield EngineReads(source)  # type: ignore[arg-type]


def open_writes(url: str | None = None) -> Writes:
    """The store for a small change (enable a connection, record a resolution): the driver when the store
    is plainly usable, else `store_engine()` (which migrates the local store or explains what is wrong)."""
    url = url or settings.database_url()
    fast = _open_driver(url, writable=True)
    if fast is not None:
        return fast
    from resolve_sync.store.database import store_engine

    return EngineReads(store_engine(url))


def open_reads(url: str | None = None) -> Reads:
    """The store for reading: the driver itself when the store is plainly usable, else `store_engine()`."""
    url = url or settings.database_url()
    fast = _open_driver(url)
    if fast is not None:
        return fast
    from resolve_sync.store.database import store_engine

    return EngineReads(store_engine(url))


def _open_driver(url: str, *, writable: bool = False) -> DriverReads | None:
    reads = open_driver(url, writable=writable)
    if reads is None:
        return None
    try:
        current = schema_revision(reads) == HEAD
    except StoreError:
        current = False  # the full path reports what is wrong with it
    if not current:
        reads.close()
        return None
    return reads


def open_driver(url: str, *, writable: bool = False) -> DriverReads | None:
    """The bare driver on an existing SQLite file or a PostgreSQL server, or None on any trouble."""
    try:
        return _sqlite(url, writable) if url.startswith("sqlite:") else _postgresql(url, writable)
    except Exception:  # noqa: BLE001 - any trouble: the SQLAlchemy path says what it is
        return None


def schema_revision(reads: Reads) -> str | None:
    """The store's recorded alembic revision; None for a database that was never migrated."""
    try:
        rows = reads.rows("SELECT version_num FROM alembic_version")
    except StoreError as error:
        text = str(error).lower()
        if "no such table" in text or "does not exist" in text:
            return None
        raise  # not a database at all, or a server error: not "behind"
    return rows[0][0] if rows else None


def _sqlite(url: str, writable: bool = False) -> DriverReads | None:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    if path == url or "?" in path or not path or path == ":memory:" or not Path(path).is_file():
        return None  # a new local store is created and migrated by the SQLAlchemy path
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    if writable:  # as the store's engine does per connection: cascades and references enforced
        connection.execute("PRAGMA foreign_keys=ON")
    return DriverReads(connection, pyformat=False, location=path)


POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg")


def _postgresql(url: str, writable: bool = False) -> DriverReads | None:
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES or not parts.path.strip("/"):
        return None
    import psycopg2

    options: dict[str, Any] = dict(parse_qsl(parts.query))
    options["dbname"] = unquote(parts.path.lstrip("/"))
    if parts.hostname:
        options["host"] = parts.hostname
    if parts.port:
        options["port"] = parts.port
    if parts.username:
        options["user"] = unquote(parts.username)
    if parts.password:
        options["password"] = unquote(parts.password)
    options.setdefault("connect_timeout", 10)
    connection = psycopg2.connect(**options)
    connection.set_session(readonly=not writable, autocommit=True)  # `transaction` says BEGIN itself
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{options['dbname']}"
    return DriverReads(connection, pyformat=True, location=where)


# -- column values as the drivers return them -----------------------------------------------------------
# SQLite hands back text for timestamps, dates and JSON, and integers for booleans; psycopg2 hands back
# naive datetimes, dates, Decimals and parsed JSON. Stored timestamps are naive UTC (models.UTCDateTime).


def stored_now() -> dt.datetime:
    """Now as the store keeps timestamps: naive UTC (models.UTCDateTime), for the statements written here."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def document(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


def money(value: Any) -> Decimal | None:
    """A NUMERIC(18, 4) column as SQLAlchemy returns it: psycopg2's Decimal as it is; SQLite's int or float
    as SQLAlchemy's Numeric turns it into one, formatted to the column's 4 places."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(f"{value:.4f}")


def boolean(value: Any) -> bool | None:
    """SQLite keeps booleans as 0 and 1."""
    return None if value is None else bool(value)
