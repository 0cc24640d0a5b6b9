"""Why a NetSuite record is, or is not, in Resolve, in words (`resolve-sync explain`).

Everything is read back from what the runs left in the store: the staged NetSuite values (scope, filter box,
parent, the raw fields), the link and its last-synced values, the Resolve row, the per-record outcomes,
duplicate pairs and resolutions, and financed-invoice drift. The decisions are re-derived with the same pure
rule functions the sync uses, so the explanation cannot drift from the behaviour it explains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from resolve_sync.errors import DataError
from resolve_sync.kinds import RecordKind
from resolve_sync.store.reads import Reads, as_reads, boolean, day, document, money, utc
from resolve_sync.sync import lookups
from resolve_sync.sync.duplicates import duplicate_pairs, resolution_commands, resolutions
from resolve_sync.sync.hierarchy import archive_reason, invoice_owner, top_level_ancestors
from resolve_sync.sync.records import CUSTOMER_COLUMNS, INVOICE_COLUMNS
from resolve_sync.sync.scope import invoice_window_start, is_in_filter
from resolve_sync.sync.transform import (
    InvalidRecord,
    comparable,
    resolve_customer_fields,
    resolve_invoice_fields,
)

if TYPE_CHECKING:
    from resolve_sync.store.connection_records import Connection
    from resolve_sync.sync.lookups import Source

OUTCOMES_SHOWN = 5


class UnknownRecord(DataError):
    """The key names no record the sync has seen for this merchant."""


@dataclass
class Explanation:
    """One record's story: `facts` are (topic, sentence) pairs in reading order."""

    merchant_id: str
    record_kind: RecordKind
    netsuite_id: str
    partition_key: str
    in_resolve: bool
    resolve_id: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, topic: str, sentence: str) -> None:
        self.facts.append((topic, sentence))

    def as_dict(self) -> dict[str, Any]:
        return {
            "merchant": self.merchant_id,
            "kind": str(self.record_kind),
            "netsuite_id": self.netsuite_id,
            "connection": self.partition_key,
            "in_resolve": self.in_resolve,
            "resolve_id": self.resolve_id,
            "facts": [{"topic": t, "text": s} for t, s in self.facts],
        }


def explain(source: Source, connections: list[Connection], key: str) -> list[Explanation]:
    """`netsuite:ID` (a customer, an invoice, or both when the ids collide) or `resolve:ID`."""
    reads = as_reads(source)
    prefix, _, record_id = key.partition(":")
    if prefix not in ("netsuite", "resolve") or not record_id or len(record_id) > 40:
        raise UnknownRecord(
            f"{key!r} is not a record key: use netsuite:<internal id> or resolve:<Resolve id>."
        )
    merchant = connections[0].merchant_id
    if prefix == "resolve":
        kind, netsuite_id = _netsuite_side(reads, merchant, record_id)
        wanted = [(kind, netsuite_id)]
    else:
        wanted = [(RecordKind.CUSTOMER, record_id), (RecordKind.INVOICE, record_id)]
    stories = [
        story
        for connection in connections
        for kind, netsuite_id in wanted
        if (story := _explain_one(reads, connection, kind, netsuite_id)) is not None
    ]
    if not stories:
        raise UnknownRecord(
            f"Merchant {merchant!r}: no run has read NetSuite record {record_id} and nothing in Resolve is "
            f"linked to it. Is it in the connected subsidiary, and has `resolve-sync sync {merchant}` run since "
            "it was created?",
            merchant_id=merchant,
        )
    return stories


def _netsuite_side(reads: Reads, merchant: str, resolve_id: str) -> tuple[RecordKind, str]:
    for kind in (RecordKind.CUSTOMER, RecordKind.INVOICE):
        netsuite_id = linked_netsuite_id(reads, kind, merchant, resolve_id)
        if netsuite_id is not None:
            return kind, netsuite_id
    known = resolve_row(reads, RecordKind.CUSTOMER, resolve_id) or resolve_row(
        reads, RecordKind.INVOICE, resolve_id
    )
    if known:
        raise UnknownRecord(
            f"Merchant {merchant!r}: Resolve record {resolve_id} is not linked to NetSuite; it was created in "
            "Resolve, and the sync never changes it.",
            merchant_id=merchant,
        )
    raise UnknownRecord(
        f"Merchant {merchant!r}: there is no Resolve record {resolve_id}.", merchant_id=merchant
    )


def _explain_one(
    reads: Reads, connection: Connection, kind: RecordKind, netsuite_id: str
) -> Explanation | None:
    staged = staged_row(reads, connection, kind, netsuite_id)
    link = lookups.links(reads, connection, kind, [netsuite_id]).get(netsuite_id)
    outcomes = outcome_history(reads, connection, kind, netsuite_id, OUTCOMES_SHOWN)
    if staged is None and link is None and not outcomes:
        return None
    story = Explanation(connection.merchant_id, kind, netsuite_id, connection.partition_key, link is not None)
    story.resolve_id = link.resolve_id if link else None
    if kind == RecordKind.CUSTOMER:
        _customer_story(reads, connection, story, staged)
    else:
        _invoice_story(reads, connection, story, staged)
    if link is not None:
        _resolve_side(reads, story, kind, link.resolve_id, link.synced_values)
    for run_id, outcome, reason, fields in outcomes:
        written = f" (fields: {', '.join(fields)})" if fields else ""
        story.add("history", f"run {run_id}: {outcome}{written}" + (f" — {reason}" if reason else ""))
    return story


def _customer_story(reads: Reads, connection: Connection, story: Explanation, staged: Any) -> None:
    facts = lookups.customer_facts(reads, connection)
    me = facts.get(story.netsuite_id)
    if staged is None or me is None:
        story.add(
            "scope",
            f"the last read of subsidiary {connection.subsidiary_id or '(any)'} did not return it: it left the "
            "subsidiary or was deleted in NetSuite. What Resolve has from it stays as it is.",
        )
        return
    if not me.in_scope:
        story.add(
            "scope", f"not in subsidiary {connection.subsidiary_id}; read only as an ancestor of one that is."
        )
    else:
        story.add("scope", f"in subsidiary {connection.subsidiary_id or '(the only one)'}.")
    if connection.filter_field_id:
        box = "checked" if me.filter_checked else "not checked"
        verdict = "synced" if is_in_filter(me) else "not synced (records synced before are kept as they are)"
        story.add("filter", f"{connection.filter_field_id} is {box}: {verdict}.")
    else:
        story.add("filter", "the connection has no filter field: every customer of the subsidiary is synced.")
    ancestry = top_level_ancestors({k: f.parent_id for k, f in facts.items()})
    chain = _chain(story.netsuite_id, facts)
    top = ancestry.get(story.netsuite_id)
    if me.parent_id is not None:
        owner = (
            f"its top-level customer is {top.top_level_id}"
            if top and top.top_level_id
            else (top.reason if top else "")
        )
        story.add(
            "hierarchy",
            f"parent chain {' → '.join(chain)}; {owner}"
            + (
                "; its invoices belong to it."
                if top and top.top_level_id
                else "; its invoices are held back."
            ),
        )
    reason = archive_reason(me)
    story.add(
        "archived", f"archived in Resolve: {reason}." if reason else "active in NetSuite: not archived."
    )
    try:
        resolve_customer_fields(staged, me)
    except InvalidRecord as invalid:
        story.add("invalid", f"NetSuite's values cannot be taken: {invalid}.")
    for pair in duplicate_pairs(reads, connection, facts, ancestry):
        if f"netsuite:{story.netsuite_id}" in pair.keys:
            left, right = pair.keys
            story.add(
                "duplicate",
                f"possible duplicate ({pair.matched_on}) of {right if left.endswith(':' + story.netsuite_id) else left}: "
                f"held back until resolved: {resolution_commands(connection.merchant_id, pair)}.",
            )
    for (left, right), resolution in resolutions(reads, connection.merchant_id).items():
        if f"netsuite:{story.netsuite_id}" in (left, right):
            story.add("duplicate", f"an operator marked {left} and {right} {resolution}.")


def _invoice_story(reads: Reads, connection: Connection, story: Explanation, staged: Any) -> None:
    if staged is None:
        story.add(
            "scope",
            "the last read did not return it: dated before the 12-month window, in another subsidiary, not an "
            "invoice any more, or deleted in NetSuite. What Resolve has from it stays as it is.",
        )
        return
    as_of = last_as_of(reads, connection)
    if as_of is not None:
        story.add(
            "scope",
            f"dated {staged['trandate']}, within the window that starts {invoice_window_start(as_of)}.",
        )
    facts = lookups.customer_facts(reads, connection)
    ancestry = top_level_ancestors({k: f.parent_id for k, f in facts.items()})
    owner = invoice_owner(staged["entity"], facts, ancestry, connection.filter_field_id)
    if owner.out_of_scope:
        story.add("filter", f"not synced: {owner.reason}; an invoice synced before is kept as it is.")
        return
    if owner.netsuite_id is None:
        if story.in_resolve:
            story.add("held back", f"{owner.reason}; Resolve keeps it as last synced until that is resolved.")
        else:
            story.add("held back", f"{owner.reason}; it is written once that is resolved.")
        return
    chain = " → ".join(_chain(staged["entity"], facts))
    story.add(
        "owner", f"customer {staged['entity']} (chain {chain}): it belongs to customer {owner.netsuite_id}."
    )
    if owner.netsuite_id not in lookups.customer_owners(reads, connection):
        story.add(
            "held back",
            f"customer {owner.netsuite_id} is not in Resolve yet (see `explain netsuite:{owner.netsuite_id}`).",
        )
    try:
        resolve_invoice_fields(staged, "owner")
    except InvalidRecord as invalid:
        story.add("invalid", f"NetSuite's values cannot be taken: {invalid}.")


def _resolve_side(reads: Reads, story: Explanation, kind: RecordKind, resolve_id: str, synced: Any) -> None:
    row = resolve_row(reads, kind, resolve_id)
    drift = invoice_drift(reads, resolve_id)
    if row is None:
        return
    name = row.get("business_name") or row.get("number")
    story.add(
        "resolve",
        f"Resolve {kind} {resolve_id} ({name}), last written by {row['updated_by']} at "
        f"{row['updated_at']:%Y-%m-%d %H:%M:%S} UTC.",
    )
    edited = [
        column for column, value in synced.items() if column in row and comparable(row[column]) != value
    ]
    if edited:
        story.add(
            "edited",
            f"{', '.join(sorted(edited))} differ from what the sync last wrote: edited in Resolve; the sync "
            "overwrites a field only when NetSuite changes it.",
        )
    if kind == RecordKind.INVOICE and row.get("advanced"):
        story.add(
            "frozen", "financed (advanced) in Resolve: no sync changes it; NetSuite changes become drift."
        )
    for changes, detected, reviewed in drift:
        state = "reviewed" if reviewed else "open"
        story.add("drift", f"{state}, seen {detected:%Y-%m-%d}: {changes}")


def _chain(start: str, facts: dict[str, Any]) -> list[str]:
    chain, seen, node = [], set(), start
    while node is not None and node not in seen:
        chain.append(node)
        seen.add(node)
        node = facts[node].parent_id if node in facts else None
    if node is not None:
        chain.append(f"{node} (cycle)" if node in seen else node)
    return chain


# -- reading the store --------------------------------------------------------------------------------------
# Plain SQL over `store.reads`, so the command runs over the bare driver. Whole rows come back as dicts
# of what the models hold: each table's columns with how a driver's value becomes the model's
# (resolve_sync_tests/store/test_reads.py checks the lists against the models).


def _as_is(value: Any) -> Any:
    return value


STAGED_COLUMNS: dict[RecordKind, tuple[str, dict[str, Any]]] = {
    RecordKind.CUSTOMER: (
        "netsuite_staged_customers",
        {
            **dict.fromkeys(("connection_id", "netsuite_id", *CUSTOMER_COLUMNS), _as_is),
            "in_scope": boolean,
            "changed_run_id": _as_is,
            "owner_changed_run_id": _as_is,
            "extracted_run_id": _as_is,
        },
    ),
    RecordKind.INVOICE: (
        "netsuite_staged_invoices",
        {
            **dict.fromkeys(
                ("connection_id", "netsuite_id", *INVOICE_COLUMNS, "changed_run_id", "extracted_run_id"),
                _as_is,
            ),
            "kept_out": boolean,
        },
    ),
}

_RESOLVE_COMMON_HEAD = {"id": _as_is, "merchant_id": _as_is}
_RESOLVE_COMMON_TAIL = {
    "archived": boolean,
    "netsuite_id": _as_is,
    "source": _as_is,
    "version": _as_is,
    "created_at": utc,
    "updated_at": utc,
    "updated_by": _as_is,
}
RESOLVE_COLUMNS: dict[RecordKind, tuple[str, dict[str, Any]]] = {
    RecordKind.CUSTOMER: (
        "resolve_customers",
        {
            **_RESOLVE_COMMON_HEAD,
            **dict.fromkeys(
                (
                    "business_name",
                    "business_trade_name",
                    "email",
                    "business_ap_email",
                    "business_phone",
                    "business_address",
                    "business_city",
                    "business_state",
                    "business_zip",
                    "business_country",
                    "default_terms",
                ),
                _as_is,
            ),
            "amount_balance": money,
            **_RESOLVE_COMMON_TAIL,
        },
    ),
    RecordKind.INVOICE: (
        "resolve_invoices",
        {
            **_RESOLVE_COMMON_HEAD,
            **dict.fromkeys(
                ("customer_id", "number", "order_number", "po_number", "notes", "currency", "terms"), _as_is
            ),
            "amount_due": money,
            "amount_balance": money,
            "amount_paid": money,
            "invoiced_at": day,
            "due_at": day,
            "fully_paid": boolean,
            "voided": boolean,
            "advanced": boolean,
            "advanced_at": utc,
            **_RESOLVE_COMMON_TAIL,
        },
    ),
}


def _whole_row(
    reads: Reads, table: str, columns: dict[str, Any], where: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    rows = reads.rows(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params)
    if not rows:
        return None
    return {name: convert(value) for (name, convert), value in zip(columns.items(), rows[0], strict=True)}


def staged_row(
    source: Source, connection: Connection, kind: RecordKind, netsuite_id: str
) -> dict[str, Any] | None:
    """The record as the connection's last read staged it (NetSuite's wire values, as text)."""
    table, columns = STAGED_COLUMNS[kind]
    return _whole_row(
        as_reads(source),
        table,
        columns,
        "connection_id = :connection AND netsuite_id = :netsuite_id",
        {"connection": connection.id, "netsuite_id": netsuite_id},
    )


def resolve_row(source: Source, kind: RecordKind, resolve_id: str) -> dict[str, Any] | None:
    """The whole Resolve customer or invoice, values as the models hold them (Decimals, dates, booleans)."""
    table, columns = RESOLVE_COLUMNS[kind]
    return _whole_row(as_reads(source), table, columns, "id = :id", {"id": resolve_id})


def linked_netsuite_id(source: Source, kind: RecordKind, merchant_id: str, resolve_id: str) -> str | None:
    """The NetSuite record the merchant's Resolve record is linked to, if any."""
    table, column = lookups.LINK_TABLES[kind]
    rows = as_reads(source).rows(
        f"SELECT netsuite_id FROM {table} WHERE merchant_id = :merchant AND {column} = :resolve_id",
        {"merchant": merchant_id, "resolve_id": resolve_id},
    )
    return rows[0][0] if rows else None


def outcome_history(
    source: Source, connection: Connection, kind: RecordKind, netsuite_id: str, limit: int
) -> list[tuple[int, str, str | None, list[Any] | None]]:
    """(run id, outcome, reason, fields) of the record's latest outcomes over the connection's runs."""
    rows = as_reads(source).rows(
        "SELECT o.run_id, o.outcome, o.reason, o.fields FROM sync_record_outcomes o "
        "JOIN sync_runs r ON r.id = o.run_id "
        "WHERE r.connection_id = :connection AND o.record_kind = :kind AND o.netsuite_id = :netsuite_id "
        "ORDER BY o.id DESC LIMIT :limit",
        {"connection": connection.id, "kind": str(kind), "netsuite_id": netsuite_id, "limit": limit},
    )
    return [(run_id, outcome, reason, document(fields)) for run_id, outcome, reason, fields in rows]


def last_as_of(source: Source, connection: Connection) -> dt.date | None:
    """The logical date of the connection's latest run."""
    rows = as_reads(source).rows(
        "SELECT as_of FROM sync_runs WHERE connection_id = :connection ORDER BY id DESC LIMIT 1",
        {"connection": connection.id},
    )
    return day(rows[0][0]) if rows else None


def invoice_drift(
    source: Source, resolve_invoice_id: str
) -> list[tuple[Any, dt.datetime, dt.datetime | None]]:
    """(changes, detected at, reviewed at) of the invoice's drift, oldest first."""
    rows = as_reads(source).rows(
        "SELECT changes, detected_at, reviewed_at FROM invoice_drift WHERE resolve_invoice_id = :id ORDER BY id",
        {"id": resolve_invoice_id},
    )
    return [(document(changes), utc(detected), utc(reviewed)) for changes, detected, reviewed in rows]  # type: ignore[misc]
