"""Value rules: what one NetSuite record becomes in Resolve, or why it cannot be stored (SPEC §4 guard).

Written from SPEC.md and README "How the sync decides"; nothing here is imported from resolve_sync.sync.
Each function returns the Resolve values, or raises `Invalid` with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_NAME = 400  # resolve_customers.business_name is String(400)
MAX_EMAIL = 320  # resolve_customers.email is String(320)
MAX_NUMBER = 100  # resolve_invoices.number is String(100)
MONEY_LIMIT = Decimal(10) ** 14  # Numeric(18, 4): at most 14 digits before the point
ISO_4217 = frozenset(
    [
        "USD",
        "CAD",
        "EUR",
        "GBP",
        "AUD",
        "JPY",
        "MXN",
        "CHF",
        "CNY",
        "SEK",
        "NOK",
        "DKK",
        "NZD",
        "SGD",
        "HKD",
        "INR",
        "BRL",
        "ZAR",
        "PLN",
        "CZK",
    ]
)  # the codes the machine generates live here; "ZZZ", "XXQ" are not ISO 4217 currencies
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bidirectional overrides/embeddings/isolates: a name carrying them reads differently than it sorts/compares,
# so Resolve must not take it (known defect b: today they are kept).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Invalid(ValueError):
    """The record gets an `invalid` outcome with this reason; the rest of the run proceeds."""


def clean_text(value: Any) -> str | None:
    """README: control characters are removed from text; surrounding space trimmed; blank is None."""
    if value is None:
        return None
    text = _CONTROL.sub("", unicodedata.normalize("NFC", str(value))).strip()
    return text or None


def customer_values(name: Any, email: Any, phone: Any, archived: bool) -> dict[str, Any]:
    """README "Bad data": a customer needs a company name and a valid email. SPEC §4: nothing truncated."""
    business_name = clean_text(name)
    if business_name is None:
        raise Invalid("company name is blank")
    if len(business_name) > MAX_NAME:
        raise Invalid(f"company name longer than {MAX_NAME}")
    if _BIDI.search(business_name):
        raise Invalid("company name contains bidirectional control characters")
    address = clean_text(email)
    if address is None:
        raise Invalid("email is missing")
    address = address.lower()
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise Invalid("email is not a valid address")
    return {
        "business_name": business_name,
        "email": address,
        "business_phone": clean_text(phone),
        "archived": archived,
    }


def money(value: Any, what: str) -> Decimal:
    """SPEC §4: an amount that cannot be stored exactly in Numeric(18, 4) is invalid, never a failed run."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(f"{what} is not a number") from None
    if not amount.is_finite():
        raise Invalid(f"{what} is not a number")
    if abs(amount) >= MONEY_LIMIT:
        raise Invalid(f"{what} is too large")
    return amount.quantize(Decimal("0.0001"))


def invoice_values(
    *,
    tranid: Any,
    total: Any,
    unpaid: Any,
    trandate: dt.date | None,
    duedate: dt.date | None,
    status: str,
    currency: str | None,
    memo: Any,
    owner: str,
) -> dict[str, Any]:
    """README "Bad data": non-positive total, unpaid outside 0..total, due before invoice date, missing date,
    non-ISO currency are invalid. SPEC §4: a number too long for the column is invalid, not cut."""
    number = clean_text(tranid)
    if number is None:
        raise Invalid("invoice number is blank")
    if len(number) > MAX_NUMBER:
        raise Invalid(f"invoice number longer than {MAX_NUMBER}")
    amount_due = money(total, "total")
    balance = money(unpaid if unpaid is not None else 0, "amount unpaid")
    if amount_due <= 0:
        raise Invalid("total is not positive")
    if balance < 0 or balance > amount_due:
        raise Invalid("amount unpaid outside 0..total")
    if trandate is None:
        raise Invalid("invoice date missing")
    if duedate is not None and duedate < trandate:
        raise Invalid("due date before invoice date")
    code = (currency or "").upper()
    if code not in ISO_4217:
        raise Invalid(f"currency {currency!r} is not ISO 4217")
    return {
        "customer": owner,  # the NetSuite id of the Resolve customer the invoice belongs to (R5)
        "number": number,
        "amount_due": amount_due,
        "amount_balance": balance,
        "amount_paid": amount_due - balance,
        "invoiced_at": trandate,
        "due_at": duedate,
        "currency": code,
        "fully_paid": status == "B" or balance == 0,
        "voided": status == "V",
        "notes": clean_text(memo),
    }


# -- R12 normalisation ---------------------------------------------------------------------------------------

LEGAL_SUFFIXES = frozenset({"inc", "llc", "ltd", "co", "corp", "gmbh", "limited", "corporation"})


def normalised_name(name: Any) -> str | None:
    """R12 "same normalised business name": case, accents, punctuation, spacing and a trailing legal suffix
    do not make two businesses different ('ACME, Inc.' ~ 'Acme')."""
    if not name:
        return None
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode() or str(name)
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    if len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words = words[:-1]
    return " ".join(words) or None


def normalised_email(email: Any) -> str | None:
    return str(email).strip().lower() or None if email else None
