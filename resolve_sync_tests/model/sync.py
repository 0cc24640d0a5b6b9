"""A reference model of SPEC §3 (R1–R12) and README "How the sync decides": what the Resolve store must
hold after each successful run, given NetSuite's state, Resolve-side actions and the history of runs.

Pure Python. It imports nothing from resolve_sync. One function per rule; each cites it.

Keys: NetSuite ids are ints in `NetSuite`, strings in `Resolve` (as the store keeps them). A Resolve
customer created by a user (not from NetSuite) is keyed `user:<label>` until an operator links it (R12).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from resolve_sync_tests.model.values import (
    Invalid,
    customer_values,
    invoice_values,
    normalised_email,
    normalised_name,
)

VALID_FILTER_FIELDS = frozenset({"custentity_sync_to_resolve", "custentity_vip"})  # customer checkboxes
INVALID_FILTER_FIELDS = {
    "custentity_region": "a text field, not a checkbox",
    "custentity_vendor_only": "does not apply to customers",
    "custentity_missing": "does not exist",
    "custentity_x'--": "not a field id (pattern)",
}


# -- state ---------------------------------------------------------------------------------------------------


@dataclass
class NSCustomer:
    name: str | None
    email: str | None
    phone: str | None = None
    inactive: bool = False
    parent: int | None = None
    subsidiary: int = 2
    secondary: frozenset[int] = frozenset()
    checks: dict[str, bool] = field(default_factory=dict)


@dataclass
class NSInvoice:
    entity: int
    tranid: str
    total: str
    unpaid: str
    trandate: dt.date
    duedate: dt.date | None
    subsidiary: int = 2
    status: str = "A"
    currency: str = "USD"
    memo: str | None = None


@dataclass
class NetSuite:
    customers: dict[int, NSCustomer] = field(default_factory=dict)
    invoices: dict[int, NSInvoice] = field(default_factory=dict)


@dataclass
class Resolve:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → Resolve row fields
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer_synced: dict[str, dict[str, Any]] = field(default_factory=dict)  # R7: last-synced values
    invoice_synced: dict[str, dict[str, Any]] = field(default_factory=dict)
    drift: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # R8: netsuite values per change
    edited: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, key, field) a user edited


@dataclass
class Model:
    netsuite: NetSuite = field(default_factory=NetSuite)
    resolve: Resolve = field(default_factory=Resolve)
    subsidiary: int = 2
    filter_field: str | None = None
    resolutions: dict[tuple[str, str], str] = field(default_factory=dict)  # R12: sorted pair → resolution
    as_of: dt.date = dt.date(2026, 11, 26)


@dataclass
class RunResult:
    status: str  # "succeeded", "refused" (R11) or "blocked" (R12)
    reason: str = ""
    pairs: set[tuple[str, str]] = field(default_factory=set)
    outcomes: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, netsuite id) → outcome


# -- scope ---------------------------------------------------------------------------------------------------


def filter_problem(model: Model) -> str | None:
    """R11: a filter field must exist, be a checkbox and apply to customers."""
    if model.filter_field is None or model.filter_field in VALID_FILTER_FIELDS:
        return None
    return INVALID_FILTER_FIELDS.get(model.filter_field, "not a customer checkbox")


def in_subsidiary(model: Model, customer: NSCustomer) -> bool:
    """R1: primary subsidiary, or a secondary one."""
    return customer.subsidiary == model.subsidiary or model.subsidiary in customer.secondary


def passes_filter(model: Model, customer: NSCustomer) -> bool:
    """R9: no filter field: all customers; else only those whose box is checked."""
    return model.filter_field is None or customer.checks.get(model.filter_field, False)


def scope(model: Model) -> set[int]:
    return {cid for cid, c in model.netsuite.customers.items() if in_subsidiary(model, c)}


def invoice_window_start(as_of: dt.date) -> dt.date:
    """R1: trandate within the last 12 months of the run's logical date."""
    try:
        return as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - 1, day=28)


def invoice_in_scope(model: Model, invoice: NSInvoice) -> bool:
    """R1: invoices of the selected subsidiary dated within the window."""
    return invoice.subsidiary == model.subsidiary and invoice.trandate >= invoice_window_start(model.as_of)


def top_level_ancestors(model: Model) -> dict[int, int | None]:
    """R5: each customer's top-level ancestor at any depth; None for a cycle or a missing parent."""
    tops: dict[int, int | None] = {}
    for start in model.netsuite.customers:
        node, seen = start, set()
        while True:
            if node in seen or node not in model.netsuite.customers:
                tops[start] = None
                break
            seen.add(node)
            parent = model.netsuite.customers[node].parent
            if parent is None:
                tops[start] = node
                break
            node = parent
    return tops


def archived(customer: NSCustomer) -> bool:
    """R5 + R6: sub-customers and inactive customers are archived."""
    return customer.parent is not None or customer.inactive


# -- R12 duplicates ------------------------------------------------------------------------------------------


def duplicate_pairs(model: Model, in_scope: set[int], tops: dict[int, int | None]) -> set[tuple[str, str]]:
    """R12 + README: in-scope (and filter-passing) NetSuite customers, and Resolve customers not linked to
    NetSuite, sharing a normalised name or email; only pairs with an unlinked NetSuite customer count; a
    sub-customer and its own family are not duplicates; pairs an operator resolved are left out."""
    candidates = []  # (key, name, email, linked, family)
    for cid in sorted(in_scope):
        customer = model.netsuite.customers[cid]
        if passes_filter(model, customer):
            linked = str(cid) in model.resolve.customer_synced
            candidates.append((f"netsuite:{cid}", customer.name, customer.email, linked, tops.get(cid)))
    for key, row in model.resolve.customers.items():
        if key.startswith("user:"):
            candidates.append((key, row["business_name"], row["email"], True, None))
    pairs: set[tuple[str, str]] = set()
    for index, (key_a, name_a, email_a, linked_a, family_a) in enumerate(candidates):
        for key_b, name_b, email_b, linked_b, family_b in candidates[index + 1 :]:
            if linked_a and linked_b:
                continue
            if family_a is not None and family_a == family_b:
                continue
            same_name = normalised_name(name_a) is not None and normalised_name(name_a) == normalised_name(
                name_b
            )
            same_email = normalised_email(email_a) is not None and normalised_email(
                email_a
            ) == normalised_email(email_b)
            pair = tuple(sorted((key_a, key_b)))
            if (same_name or same_email) and pair not in model.resolutions:
                pairs.add(pair)  # type: ignore[arg-type]
    return pairs


def adoptions(model: Model) -> dict[str, str]:
    """R12 `link`: NetSuite id → the unlinked Resolve customer (`user:…`) it becomes instead of a new one."""
    adopt = {}
    for (left, right), resolution in model.resolutions.items():
        if resolution == "linked":
            netsuite = next(k for k in (left, right) if k.startswith("netsuite:"))
            user = next(k for k in (left, right) if k.startswith("user:"))
            if user in model.resolve.customers:
                adopt[netsuite.split(":", 1)[1]] = user
    return adopt


# -- R7 / R8 writes -----------------------------------------------------------------------------------------


def changed_fields(fresh: dict[str, Any], last_synced: dict[str, Any]) -> dict[str, Any]:
    """R7: a field is written only when NetSuite's value differs from the value last synced."""
    return {name: value for name, value in fresh.items() if last_synced.get(name, _MISSING) != value}


_MISSING = object()


def sync_customer(model: Model, cid: int, adopt: dict[str, str]) -> str:
    """R9/R10 skip, bad data → invalid, else create, adopt (R12 link) or update changed fields (R7)."""
    customer, resolve, key = model.netsuite.customers[cid], model.resolve, str(cid)
    if not passes_filter(model, customer):
        return "skipped"  # R10: a record synced before stays as it is
    try:
        fresh = customer_values(customer.name, customer.email, customer.phone, archived(customer))
    except Invalid:
        return "invalid"
    if key in resolve.customer_synced:
        changed = changed_fields(fresh, resolve.customer_synced[key])
        resolve.customers[key].update(changed)
        resolve.customer_synced[key] = dict(fresh)
        return "updated" if changed else "unchanged"
    if key in adopt:
        resolve.customers[key] = {**resolve.customers.pop(adopt[key]), **fresh}
        resolve.edited = {(k, key if r == adopt[key] else r, f) for k, r, f in resolve.edited}
        resolve.customer_synced[key] = dict(fresh)
        return "updated"
    resolve.customers[key] = dict(fresh)
    resolve.customer_synced[key] = dict(fresh)
    return "created"


def invoice_owner(model: Model, invoice: NSInvoice, in_scope: set[int], tops: dict[int, int | None]) -> str:
    """R5 + R9: the owner's key, "skip" (own customer filtered out) or "hold" (no synced top-level ancestor)."""
    entity = model.netsuite.customers.get(invoice.entity)
    if entity is None or invoice.entity not in in_scope:
        return "hold"
    if not passes_filter(model, entity):
        return "skip"
    top = tops.get(invoice.entity)
    if top is None or top not in in_scope or not passes_filter(model, model.netsuite.customers[top]):
        return "hold"
    if str(top) not in model.resolve.customer_synced:
        return "hold"  # its top-level customer is not synced (invalid)
    return str(top)


def sync_invoice(model: Model, iid: int, in_scope: set[int], tops: dict[int, int | None]) -> str:
    """R5 owner, bad data → invalid, R8 financed → drift, else create or update changed fields (R7)."""
    invoice, resolve, key = model.netsuite.invoices[iid], model.resolve, str(iid)
    owner = invoice_owner(model, invoice, in_scope, tops)
    if owner == "skip":
        return "skipped"
    if owner == "hold":
        return "held_back"
    try:
        fresh = invoice_values(
            tranid=invoice.tranid,
            total=invoice.total,
            unpaid=invoice.unpaid,
            trandate=invoice.trandate,
            duedate=invoice.duedate,
            status=invoice.status,
            currency=invoice.currency,
            memo=invoice.memo,
            owner=owner,
        )
    except Invalid:
        return "invalid"
    if key not in resolve.invoice_synced:
        resolve.invoices[key] = {**fresh, "advanced": False, "archived": False}
        resolve.invoice_synced[key] = dict(fresh)
        return "created"
    changed = changed_fields(fresh, resolve.invoice_synced[key])
    if not changed:
        return "unchanged"
    if resolve.invoices[key]["advanced"]:
        drift = resolve.drift.setdefault(key, [])
        if not drift or drift[-1] != changed:  # each distinct change recorded once
            drift.append(changed)
        return "frozen"  # R8: the Resolve row and the last-synced values stay
    resolve.invoices[key].update(changed)
    resolve.invoice_synced[key] = dict(fresh)
    return "updated"


# -- a run ---------------------------------------------------------------------------------------------------


def run(model: Model) -> RunResult:
    """One successful-or-refused run. Refused (R11) and blocked (R12) runs change nothing (R15: the next run
    does the work). Whether a run is incremental or a full refresh does not change the result (R17)."""
    if (problem := filter_problem(model)) is not None:
        return RunResult("refused", reason=f"filter field {model.filter_field!r}: {problem}")
    in_scope = scope(model)
    tops = top_level_ancestors(model)
    pairs = duplicate_pairs(model, in_scope, tops)
    if pairs:
        return RunResult("blocked", pairs=pairs)
    result = RunResult("succeeded")
    adopt = adoptions(model)
    for cid in sorted(in_scope):
        result.outcomes[("customer", str(cid))] = sync_customer(model, cid, adopt)
    for iid in sorted(model.netsuite.invoices):
        if invoice_in_scope(model, model.netsuite.invoices[iid]):
            result.outcomes[("invoice", str(iid))] = sync_invoice(model, iid, in_scope, tops)
    return result


# -- Resolve-side actions -----------------------------------------------------------------------------------


def user_edit(model: Model, kind: str, key: str, name: str, value: Any) -> None:
    """R7: a user edits a field of a Resolve record."""
    rows = model.resolve.customers if kind == "customer" else model.resolve.invoices
    rows[key][name] = value
    model.resolve.edited.add((kind, key, name))


def finance(model: Model, key: str) -> None:
    """R8: Resolve advances an invoice."""
    model.resolve.invoices[key]["advanced"] = True


def user_creates_customer(model: Model, label: str, name: str, email: str) -> None:
    """A Resolve customer not from NetSuite (R12's 'existing Resolve customer not linked to NetSuite')."""
    model.resolve.customers[f"user:{label}"] = {
        "business_name": name,
        "email": email,
        "business_phone": None,
        "archived": False,
    }


def resolve_pair(model: Model, pair: tuple[str, str], resolution: str) -> None:
    """R12: an operator links the pair or marks it distinct."""
    model.resolutions[tuple(sorted(pair))] = resolution  # type: ignore[index]


def snapshot(model: Model) -> Model:
    return copy.deepcopy(model)
