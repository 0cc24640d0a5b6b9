"""R12: customers that would be duplicates in Resolve, found before anything is written.

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
                pairs[keys] = DuplicatePair(left, right, matched_on)
    return sorted(pairs.values(), key=lambda p: p.keys)


def links_from_resolutions(resolutions: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """NetSuite id → Resolve customer id for pairs an operator linked (the sync links instead of creating)."""
    links: dict[str, str] = {}
    for (left, right), resolution in resolutions.items():
        if resolution != "linked":
            continue
        netsuite = next((k for k in (left, right) if k.startswith("netsuite:")), None)
        resolve = next((k for k in (left, right) if k.startswith("resolve:")), None)
        if netsuite and resolve:
            links[netsuite.split(":", 1)[1]] = resolve.split(":", 1)[1]
    return links
