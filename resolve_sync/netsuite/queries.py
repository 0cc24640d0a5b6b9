"""SuiteQL builders for the sync. Parameters are validated before they are interpolated: ids must be
integers, field ids must match SPEC R11's pattern, dates are `datetime.date` objects."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import replace

from resolve_sync.errors import ConfigurationError
from resolve_sync.netsuite.scan import ScanQuery
from resolve_sync.netsuite.timestamps import SUITEQL_FORMAT, to_date_literal, to_timestamp_literal

FIELD_ID_RE = re.compile(r"^custentity[a-z0-9_]{1,90}$")


class InvalidQueryParameter(ConfigurationError, ValueError):
    """A value that must not go near a query; nothing was sent."""


def checked_field_id(field_id: str) -> str:
    if not isinstance(field_id, str) or not FIELD_ID_RE.fullmatch(field_id):
        raise InvalidQueryParameter(
            f"Filter field id {field_id!r} is invalid: it must be a customer custom field id like "
            "'custentity_sync_to_resolve' (lower-case letters, digits and '_', starting with 'custentity')."
        )
    return field_id


def checked_id(value: object, what: str = "id") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InvalidQueryParameter(
            f"{what} {value!r} is not a NetSuite internal id (a non-negative integer)."
        )
    return int(value)


def ids_list(values: Iterable[object]) -> str:
    ids = sorted({checked_id(v) for v in values})
    if not ids:
        raise InvalidQueryParameter("an empty id list")
    return ", ".join(str(i) for i in ids)


ACTIVE_SUBSIDIARIES = (
    "SELECT id, name, parent FROM subsidiary WHERE isinactive = 'F' AND iselimination = 'F' ORDER BY id"
)

CUSTOMER_COLUMNS = (
    "c.id, c.entityid, c.companyname, c.email, c.phone, c.isinactive, c.parent, "
    f"TO_CHAR(c.lastmodifieddate, '{SUITEQL_FORMAT}') AS lastmodified"
)


def customer_scan(*, subsidiary_id: int | None, filter_field_id: str | None) -> ScanQuery:
    """Customers of one subsidiary, primary or secondary (R1), with the filter box's value (R9).

    The box is read, not filtered on, so the sync can tell "left the filter" from "never in it".
    """
    select = CUSTOMER_COLUMNS
    if filter_field_id:
        select += f", c.{checked_field_id(filter_field_id)} AS filter_value"
    where = ""
    if subsidiary_id is not None:
        where = (
            "EXISTS (SELECT 1 FROM customersubsidiaryrelationship r WHERE r.entity = c.id "
            f"AND r.subsidiary = {checked_id(subsidiary_id, 'subsidiary id')})"
        )
    return ScanQuery(
        select=select, from_="customer c", key="c.id", where=where, modified="c.lastmodifieddate"
    )


def customer_changes(*, subsidiary_id: int | None, filter_field_id: str | None) -> ScanQuery:
    """For incremental reads: every customer, with whether it belongs to the subsidiary now (`in_subsidiary`).

    Filtering on the subsidiary, as a full scan does, would hide a customer that just left it: its change
    would never be read, and the sync would go on treating it as in scope (R1)."""
    scan = customer_scan(subsidiary_id=None, filter_field_id=filter_field_id)
    if subsidiary_id is None:
        return replace(scan, select=scan.select + ", 'T' AS in_subsidiary")
    membership = (
        "CASE WHEN EXISTS (SELECT 1 FROM customersubsidiaryrelationship r WHERE r.entity = c.id "
        f"AND r.subsidiary = {checked_id(subsidiary_id, 'subsidiary id')}) THEN 'T' ELSE 'F' END AS in_subsidiary"
    )
    return replace(scan, select=f"{scan.select}, {membership}")


DELETED_TYPES = ("customer", "invoice")


def deleted_records(record_type: str, since_local: str) -> str:
    """Ids of records of one type deleted since an account-local time (SuiteQL's `DeletedRecord` table).

    [U] The reference is not sure of the `type` values; 'customer' and 'invoice' are what third-party
    queries show and what the sandbox records. A role without the "Deleted Records" permission gets an
    error here; the sync then leaves deletions to the next full read."""
    if record_type not in DELETED_TYPES:
        raise InvalidQueryParameter(f"deleted record type {record_type!r} is not one of {DELETED_TYPES}")
    return (
        f"SELECT recordid FROM deletedrecord WHERE type = '{record_type}' "
        f"AND deleteddate >= {to_timestamp_literal(since_local)} ORDER BY recordid"
    )


def customers_by_id(ids: Iterable[object], *, filter_field_id: str | None) -> str:
    """Given customers (e.g. parents outside the subsidiary, for R5's ancestor walk); at most 1000 ids."""
    select = CUSTOMER_COLUMNS + (
        f", c.{checked_field_id(filter_field_id)} AS filter_value" if filter_field_id else ""
    )
    return f"SELECT {select} FROM customer c WHERE c.id IN ({ids_list(ids)}) ORDER BY c.id"


def invoice_scan(*, subsidiary_id: int | None, since: dt.date) -> ScanQuery:
    """Invoices (main line) of one subsidiary dated on or after `since` (R1)."""
    if not isinstance(since, dt.date):
        raise InvalidQueryParameter(f"invoice window start {since!r} is not a date")
    select = (
        "t.id, t.tranid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, "
        "t.entity, t.status, cur.symbol AS currency, t.foreigntotal, t.foreignamountunpaid, t.memo, "
        f"TO_CHAR(t.lastmodifieddate, '{SUITEQL_FORMAT}') AS lastmodified"
    )
    from_ = (
        "transaction t JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T' "
        "LEFT JOIN currency cur ON cur.id = t.currency"
    )
    where = f"t.type = 'CustInvc' AND t.trandate >= {to_date_literal(since)}"
    if subsidiary_id is not None:
        where += f" AND tl.subsidiary = {checked_id(subsidiary_id, 'subsidiary id')}"
    return ScanQuery(select=select, from_=from_, key="t.id", where=where, modified="t.lastmodifieddate")


def chart_of_accounts(subsidiary_id: int | None) -> str:
    """Active accounts usable by one subsidiary (R4); account.subsidiary is multi-valued, so join the map."""
    columns = "a.id, a.acctnumber, a.accountsearchdisplayname, a.accttype"
    if subsidiary_id is None:
        return f"SELECT {columns} FROM account a WHERE a.isinactive = 'F' ORDER BY a.acctnumber, a.id"
    return (
        f"SELECT {columns} FROM account a JOIN accountsubsidiarymap m ON m.account = a.id "
        f"WHERE m.subsidiary = {checked_id(subsidiary_id, 'subsidiary id')} AND a.isinactive = 'F' "
        "ORDER BY a.acctnumber, a.id"
    )


def custom_field_lookup(field_id: str) -> str:
    return (
        "SELECT scriptid, fieldvaluetype, appliestocustomer FROM customfield "
        f"WHERE LOWER(scriptid) = '{checked_field_id(field_id)}'"
    )


def field_probe(field_id: str) -> str:
    return f"SELECT id, {checked_field_id(field_id)} FROM customer WHERE ROWNUM <= 1"
