"""One NetSuite account held in SQLite: loaded from a fixture, changed through the admin API, read by SuiteQL.

The database is a temporary file in WAL mode with one read connection per thread, so page requests run
in parallel like NetSuite's, while admin writes take a lock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from resolve_sync.sandbox import sql_functions
from resolve_sync.sandbox.fixture import (
    FIRST_YEAR,
    LAST_YEAR,
    REQUIRED_FIELDS,
    Fixture,
    FixtureError,
    to_flag,
    to_local_timestamp,
    validate_record,
)
from resolve_sync.sandbox.schema import (
    CUSTOM_FIELD_KINDS,
    CUSTOM_FIELD_VALUE_TYPES,
    SQLITE_TYPES,
    Table,
    build_tables,
)

BATCH = 5000
KNOWN_CURRENCIES = {
    "USD": "US Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound",
    "AUD": "Australian Dollar",
    "JPY": "Japanese Yen",
    "MXN": "Mexican Peso",
}


class SandboxClock:
    """The account's clock: real time plus an offset the admin API can set, in the account's zone."""

    def __init__(self, zone: Any) -> None:
        self.zone = zone
        self.offset = dt.timedelta()

    def now_local(self) -> dt.datetime:
        return (dt.datetime.now(self.zone) + self.offset).replace(tzinfo=None, microsecond=0)

    def set(self, local_now: dt.datetime) -> None:
        """Move the clock to `local_now`; ValueError (and no change) outside FIRST_YEAR..LAST_YEAR."""
        try:
            if local_now.tzinfo is not None:
                local_now = local_now.astimezone(self.zone).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"clock: {local_now.isoformat()} is out of range") from None
        self.offset = self._checked(local_now - dt.datetime.now(self.zone).replace(tzinfo=None))

    def advance(self, seconds: float) -> None:
        """Move the clock by `seconds`; ValueError (and no change) if it would leave the allowed years."""
        try:
            step = dt.timedelta(seconds=seconds)
        except OverflowError:
            raise ValueError(f"clock: cannot advance by {seconds} seconds") from None
        self.offset = self._checked(self.offset + step)

    def _checked(self, offset: dt.timedelta) -> dt.timedelta:
        # The clock is read on every request; an offset that overflows a datetime would fail them all.
        try:
            year = (dt.datetime.now(self.zone).replace(tzinfo=None) + offset).year
        except OverflowError:
            year = 0
        if not FIRST_YEAR <= year <= LAST_YEAR - 1:
            raise ValueError(
                f"the sandbox clock must stay between the years {FIRST_YEAR} and {LAST_YEAR - 1}"
            )
        return offset


class SandboxAccount:
    """The account's data and schema; every mutation keeps the derived tables consistent."""

    def __init__(self, fixture: Fixture, *, path: Path | None = None) -> None:
        self.fixture = fixture
        self.zone = fixture.zone
        self.clock = SandboxClock(self.zone)
        custom = {
            str(f["scriptid"]).lower(): CUSTOM_FIELD_KINDS.get(str(f["type"]).lower(), "text")
            for f in fixture.records["custom_fields"]
            if str(f["scriptid"]).lower().startswith("custentity") and "customer" in _applies_to(f)
        }
        self.tables: dict[str, Table] = build_tables(oneworld=fixture.oneworld, customer_custom_fields=custom)
        self._dir = tempfile.TemporaryDirectory(prefix="netsuite-sandbox-") if path is None else None
        self.path = path or Path(self._dir.name) / "account.db"  # type: ignore[union-attr]
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._currency_ids: dict[str, int] = {}
        self._connections: list[sqlite3.Connection] = []
        self._create_schema()
        self._load(fixture)

    # -- connections -------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        sql_functions.register(connection, self)
        self._connections.append(connection)
        return connection

    def size_hint(self) -> int:
        """Rows in the account's largest record table (customers or transactions): what a legitimate full
        scan may have to read. Cheap (MAX(rowid)), so it is read for every query."""
        connection = self.reader()
        sizes = [
            connection.execute(f'SELECT COALESCE(MAX(rowid), 0) FROM "{table}"').fetchone()[0]
            for table in ("customer", "transaction")
            if table in self.tables
        ]
        return max(sizes, default=0)

    def reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        if self._dir is not None:
            self._dir.cleanup()

    # -- schema and loading ------------------------------------------------------------------------------

    def _create_schema(self) -> None:
        with self._writer() as connection:
            for table in self.tables.values():
                columns = ", ".join(f'"{name}" {SQLITE_TYPES[kind]}' for name, kind in table.columns.items())
                key = (
                    ", PRIMARY KEY (id)" if "id" in table.columns and table.name != "transactionline" else ""
                )
                connection.execute(f'CREATE TABLE "{table.name}" ({columns}{key})')
                for column in table.indexes:
                    connection.execute(
                        f'CREATE INDEX "ix_{table.name}_{column}" ON "{table.name}" ("{column}")'
                    )
                if table.name == "customer":
                    connection.execute('CREATE INDEX "ix_customer_lmd_id" ON customer (lastmodifieddate, id)')
                if table.name == "transaction":
                    connection.execute(
                        'CREATE INDEX "ix_transaction_lmd_id" ON "transaction" (lastmodifieddate, id)'
                    )
            if "transactionline" in self.tables:
                connection.execute(
                    'CREATE UNIQUE INDEX "ux_transactionline" ON transactionline ("transaction", id)'
                )

    def _load(self, fixture: Fixture) -> None:
        with self._writer():
            for code in _currencies_in(fixture):
                self._currency_id(code)
        self.upsert("custom_fields", fixture.records["custom_fields"], touch=False)
        self.upsert("subsidiaries", fixture.records["subsidiaries"], touch=False)
        self.upsert("accounts", fixture.records["accounts"], touch=False)
        self.upsert("customers", fixture.records["customers"], touch=False)
        self.upsert("customer_subsidiaries", fixture.records["customer_subsidiaries"], touch=False)
        self.upsert("invoices", fixture.records["invoices"], touch=False)
        self.reader().execute("ANALYZE")  # real statistics, so SQLite plans EXISTS through the right index

    class _WriterContext:
        def __init__(self, account: SandboxAccount) -> None:
            self.account = account

        def __enter__(self) -> sqlite3.Connection:
            self.account._write_lock.acquire()
            self.connection = self.account.reader()
            self.connection.execute("BEGIN IMMEDIATE")
            return self.connection

        def __exit__(self, exc_type: Any, *_: Any) -> None:
            try:
                self.connection.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.account._write_lock.release()

    def _writer(self) -> SandboxAccount._WriterContext:
        return SandboxAccount._WriterContext(self)

    # -- mutations (fixture load and admin API) ----------------------------------------------------------

    def upsert(self, kind: str, records: Iterable[dict[str, Any]], *, touch: bool = True) -> int:
        """Insert or replace records of one fixture kind; `touch` stamps lastmodifieddate from the clock."""
        if kind not in REQUIRED_FIELDS:
            raise FixtureError(f"Unknown record kind {kind!r}; use one of {', '.join(REQUIRED_FIELDS)}.")
        count = 0
        iterator = iter(records)
        while batch := list(itertools.islice(iterator, BATCH)):
            for index, record in enumerate(batch):
                validate_record(kind, record, where=f"{kind}[{count + index}]")
            with self._writer() as connection:
                getattr(self, f"_upsert_{kind}")(connection, batch, touch)
            count += len(batch)
        return count

    def delete(self, kind: str, record_id: int) -> bool:
        """Delete a customer or invoice the way NetSuite does: gone from its table, listed in deletedrecord."""
        table, record_type = {
            "customers": ("customer", "customer"),
            "invoices": ("transaction", "invoice"),
        }.get(kind, (None, None))
        if table is None:
            raise FixtureError(f"Only customers and invoices can be deleted, not {kind!r}.")
        with self._writer() as connection:
            row = connection.execute(f'SELECT id FROM "{table}" WHERE id = ?', (record_id,)).fetchone()
            if row is None:
                return False
            connection.execute(f'DELETE FROM "{table}" WHERE id = ?', (record_id,))
            if table == "transaction" and "transactionline" in self.tables:
                connection.execute('DELETE FROM transactionline WHERE "transaction" = ?', (record_id,))
            if table == "customer" and "customersubsidiaryrelationship" in self.tables:
                connection.execute(
                    "DELETE FROM customersubsidiaryrelationship WHERE entity = ?", (record_id,)
                )
            connection.execute(
                "INSERT INTO deletedrecord (recordid, recordtypeid, type, name, deleteddate, context, "
                "iscustomlist, iscustomrecord) VALUES (?, ?, ?, ?, ?, 'WEBSERVICES', 'F', 'F')",
                (record_id, record_type, record_type, str(record_id), self._now()),
            )
        return True

    def _now(self) -> str:
        return self.clock.now_local().strftime("%Y-%m-%d %H:%M:%S")

    def _timestamp(self, record: dict[str, Any], key: str, where: str, *, touch: bool) -> str | None:
        if touch and key == "lastmodifieddate" and not record.get(key):
            return self._now()
        value = to_local_timestamp(record.get(key), self.zone, where=f"{where}.{key}")
        if value is None and key in ("lastmodifieddate", "datecreated", "createddate"):
            return self._now()
        return value

    def _currency_id(self, code: Any) -> int | None:
        if code in (None, ""):
            return None
        if isinstance(code, int) or (str(code).isascii() and str(code).isdigit()):
            return int(code)
        symbol = str(code).upper()
        if symbol not in self._currency_ids:
            currency_id = len(self._currency_ids) + 1
            self._currency_ids[symbol] = currency_id
            # Always called inside a writer transaction on this thread's connection.
            self.reader().execute(
                "INSERT OR REPLACE INTO currency (id, name, symbol, isbasecurrency, isinactive) VALUES (?, ?, ?, ?, 'F')",
                (currency_id, KNOWN_CURRENCIES.get(symbol, symbol), symbol, "T" if currency_id == 1 else "F"),
            )
        return self._currency_ids[symbol]

    def _replace(self, connection: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(self.tables[table].columns)
        placeholders = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        connection.executemany(
            f'INSERT OR REPLACE INTO "{table}" ({names}) VALUES ({placeholders})',
            [tuple(row.get(c) for c in columns) for row in rows],
        )

    def _upsert_custom_fields(self, connection: sqlite3.Connection, batch: list[dict], touch: bool) -> None:
        rows = []
        existing = connection.execute("SELECT COALESCE(MAX(id), 0) FROM customfield").fetchone()[0]
        for offset, record in enumerate(batch, start=1):
            applies = _applies_to(record)
            kind = str(record["type"]).lower()
            scriptid = str(record["scriptid"])
            rows.append(
                {
                    "id": record.get("id") or existing + offset,
                    # [U] SuiteQL shows script ids upper-case in customfield; compare case-insensitively.
                    "scriptid": scriptid.upper(),
                    "name": record.get("label") or scriptid,
                    "fieldtype": "ENTITY" if scriptid.lower().startswith("custentity") else "BODY",
                    "fieldvaluetype": CUSTOM_FIELD_VALUE_TYPES.get(kind, kind.title()),
                    "appliestocustomer": to_flag("customer" in applies),
                    "appliestovendor": to_flag("vendor" in applies),
                    "appliestocontact": to_flag("contact" in applies),
                    "isinactive": to_flag(record.get("isinactive", False)),
                }
            )
        connection.execute(
            f"DELETE FROM customfield WHERE scriptid IN ({','.join('?' for _ in rows)})",
            [r["scriptid"] for r in rows],
        )
        self._replace(connection, "customfield", rows)

    def _upsert_subsidiaries(self, connection: sqlite3.Connection, batch: list[dict], touch: bool) -> None:
        if not self.fixture.oneworld:
            raise FixtureError('This account has no subsidiaries ("oneworld": false).')
        self._replace(
            connection,
            "subsidiary",
            [
                {
                    "id": int(r["id"]),
                    "name": r["name"],
                    "fullname": r.get("fullname") or r["name"],
                    "legalname": r.get("legalname") or r["name"],
                    "parent": _int_or_none(r.get("parent")),
                    "isinactive": to_flag(r.get("isinactive", False)),
                    "iselimination": to_flag(r.get("iselimination", False)),
                    "currency": self._currency_id(r.get("currency", "USD")),
                }
                for r in batch
            ],
        )

    def _upsert_accounts(self, connection: sqlite3.Connection, batch: list[dict], touch: bool) -> None:
        rows = []
        for r in batch:
            subsidiaries = [int(s) for s in r.get("subsidiaries", [])]
            name = r.get("accountsearchdisplayname") or r.get("fullname") or str(r["acctnumber"])
            row = {
                "id": int(r["id"]),
                "acctnumber": str(r["acctnumber"]),
                "accountsearchdisplayname": name,
                "fullname": r.get("fullname") or name,
                "accttype": r["accttype"],
                "description": r.get("description"),
                "isinactive": to_flag(r.get("isinactive", False)),
                "parent": _int_or_none(r.get("parent")),
                "currency": self._currency_id(r.get("currency")),
            }
            if self.fixture.oneworld:
                row["subsidiary"] = ", ".join(str(s) for s in subsidiaries) or None
                connection.execute("DELETE FROM accountsubsidiarymap WHERE account = ?", (row["id"],))
                connection.executemany(
                    "INSERT INTO accountsubsidiarymap (account, subsidiary) VALUES (?, ?)",
                    [(row["id"], s) for s in subsidiaries],
                )
            rows.append(row)
        self._replace(connection, "account", rows)

    def _upsert_customers(self, connection: sqlite3.Connection, batch: list[dict], touch: bool) -> None:
        custom_columns = [c for c in self.tables["customer"].columns if c.startswith("custentity")]
        rows = []
        for r in batch:
            where = f"customers[id={r['id']}]"
            custom = {str(k).lower(): v for k, v in (r.get("custom") or {}).items()}
            row = {
                "id": int(r["id"]),
                "entityid": str(r["entityid"]),
                "companyname": r.get("companyname"),
                "altname": r.get("altname") or r.get("companyname"),
                "email": r.get("email"),
                "phone": r.get("phone"),
                "isperson": to_flag(r.get("isperson", False)),
                "isinactive": to_flag(r.get("isinactive", False)),
                "parent": _int_or_none(r.get("parent")),
                "terms": _int_or_none(r.get("terms")),
                "currency": self._currency_id(r.get("currency")),
                "datecreated": self._timestamp(r, "datecreated", where, touch=False),
                "lastmodifieddate": self._timestamp(r, "lastmodifieddate", where, touch=touch),
            }
            for column in custom_columns:
                kind = self.tables["customer"].columns[column]
                value = custom.get(column)
                if kind == "bool":
                    value = to_flag(value) if value is not None else "F"
                elif kind in ("date", "datetime"):
                    value = to_local_timestamp(value, self.zone, where=f"{where}.custom.{column}")
                row[column] = value
            if self.fixture.oneworld:
                row["subsidiary"] = _int_or_none(r.get("subsidiary"))
                if row["subsidiary"] is not None:
                    # NetSuite always has a relationship row for the primary subsidiary.
                    connection.execute(
                        "DELETE FROM customersubsidiaryrelationship WHERE entity = ? AND isprimarysub = 'T'",
                        (row["id"],),
                    )
                    connection.execute(
                        "INSERT INTO customersubsidiaryrelationship (id, entity, subsidiary, isprimarysub) "
                        "VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM customersubsidiaryrelationship), ?, ?, 'T')",
                        (row["id"], row["subsidiary"]),
                    )
            rows.append(row)
        self._replace(connection, "customer", rows)

    def _upsert_customer_subsidiaries(
        self, connection: sqlite3.Connection, batch: list[dict], touch: bool
    ) -> None:
        if not self.fixture.oneworld:
            raise FixtureError('This account has no subsidiaries ("oneworld": false).')
        for r in batch:
            entity, subsidiary = int(r["entity"]), int(r["subsidiary"])
            primary = to_flag(r.get("isprimarysub", False))
            existing = connection.execute(
                "SELECT id FROM customersubsidiaryrelationship WHERE entity = ? AND subsidiary = ?",
                (entity, subsidiary),
            ).fetchone()
            if existing:
                connection.execute(
                    "UPDATE customersubsidiaryrelationship SET isprimarysub = ? WHERE id = ?",
                    (primary, existing[0]),
                )
            else:
                connection.execute(
                    "INSERT INTO customersubsidiaryrelationship (id, entity, subsidiary, isprimarysub) "
                    "VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM customersubsidiaryrelationship), ?, ?, ?)",
                    (entity, subsidiary, primary),
                )

    def _upsert_invoices(self, connection: sqlite3.Connection, batch: list[dict], touch: bool) -> None:
        transactions, lines = [], []
        for r in batch:
            where = f"invoices[id={r['id']}]"
            total = _number(r["foreigntotal"], f"{where}.foreigntotal")
            unpaid = _number(r.get("foreignamountunpaid", total), f"{where}.foreignamountunpaid")
            transaction_id = int(r["id"])
            transactions.append(
                {
                    "id": transaction_id,
                    "tranid": str(r["tranid"]),
                    "type": "CustInvc",
                    "trandate": to_local_timestamp(r["trandate"], self.zone, where=f"{where}.trandate"),
                    "duedate": to_local_timestamp(r.get("duedate"), self.zone, where=f"{where}.duedate"),
                    "entity": int(r["entity"]),
                    "status": str(r.get("status", "A")),
                    "currency": self._currency_id(r.get("currency", "USD")),
                    "exchangerate": _number(r.get("exchangerate", 1), f"{where}.exchangerate"),
                    "foreigntotal": total,
                    "foreignamountunpaid": unpaid,
                    "foreignamountpaid": None
                    if total is None or unpaid is None
                    else round(total - unpaid, 2),
                    "memo": r.get("memo"),
                    "terms": _int_or_none(r.get("terms")),
                    "createddate": self._timestamp(r, "createddate", where, touch=False),
                    "lastmodifieddate": self._timestamp(r, "lastmodifieddate", where, touch=touch),
                }
            )
            line = {
                "id": 0,
                "uniquekey": transaction_id * 1000,
                "transaction": transaction_id,
                "mainline": "T",
                "linesequencenumber": 0,
                "entity": int(r["entity"]),
                "foreignamount": total,
                "memo": r.get("memo"),
            }
            if self.fixture.oneworld:
                line["subsidiary"] = _int_or_none(r.get("subsidiary"))
            lines.append(line)
        self._replace(connection, "transaction", transactions)
        self._replace(connection, "transactionline", lines)

    # -- reads -------------------------------------------------------------------------------------------

    def execute(
        self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
    ) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """Run one statement on this thread's connection; `params` positional or named (a mapping)."""
        cursor = self.reader().execute(sql, params if isinstance(params, Mapping) else tuple(params))
        return [d[0].lower() for d in cursor.description], cursor

    def count(self, table: str) -> int:
        return self.reader().execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def _applies_to(record: dict[str, Any]) -> list[str]:
    return [str(a).lower() for a in record.get("applies_to", ["customer"])]


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _number(value: Any, where: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FixtureError(f"{where}: {value!r} is not a number.") from None


def _currencies_in(fixture: Fixture) -> list[str]:
    seen: dict[str, None] = {"USD": None}
    for kind in ("subsidiaries", "invoices", "customers", "accounts"):
        for record in fixture.records[kind][:1000]:
            code = record.get("currency")
            if code and not str(code).isdigit():
                seen[str(code).upper()] = None
    return list(seen)
