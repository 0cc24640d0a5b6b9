"""Pure rules from NetSuite's wire values to Resolve's fields (SPEC §4's per-record guard): no I/O, no Dagster.

A value that cannot be stored exactly raises `InvalidRecord` with what to fix in NetSuite; the plan turns it
into an `invalid` outcome and the rest of the run proceeds.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from resolve_sync.errors import DataError
from resolve_sync.sync.hierarchy import archive_reason
from resolve_sync.sync.records import CustomerFacts

# Column sizes of resolve_customers / resolve_invoices: a longer value is invalid, never cut.
MAX_NAME_LENGTH = 400
MAX_EMAIL_LENGTH = 320
MAX_PHONE_LENGTH = 64
MAX_NUMBER_LENGTH = 100
MAX_NOTES_LENGTH = 20_000
# Money is NUMERIC(18, 4): at most 14 digits before the point and 4 after.
MONEY_PLACES = Decimal("0.0001")
MONEY_LIMIT = Decimal(10) ** 14
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Invisible direction controls (LRM/RLM, embeddings, overrides, isolates, ALM) make a name display as
# something other than its characters ("Acme\u202e cnI" shows as "Acme Inc"). Removing them would change the
# name silently, keeping them would let it deceive: such a record is invalid until fixed in NetSuite.
BIDI_CONTROLS_RE = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
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


_MONEY_CONTEXT = Context(prec=40)


class InvalidRecord(DataError, ValueError):
    """NetSuite data Resolve cannot take; the message says what to fix in NetSuite."""


def flag(value: Any) -> bool:
    return str(value).upper() == "T"


def clean_text(value: Any) -> str | None:
    """Strip control characters and surrounding space; NFC-normalise so equal names compare equal."""
    if value is None:
        return None
    if type(value) is str and value.isascii() and value.isprintable():
        # Printable ASCII: NFC leaves it as it is and it holds no control character (most values).
        return value.strip() or None
    text = CONTROL_CHARS_RE.sub("", unicodedata.normalize("NFC", str(value))).strip()
    return text or None


def bounded_text(value: Any, limit: int, what: str) -> str | None:
    """Cleaned text that fits Resolve's column, or InvalidRecord: nothing is silently cut."""
    text = clean_text(value)
    if text is not None and not text.isascii() and (control := BIDI_CONTROLS_RE.search(text)):
        raise InvalidRecord(
            f"{what} contains the invisible text-direction character U+{ord(control.group()):04X}, which makes "
            "it display as something else; remove it in NetSuite"
        )
    if text is not None and len(text) > limit:
        raise InvalidRecord(f"{what} is {len(text)} characters long; Resolve accepts at most {limit}")
    return text


def money(value: Any, what: str) -> Decimal:
    """An amount Resolve can store exactly (NUMERIC(18, 4)), or InvalidRecord saying why not."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidRecord(f"{what} {_shown(value)} is not a number") from None
    if not amount.is_finite():
        raise InvalidRecord(f"{what} {_shown(value)} is not a number")
    if abs(amount) >= MONEY_LIMIT:
        raise InvalidRecord(f"{what} {_shown(value)} is too large; Resolve stores amounts below 10^14")
    exact = amount.quantize(MONEY_PLACES, context=_MONEY_CONTEXT)
    if amount != exact:
        raise InvalidRecord(
            f"{what} {_shown(value)} has more than 4 decimal places; Resolve would have to round it"
        )
    return exact


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…'"


def iso_currency(value: Any) -> str:
    """R §4: a currency must be an ISO 4217 code (pycountry's maintained list), upper-cased."""
    code = str(value or "").strip().upper()
    if len(code) != 3 or not _is_iso_currency(code):
        raise InvalidRecord(f"currency {_shown(value)} is not an ISO 4217 code")
    return code


def iso_date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidRecord(f"{what} {value!r} is not a date") from None


@functools.lru_cache(maxsize=1024)
def _is_iso_currency(code: str) -> bool:
    """pycountry's lookup, once per code (a run sees a handful of currencies on many invoices). Imported
    here: `resolve-sync explain` and `duplicates list` use these rules and mostly never check a currency."""
    import pycountry

    return pycountry.currencies.get(alpha_3=code) is not None


# -- customers ------------------------------------------------------------------------------------------


def resolve_customer_fields(row: Mapping[str, Any], facts: CustomerFacts) -> dict[str, Any]:
    """Resolve `Customer` fields from a staged NetSuite customer; raises InvalidRecord for bad data."""
    name = bounded_text(row.get("companyname"), MAX_NAME_LENGTH, "company name")
    if name is None:
        raise InvalidRecord("company name is blank; fill in Company Name on the NetSuite customer")
    email = bounded_text(row.get("email"), MAX_EMAIL_LENGTH, "email")
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
        "business_phone": bounded_text(row.get("phone"), MAX_PHONE_LENGTH, "phone"),
        "archived": archive_reason(facts) is not None,
    }


# -- invoices -------------------------------------------------------------------------------------------


def resolve_invoice_fields(row: Mapping[str, Any], customer_id: str) -> dict[str, Any]:
    """Resolve `Invoice` fields from a staged NetSuite invoice; raises InvalidRecord for bad data."""
    number = bounded_text(row.get("tranid"), MAX_NUMBER_LENGTH, "invoice number (tranid)")
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
    currency = iso_currency(row.get("currency"))
    status = str(row.get("status") or "")
    return {
        "customer_id": customer_id,
        "number": number,
        "amount_due": total,
        "amount_balance": unpaid,
        "amount_paid": total - unpaid,
        "invoiced_at": invoiced_at,
        "due_at": due_at,
        "currency": currency,
        "fully_paid": status == FULLY_PAID or unpaid == 0,
        "voided": status == VOIDED,
        "notes": bounded_text(row.get("memo"), MAX_NOTES_LENGTH, "memo"),
    }


# -- comparing with what was synced ----------------------------------------------------------------------


def comparable(value: Any) -> Any:
    """The JSON form kept as a link's last-synced value, so stored and fresh values compare equal."""
    if value is None or type(value) in _AS_IS:
        return value
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
    # Most values are text, kept as they are: tested inline, without a call per value.
    synced = {k: v if v is None or type(v) in _AS_IS else comparable(v) for k, v in fresh.items()}
    if last_synced is None:
        return FieldDiff(dict(fresh), synced)
    changed = {k: v for k, v in fresh.items() if last_synced.get(k, _MISSING) != synced[k]}
    return FieldDiff(changed, synced)


_MISSING = object()
_AS_IS = frozenset({str, bool, int})  # types whose JSON form is the value itself
