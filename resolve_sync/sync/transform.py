"""Pure rules from NetSuite's wire values to Resolve's fields: no I/O, no Dagster.

Each rule of SPEC §3 that decides a value lives in one function named for it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_NAME_LENGTH = 400
MAX_EMAIL_LENGTH = 320
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FULLY_PAID, VOIDED = "B", "V"
CUSTOMER_FIELDS = ("business_name", "email", "business_phone", "archived")
INVOICE_FIELDS = (
    "customer_id",
    "number",
    "amount_due",
    "amount_balance",
    "amount_paid",
    "invoiced_at",
    "due_at",
    "currency",
    "fully_paid",
    "voided",
    "notes",
)


class InvalidRecord(ValueError):
    """NetSuite data Resolve cannot take; the message says what to fix in NetSuite."""


def flag(value: Any) -> bool:
    return str(value).upper() == "T"


def clean_text(value: Any) -> str | None:
    """Strip control characters and surrounding space; NFC-normalise so equal names compare equal."""
    if value is None:
        return None
    text = CONTROL_CHARS_RE.sub("", unicodedata.normalize("NFC", str(value))).strip()
    return text or None


def money(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidRecord(f"{what} {value!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidRecord(f"{what} {value!r} is not a number")
    return amount.quantize(Decimal("0.0001"))


def iso_date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidRecord(f"{what} {value!r} is not a date") from None


# -- customers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFacts:
    """What the rules need about one NetSuite customer."""

    netsuite_id: str
    parent_id: str | None
    inactive: bool
    in_scope: bool
    filter_checked: bool | None  # None when the connection has no filter field


def is_in_filter(customer: CustomerFacts) -> bool:
    """R9: with a filter field, only customers whose box is checked; without one, all."""
    return customer.filter_checked is None or customer.filter_checked


def is_synced(customer: CustomerFacts) -> bool:
    """R1 + R9: in the subsidiary's scope and passing the filter."""
    return customer.in_scope and is_in_filter(customer)


@dataclass(frozen=True)
class Ancestry:
    top_level_id: str | None
    reason: str | None = None  # why there is no usable top-level ancestor


def top_level_ancestors(parents: Mapping[str, str | None]) -> dict[str, Ancestry]:
    """R5: each customer's top-level ancestor at any depth. A cycle, or a parent NetSuite did not return,
    yields no ancestor and a reason, so nothing is attached to the wrong customer."""
    resolved: dict[str, Ancestry] = {}
    for start in parents:
        path: list[str] = []
        seen: set[str] = set()
        node: str | None = start
        result: Ancestry
        while True:
            if node in resolved:
                result = resolved[node]
                break
            if node in seen:
                result = Ancestry(
                    None, f"the parent chain of customer {start} has a cycle ({' → '.join(path)})"
                )
                break
            if node not in parents:
                result = Ancestry(
                    None, f"parent customer {node} of customer {start} was not found in NetSuite"
                )
                break
            seen.add(node)
            path.append(node)
            parent = parents[node]
            if parent is None:
                result = Ancestry(node)
                break
            node = parent
        for member in path:
            resolved.setdefault(member, result)
    return resolved


def archive_reason(customer: CustomerFacts) -> str | None:
    """R5 + R6: sub-customers are archived at once; inactive customers are archived; others are not."""
    if customer.parent_id is not None:
        return f"sub-customer of NetSuite customer {customer.parent_id}"
    if customer.inactive:
        return "inactive in NetSuite"
    return None


def resolve_customer_fields(row: Mapping[str, Any], facts: CustomerFacts) -> dict[str, Any]:
    """Resolve `Customer` fields from a staged NetSuite customer; raises InvalidRecord for bad data."""
    name = clean_text(row.get("companyname"))
    if name is None:
        raise InvalidRecord("company name is blank; fill in Company Name on the NetSuite customer")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRecord(
            f"company name is {len(name)} characters long; Resolve accepts at most {MAX_NAME_LENGTH}"
        )
    email = clean_text(row.get("email"))
    if email is None:
        raise InvalidRecord(
            "email is missing; Resolve needs a billing email: set Email on the NetSuite customer"
        )
    email = email.lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_RE.fullmatch(email):
        raise InvalidRecord(
            f"email {email[:80]!r} is not a valid address; correct Email on the NetSuite customer"
        )
    return {
        "business_name": name,
        "email": email,
        "business_phone": (clean_text(row.get("phone")) or None),
        "archived": archive_reason(facts) is not None,
    }


# -- invoices -------------------------------------------------------------------------------------------


def resolve_invoice_fields(row: Mapping[str, Any], customer_id: str) -> dict[str, Any]:
    """Resolve `Invoice` fields from a staged NetSuite invoice; raises InvalidRecord for bad data."""
    number = clean_text(row.get("tranid"))
    if number is None:
        raise InvalidRecord("invoice number (tranid) is blank")
    total = money(row.get("foreigntotal"), "total")
    unpaid = money(
        row.get("foreignamountunpaid") if row.get("foreignamountunpaid") is not None else 0, "amount unpaid"
    )
    if total <= 0:
        raise InvalidRecord(f"total {total} is not positive; Resolve invoices need an amount above zero")
    if unpaid < 0 or unpaid > total:
        raise InvalidRecord(f"amount unpaid {unpaid} is outside 0..{total} (the total)")
    invoiced_at = iso_date(row.get("trandate"), "invoice date")
    if invoiced_at is None:
        raise InvalidRecord("invoice date (trandate) is missing")
    due_at = iso_date(row.get("duedate"), "due date")
    if due_at is not None and due_at < invoiced_at:
        raise InvalidRecord(f"due date {due_at} is before the invoice date {invoiced_at}")
    currency = (row.get("currency") or "").upper()
    if not CURRENCY_RE.fullmatch(currency):
        raise InvalidRecord(f"currency {row.get('currency')!r} is not an ISO 4217 code")
    status = str(row.get("status") or "")
    return {
        "customer_id": customer_id,
        "number": number[:100],
        "amount_due": total,
        "amount_balance": unpaid,
        "amount_paid": total - unpaid,
        "invoiced_at": invoiced_at,
        "due_at": due_at,
        "currency": currency,
        "fully_paid": status == FULLY_PAID or unpaid == 0,
        "voided": status == VOIDED,
        "notes": clean_text(row.get("memo")),
    }


# -- comparing with what was synced ----------------------------------------------------------------------


def comparable(value: Any) -> Any:
    """The JSON form kept as a link's last-synced value, so stored and fresh values compare equal."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class FieldDiff:
    """R7: the fields NetSuite changed since the last sync, and the values to remember now."""

    changed: dict[str, Any] = field(default_factory=dict)
    synced_values: dict[str, Any] = field(default_factory=dict)


def netsuite_changes(fresh: Mapping[str, Any], last_synced: Mapping[str, Any] | None) -> FieldDiff:
    """Only fields whose NetSuite value differs from the value last synced are written; an edit made in
    Resolve to any other field stands (R7)."""
    diff = FieldDiff(synced_values={k: comparable(v) for k, v in fresh.items()})
    for name, value in fresh.items():
        if last_synced is None or last_synced.get(name, _MISSING) != comparable(value):
            diff.changed[name] = value
    return diff


_MISSING = object()
