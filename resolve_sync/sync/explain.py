"""Why a NetSuite record is, or is not, in Resolve, in words (`resolve-sync explain`).

Everything is read back from what the runs left in the store: the staged NetSuite values (scope, filter box,
parent, the raw fields), the link and its last-synced values, the Resolve row, the per-record outcomes,
duplicate pairs and resolutions, and financed-invoice drift. The decisions are re-derived with the same pure
rule functions the sync uses, so the explanation cannot drift from the behaviour it explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from resolve_sync.errors import DataError
from resolve_sync.kinds import RecordKind
from resolve_sync.store.connections import Connection
from resolve_sync.store.models import (
    InvoiceDrift,
    NetSuiteCustomerLink,
    NetSuiteInvoiceLink,
    ResolveCustomer,
    ResolveInvoice,
    StagedCustomer,
    StagedInvoice,
    SyncRecordOutcome,
    SyncRun,
)
from resolve_sync.sync import lookups
from resolve_sync.sync.duplicates import duplicate_pairs, resolution_commands, resolutions
from resolve_sync.sync.hierarchy import archive_reason, invoice_owner, top_level_ancestors
from resolve_sync.sync.scope import invoice_window_start, is_in_filter
from resolve_sync.sync.transform import (
    InvalidRecord,
    comparable,
    resolve_customer_fields,
    resolve_invoice_fields,
)

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


def explain(engine: Engine, connections: list[Connection], key: str) -> list[Explanation]:
    """`netsuite:ID` (a customer, an invoice, or both when the ids collide) or `resolve:ID`."""
    prefix, _, record_id = key.partition(":")
    if prefix not in ("netsuite", "resolve") or not record_id or len(record_id) > 40:
        raise UnknownRecord(
            f"{key!r} is not a record key: use netsuite:<internal id> or resolve:<Resolve id>."
        )
    merchant = connections[0].merchant_id
    if prefix == "resolve":
        kind, netsuite_id = _netsuite_side(engine, merchant, record_id)
        wanted = [(kind, netsuite_id)]
    else:
        wanted = [(RecordKind.CUSTOMER, record_id), (RecordKind.INVOICE, record_id)]
    stories = [
        story
        for connection in connections
        for kind, netsuite_id in wanted
        if (story := _explain_one(engine, connection, kind, netsuite_id)) is not None
    ]
    if not stories:
        raise UnknownRecord(
            f"Merchant {merchant!r}: no run has read NetSuite record {record_id} and nothing in Resolve is "
            f"linked to it. Is it in the connected subsidiary, and has `resolve-sync sync {merchant}` run since "
            "it was created?",
            merchant_id=merchant,
        )
    return stories


def _netsuite_side(engine: Engine, merchant: str, resolve_id: str) -> tuple[RecordKind, str]:
    with engine.connect() as db:
        for kind, link, column in (
            (RecordKind.CUSTOMER, NetSuiteCustomerLink, NetSuiteCustomerLink.resolve_customer_id),
            (RecordKind.INVOICE, NetSuiteInvoiceLink, NetSuiteInvoiceLink.resolve_invoice_id),
        ):
            netsuite_id = db.scalar(
                select(link.netsuite_id).where(link.merchant_id == merchant, column == resolve_id)
            )
            if netsuite_id is not None:
                return kind, netsuite_id
        known = db.scalar(select(ResolveCustomer.id).where(ResolveCustomer.id == resolve_id)) or db.scalar(
            select(ResolveInvoice.id).where(ResolveInvoice.id == resolve_id)
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
    engine: Engine, connection: Connection, kind: RecordKind, netsuite_id: str
) -> Explanation | None:
    staged_table = StagedCustomer if kind == RecordKind.CUSTOMER else StagedInvoice
    with engine.connect() as db:
        staged = (
            db.execute(
                select(staged_table).where(
                    staged_table.connection_id == connection.id, staged_table.netsuite_id == netsuite_id
                )
            )
            .mappings()
            .first()
        )
        link = lookups.links(db, connection, kind, [netsuite_id]).get(netsuite_id)
        outcomes = db.execute(
            select(
                SyncRecordOutcome.run_id,
                SyncRecordOutcome.outcome,
                SyncRecordOutcome.reason,
                SyncRecordOutcome.fields,
            )
            .join(SyncRun, SyncRun.id == SyncRecordOutcome.run_id)
            .where(
                SyncRun.connection_id == connection.id,
                SyncRecordOutcome.record_kind == kind,
                SyncRecordOutcome.netsuite_id == netsuite_id,
            )
            .order_by(SyncRecordOutcome.id.desc())
            .limit(OUTCOMES_SHOWN)
        ).all()
    if staged is None and link is None and not outcomes:
        return None
    story = Explanation(connection.merchant_id, kind, netsuite_id, connection.partition_key, link is not None)
    story.resolve_id = link.resolve_id if link else None
    if kind == RecordKind.CUSTOMER:
        _customer_story(engine, connection, story, staged)
    else:
        _invoice_story(engine, connection, story, staged)
    if link is not None:
        _resolve_side(engine, story, kind, link.resolve_id, link.synced_values)
    for run_id, outcome, reason, fields in outcomes:
        written = f" (fields: {', '.join(fields)})" if fields else ""
        story.add("history", f"run {run_id}: {outcome}{written}" + (f" — {reason}" if reason else ""))
    return story


def _customer_story(engine: Engine, connection: Connection, story: Explanation, staged: Any) -> None:
    facts = lookups.customer_facts(engine, connection)
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
    for pair in duplicate_pairs(engine, connection, facts, ancestry):
        if f"netsuite:{story.netsuite_id}" in pair.keys:
            left, right = pair.keys
            story.add(
                "duplicate",
                f"possible duplicate ({pair.matched_on}) of {right if left.endswith(':' + story.netsuite_id) else left}: "
                f"held back until resolved: {resolution_commands(connection.merchant_id, pair)}.",
            )
    for (left, right), resolution in resolutions(engine, connection.merchant_id).items():
        if f"netsuite:{story.netsuite_id}" in (left, right):
            story.add("duplicate", f"an operator marked {left} and {right} {resolution}.")


def _invoice_story(engine: Engine, connection: Connection, story: Explanation, staged: Any) -> None:
    if staged is None:
        story.add(
            "scope",
            "the last read did not return it: dated before the 12-month window, in another subsidiary, not an "
            "invoice any more, or deleted in NetSuite. What Resolve has from it stays as it is.",
        )
        return
    with engine.connect() as db:
        as_of = db.scalar(
            select(SyncRun.as_of).where(SyncRun.connection_id == connection.id).order_by(SyncRun.id.desc())
        )
    if as_of is not None:
        story.add(
            "scope",
            f"dated {staged['trandate']}, within the window that starts {invoice_window_start(as_of)}.",
        )
    facts = lookups.customer_facts(engine, connection)
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
    if owner.netsuite_id not in lookups.customer_owners(engine, connection):
        story.add(
            "held back",
            f"customer {owner.netsuite_id} is not in Resolve yet (see `explain netsuite:{owner.netsuite_id}`).",
        )
    try:
        resolve_invoice_fields(staged, "owner")
    except InvalidRecord as invalid:
        story.add("invalid", f"NetSuite's values cannot be taken: {invalid}.")


def _resolve_side(engine: Engine, story: Explanation, kind: RecordKind, resolve_id: str, synced: Any) -> None:
    model = ResolveCustomer if kind == RecordKind.CUSTOMER else ResolveInvoice
    with engine.connect() as db:
        row = db.execute(select(model).where(model.id == resolve_id)).mappings().first()
        drift = db.execute(
            select(InvoiceDrift.changes, InvoiceDrift.detected_at, InvoiceDrift.reviewed_at)
            .where(InvoiceDrift.resolve_invoice_id == resolve_id)
            .order_by(InvoiceDrift.id)
        ).all()
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
