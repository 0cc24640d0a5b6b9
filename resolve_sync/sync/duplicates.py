"""R12, end to end: customers that would be duplicates in Resolve, found before anything is written, the
operator's resolutions, and the hold-back that keeps the writer from ever creating one.

Two in-scope NetSuite customers with the same normalised business name or billing email, or a NetSuite
customer that matches an existing Resolve customer not linked to NetSuite. Only pairs in which at least
one NetSuite customer is not yet linked count: those are the ones this sync would create as duplicates.
A sub-customer sharing its ancestor's name or email is one family, not a duplicate (it is archived and its
invoices go to the ancestor, R5). Pairs an operator resolved (linked, or marked distinct) are left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolve_sync.kinds import Outcome, RecordKind, Resolution
from resolve_sync.store.reads import as_reads
from resolve_sync.store.resolution_records import list_resolutions
from resolve_sync.sync.errors import DuplicatesFound
from resolve_sync.sync.hierarchy import Ancestry, top_level_ancestors
from resolve_sync.sync.lookups import Source, customer_facts, customer_owners
from resolve_sync.sync.records import Action, CustomerFacts

if TYPE_CHECKING:
    from resolve_sync.store.connection_records import Connection

LEGAL_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "l l c",
    "ltd",
    "limited",
    "gmbh",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "llp",
    "lp",
    "sa",
    "sas",
    "sarl",
    "ag",
    "bv",
    "nv",
    "pty",
    "pty ltd",
    "srl",
    "spa",
    "oy",
    "ab",
    "as",
    "kg",
}
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalised_name(name: str | None) -> str | None:
    """Case, accents, punctuation, whitespace and trailing legal suffixes removed: 'ACME, Inc.' → 'acme'."""
    if not name:
        return None
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    words = _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip().split(" ")
    if len(words) > 2 and " ".join(words[-2:]) in LEGAL_SUFFIXES:
        words = words[:-2]
    elif len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words = words[:-1]
    return " ".join(words) or None


def normalised_email(email: str | None) -> str | None:
    return email.strip().lower() or None if email else None


@dataclass(frozen=True)
class Candidate:
    """A customer that may collide: `key` is `netsuite:<id>` or `resolve:<id>`."""

    key: str
    name: str | None
    email: str | None
    linked: bool = True  # a NetSuite customer already linked to Resolve (Resolve customers: True)
    family: str | None = None  # top-level ancestor id, for NetSuite customers


@dataclass(frozen=True)
class DuplicatePair:
    left: Candidate
    right: Candidate
    matched_on: str  # "business name" or "email"

    @property
    def keys(self) -> tuple[str, str]:
        return sorted_pair(self.left.key, self.right.key)


def sorted_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def find_duplicates(
    netsuite: Iterable[Candidate], resolve_unlinked: Iterable[Candidate], resolved: set[tuple[str, str]]
) -> list[DuplicatePair]:
    groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in [*netsuite, *resolve_unlinked]:
        if (name := normalised_name(candidate.name)) is not None:
            groups[("business name", name)].append(candidate)
        if (email := normalised_email(candidate.email)) is not None:
            groups[("email", email)].append(candidate)
    pairs: dict[tuple[str, str], DuplicatePair] = {}
    for (matched_on, _), members in groups.items():
        if len(members) < 2 or all(m.linked for m in members):
            continue
        for i, left in enumerate(members):
            for right in members[i + 1 :]:
                if left.linked and right.linked:
                    continue
                if left.family is not None and left.family == right.family:
                    continue
                keys = sorted_pair(left.key, right.key)
                if keys in resolved or keys in pairs:
                    continue
                first, second = (left, right) if left.key < right.key else (right, left)
                pairs[keys] = DuplicatePair(first, second, matched_on)  # left is always keys[0]
    return sorted(pairs.values(), key=lambda p: p.keys)


def links_from_resolutions(resolutions: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """NetSuite id → Resolve customer id for pairs an operator linked (the sync links instead of creating)."""
    links: dict[str, str] = {}
    for (left, right), resolution in resolutions.items():
        if resolution != Resolution.LINKED:
            continue
        netsuite = next((k for k in (left, right) if k.startswith("netsuite:")), None)
        resolve = next((k for k in (left, right) if k.startswith("resolve:")), None)
        if netsuite and resolve:
            links[netsuite.split(":", 1)[1]] = resolve.split(":", 1)[1]
    return links


def resolution_commands(merchant_id: str, pair: DuplicatePair) -> str:
    """The commands that resolve one pair, runnable as printed. Two NetSuite customers can only be marked
    distinct (if they are one customer, merge them in NetSuite); a NetSuite and a Resolve customer can also
    be linked."""
    left, right = pair.keys
    distinct = (
        f"`resolve-sync duplicates distinct {merchant_id} {left} {right}` if they are different customers"
    )
    resolve = next((k for k in pair.keys if k.startswith("resolve:")), None)
    if resolve is None:
        return distinct + " (if they are one customer, merge them in NetSuite)"
    netsuite = left if resolve == right else right
    return f"`resolve-sync duplicates link {merchant_id} {netsuite} {resolve}` if they are one customer, or {distinct}"


def hold_back_duplicate(action: Action, pair: DuplicatePair | None, merchant_id: str) -> Action:
    """R12: the sync never creates a duplicate. A create that is part of an unresolved pair is held back
    with the pair and the commands that resolve it, even if the blocking check was bypassed."""
    if action.kind != Outcome.CREATED or pair is None:
        return action
    own_key = f"netsuite:{action.netsuite_id}"
    other = pair.right if pair.left.key == own_key else pair.left
    return Action(
        Outcome.HELD_BACK,
        RecordKind.CUSTOMER,
        action.netsuite_id,
        reason=(
            f"possible duplicate of {other.key} (same {pair.matched_on}); resolve with "
            f"{resolution_commands(merchant_id, pair)}"
        ),
        changed_this_run=action.changed_this_run,
    )


def pairs_by_netsuite_id(pairs: Iterable[DuplicatePair]) -> dict[str, DuplicatePair]:
    return {key.split(":", 1)[1]: pair for pair in pairs for key in pair.keys if key.startswith("netsuite:")}


def duplicates_error(merchant_id: str, pairs: list[DuplicatePair]) -> DuplicatesFound:
    listed = "; ".join(
        f"{p.left.key} ({p.left.name}) ~ {p.right.key} ({p.right.name}) by {p.matched_on}" for p in pairs[:20]
    )
    more = (
        f" (and {len(pairs) - 20} more: `resolve-sync duplicates list {merchant_id}`)"
        if len(pairs) > 20
        else ""
    )
    return DuplicatesFound(
        f"Merchant {merchant_id!r}: {len(pairs)} customer pair(s) would be duplicates in Resolve: {listed}{more}. "
        f"Resolve each pair, e.g. the first: {resolution_commands(merchant_id, pairs[0])}; then sync again.",
        merchant_id=merchant_id,
    )


# -- reading what the check needs from the store ----------------------------------------------------------


def resolutions(source: Source, merchant_id: str) -> dict[tuple[str, str], str]:
    return {(r.left_key, r.right_key): r.resolution for r in list_resolutions(source, merchant_id)}


def duplicate_pairs(
    source: Source,
    connection: Connection,
    facts: Mapping[str, CustomerFacts] | None = None,
    ancestry: Mapping[str, Ancestry] | None = None,
) -> list[DuplicatePair]:
    """R12 over everything in scope now (not only what changed): the check the run blocks on."""
    reads = as_reads(source)
    if facts is None:
        facts = customer_facts(reads, connection)
    if ancestry is None:
        ancestry = top_level_ancestors({k: f.parent_id for k, f in facts.items()})
    linked = set(customer_owners(reads, connection))
    staged = reads.rows(
        "SELECT netsuite_id, companyname, email FROM netsuite_staged_customers "
        "WHERE connection_id = :connection AND in_scope = :in_scope",
        {"connection": connection.id, "in_scope": True},
    )
    netsuite = [
        Candidate(
            f"netsuite:{netsuite_id}",
            name,
            email,
            netsuite_id in linked,
            (ancestry.get(netsuite_id) or Ancestry(None)).top_level_id,
        )
        for netsuite_id, name, email in staged
        if facts[netsuite_id].filter_checked is not False
    ]
    unlinked = reads.rows(
        "SELECT c.id, c.business_name, c.email FROM resolve_customers c WHERE c.merchant_id = :merchant "
        "AND NOT EXISTS (SELECT 1 FROM netsuite_customer_links l WHERE l.resolve_customer_id = c.id)",
        {"merchant": connection.merchant_id},
    )
    resolve = [Candidate(f"resolve:{resolve_id}", name, email) for resolve_id, name, email in unlinked]
    return find_duplicates(netsuite, resolve, set(resolutions(reads, connection.merchant_id)))
