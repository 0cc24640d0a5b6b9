"""Demo data: a realistic, deterministic NetSuite account written straight to a fixture file.

Records are generated and written one at a time, so 100k customers and 1M invoices fit in little memory;
only a few integers per customer (its subsidiaries and depth) are kept to make consistent invoices.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from array import array
from pathlib import Path
from typing import IO, Any

from faker import Faker

SUBSIDIARIES = [
    {
        "id": 1,
        "name": "Holdings Inc",
        "parent": None,
        "isinactive": False,
        "iselimination": False,
        "currency": "USD",
    },
    {
        "id": 2,
        "name": "US Operations",
        "parent": 1,
        "isinactive": False,
        "iselimination": False,
        "currency": "USD",
    },
    {"id": 3, "name": "Canada", "parent": 1, "isinactive": False, "iselimination": False, "currency": "CAD"},
    {
        "id": 4,
        "name": "United Kingdom",
        "parent": 1,
        "isinactive": False,
        "iselimination": False,
        "currency": "GBP",
    },
    {
        "id": 5,
        "name": "Consolidation Elimination",
        "parent": 1,
        "isinactive": False,
        "iselimination": True,
        "currency": "USD",
    },
]
OPERATING_SUBSIDIARIES = [2, 3, 4]
SUBSIDIARY_WEIGHTS = [0.7, 0.18, 0.12]
CURRENCY_BY_SUBSIDIARY = {1: "USD", 2: "USD", 3: "CAD", 4: "GBP", 5: "USD"}
CUSTOM_FIELDS = [
    {
        "scriptid": "custentity_sync_to_resolve",
        "label": "Sync to Resolve",
        "type": "checkbox",
        "applies_to": ["customer"],
    },
    {
        "scriptid": "custentity_key_account",
        "label": "Key Account",
        "type": "checkbox",
        "applies_to": ["customer"],
    },
    {
        "scriptid": "custentity_vendor_flag",
        "label": "Preferred Vendor",
        "type": "checkbox",
        "applies_to": ["vendor"],
    },
    {"scriptid": "custentity_region", "label": "Sales Region", "type": "text", "applies_to": ["customer"]},
    {"scriptid": "custentity_onboarded", "label": "Onboarded On", "type": "date", "applies_to": ["customer"]},
    {
        "scriptid": "custbody_po_reference",
        "label": "PO Reference",
        "type": "text",
        "applies_to": ["transaction"],
    },
]
ACCOUNTS = [
    (100, "1000", "Operating Cash", "Bank", [1, 2]),
    (101, "1010", "Canadian Cash", "Bank", [3]),
    (102, "1020", "UK Cash", "Bank", [4]),
    (110, "1100", "Accounts Receivable", "AcctRec", [1, 2, 3, 4]),
    (111, "1150", "Resolve Receivable", "AcctRec", [2]),
    (120, "1200", "Undeposited Funds", "OthCurrAsset", [1, 2, 3, 4]),
    (200, "2000", "Accounts Payable", "AcctPay", [1, 2, 3, 4]),
    (400, "4000", "Sales", "Income", [1, 2, 3, 4]),
    (410, "4100", "Services Revenue", "Income", [2, 3]),
    (600, "6000", "Bank Fees", "Expense", [1, 2, 3, 4]),
    (610, "6100", "Resolve Fees", "Expense", [2]),
    (620, "6200", "Old Fees (inactive)", "Expense", [2]),
]
REGIONS = ["West", "East", "Central", "North", "South"]
LEGAL_SUFFIXES = ["Inc", "Inc.", "LLC", "Ltd", "Corp", "GmbH", "Co."]


def generate_fixture(
    path: str | Path,
    *,
    customers: int,
    invoices: int,
    seed: int = 1,
    as_of: dt.date | None = None,
    timezone: str = "America/Los_Angeles",
    concurrency_limit: int = 5,
) -> dict[str, int]:
    """Write a fixture to `path`; returns the counts written."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    as_of = as_of or dt.date.today()
    secret = random.Random(f"credentials:{seed}")
    token = lambda n: "".join(secret.choice("0123456789abcdef") for _ in range(n))  # noqa: E731
    header = {
        "account_id": "1234567_SB1",
        "timezone": timezone,
        "date_format": "M/D/YYYY",
        "concurrency_limit": concurrency_limit,
        "admin_token": token(32),
        "credentials": {
            "tba": [
                {
                    "consumer_key": token(64),
                    "consumer_secret": token(64),
                    "token_id": token(64),
                    "token_secret": token(64),
                }
            ],
            "oauth2_m2m": [],
        },
        "generated": {"seed": seed, "as_of": as_of.isoformat(), "customers": customers, "invoices": invoices},
    }
    primary = array("b", [0]) * (customers + 1)
    extra = array("b", [0]) * (customers + 1)
    with open(path, "w") as out:
        out.write(json.dumps(header)[:-1])
        _write_list(out, "subsidiaries", SUBSIDIARIES)
        _write_list(out, "custom_fields", CUSTOM_FIELDS)
        _write_list(
            out,
            "accounts",
            (
                {
                    "id": i,
                    "acctnumber": n,
                    "accountsearchdisplayname": f"{n} {name}",
                    "accttype": t,
                    "isinactive": "inactive" in name,
                    "subsidiaries": subs,
                }
                for i, n, name, t, subs in ACCOUNTS
            ),
        )
        _write_list(out, "customers", _customers(rng, fake, customers, as_of, primary, extra))
        _write_list(
            out,
            "customer_subsidiaries",
            (
                {"entity": cid, "subsidiary": int(extra[cid]), "isprimarysub": False}
                for cid in range(1, customers + 1)
                if extra[cid]
            ),
        )
        _write_list(out, "invoices", _invoices(rng, invoices, customers, as_of, primary, extra))
        out.write("}\n")
    return {
        "customers": customers,
        "invoices": invoices,
        "customer_subsidiaries": sum(1 for c in range(1, customers + 1) if extra[c]),
    }


def _write_list(out: IO[str], name: str, records: Any) -> None:
    out.write(f', "{name}": [')
    for index, record in enumerate(records):
        out.write((",\n" if index else "\n") + json.dumps(record, separators=(",", ":")))
    out.write("]")


def _stamp(day: dt.date, rng: random.Random) -> str:
    return dt.datetime.combine(
        day, dt.time(rng.randrange(7, 20), rng.randrange(60), rng.randrange(60))
    ).isoformat()


def _customers(rng: random.Random, fake: Faker, count: int, as_of: dt.date, primary: array, extra: array):
    depth = array("b", [0]) * (count + 1)
    names: list[str] = []
    emails: list[str] = []
    seen_names: set[str] = set()
    seen_domains: set[str] = set()
    for cid in range(1, count + 1):
        parent = None
        if cid > 10 and rng.random() < 0.15:
            candidate = rng.randrange(max(1, cid - 500), cid)
            if depth[candidate] < 3:
                parent = candidate
                depth[cid] = depth[candidate] + 1
        subsidiary = primary[parent] if parent else rng.choices(OPERATING_SUBSIDIARIES, SUBSIDIARY_WEIGHTS)[0]
        primary[cid] = subsidiary
        if rng.random() < 0.08:
            extra[cid] = rng.choice([s for s in OPERATING_SUBSIDIARIES if s != subsidiary])
        roll = rng.random()
        if names and roll < 0.01:  # an intended near-duplicate: the same name in other case and punctuation
            base = rng.choice(names[-200:])
            company = base.upper().replace(",", "") if rng.random() < 0.5 else base.replace(" ", "  ") + "."
        else:
            company = _unique_company(rng, fake, seen_names)
        names.append(company)
        if names and 0.01 <= roll < 0.015 and emails:  # an intended shared billing email (a pair)
            email = emails.pop(rng.randrange(len(emails)))
        else:
            email = f"ap@{_unique_domain(fake, seen_domains)}"
            emails.append(email)
            del emails[:-200]
        created = as_of - dt.timedelta(days=rng.randrange(30, 2000))
        modified = min(as_of - dt.timedelta(days=1), created + dt.timedelta(days=rng.randrange(0, 900)))
        record = {
            "id": cid,
            "entityid": f"CUST{cid:07d}" if parent is None else f"CUST{parent:07d} : CUST{cid:07d}",
            "companyname": company,
            "email": None if rng.random() < 0.01 else email,  # ~1 % missing: Resolve needs one
            "phone": fake.numerify("###-###-####"),
            "isinactive": rng.random() < 0.05,
            "parent": parent,
            "subsidiary": subsidiary,
            "datecreated": _stamp(created, rng),
            "lastmodifieddate": _stamp(modified, rng),
            "custom": {
                "custentity_sync_to_resolve": rng.random() < 0.7,
                "custentity_key_account": rng.random() < 0.1,
                "custentity_region": rng.choice(REGIONS),
                "custentity_onboarded": created.isoformat(),
            },
        }
        yield record


def _unique_company(rng: random.Random, fake: Faker, seen: set[str]) -> str:
    """A company name no other generated customer shares once normalised (so duplicates are only the
    intended ones)."""
    from resolve_sync.sync.duplicates import normalised_name

    for attempt in range(20):
        company = fake.company()
        if rng.random() < 0.3:
            company = f"{company.split(',')[0]} {rng.choice(LEGAL_SUFFIXES)}"
        if attempt > 5:
            company = f"{company} {fake.city()}"
        key = normalised_name(company) or company
        if key not in seen:
            seen.add(key)
            return company
    company = f"{fake.company()} {len(seen)}"
    seen.add(normalised_name(company) or company)
    return company


def _unique_domain(fake: Faker, seen: set[str]) -> str:
    domain = fake.domain_name()
    while domain in seen:
        domain = fake.domain_name(levels=2)
    seen.add(domain)
    return domain


def _invoices(rng: random.Random, count: int, customers: int, as_of: dt.date, primary: array, extra: array):
    for iid in range(1, count + 1):
        entity = rng.randrange(1, customers + 1)
        subsidiary = int(extra[entity]) if extra[entity] and rng.random() < 0.3 else int(primary[entity])
        trandate = as_of - dt.timedelta(days=rng.randrange(0, 548))  # 18 months
        terms = rng.choice([15, 30, 30, 30, 45, 60])
        total = round(rng.uniform(50, 25_000), 2)
        status = rng.choices(["A", "B", "V", "D"], [0.35, 0.58, 0.04, 0.03])[0]
        if status == "A":
            unpaid = total if rng.random() < 0.7 else round(total * rng.uniform(0.1, 0.9), 2)
        else:
            unpaid = 0.0 if status in ("B", "V") else total
        modified = min(as_of, trandate + dt.timedelta(days=rng.randrange(0, 60)))
        yield {
            "id": iid,
            "tranid": f"INV{iid:08d}",
            "trandate": trandate.isoformat(),
            "duedate": (trandate + dt.timedelta(days=terms)).isoformat(),
            "entity": entity,
            "subsidiary": subsidiary,
            "status": status,
            "currency": CURRENCY_BY_SUBSIDIARY[subsidiary],
            "foreigntotal": total,
            "foreignamountunpaid": unpaid,
            "memo": None,
            "createddate": _stamp(trandate, rng),
            "lastmodifieddate": _stamp(modified, rng),
        }
