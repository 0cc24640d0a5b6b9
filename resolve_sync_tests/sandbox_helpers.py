"""Test helpers for talking to the sandbox as an outside client would: signing with oauthlib, not our code."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
import oauthlib.oauth1

ACCOUNT_ID = "1234567_SB1"
TBA = {
    "consumer_key": "ck-test",
    "consumer_secret": "cs-test-secret",
    "token_id": "tk-test",
    "token_secret": "ts-test-secret",
}
ADMIN_TOKEN = "admin-test-token"

BASE_FIXTURE: dict[str, Any] = {
    "account_id": ACCOUNT_ID,
    "timezone": "America/New_York",
    "date_format": "M/D/YYYY",
    "concurrency_limit": 5,
    "admin_token": ADMIN_TOKEN,
    "credentials": {"tba": [TBA], "oauth2_m2m": []},
    "subsidiaries": [
        {"id": 1, "name": "Parent Co", "parent": None, "currency": "USD"},
        {"id": 2, "name": "US", "parent": 1, "currency": "USD"},
        {"id": 3, "name": "Canada", "parent": 1, "currency": "CAD"},
        {"id": 9, "name": "Elimination", "parent": 1, "iselimination": True},
    ],
    "custom_fields": [
        {
            "scriptid": "custentity_sync_to_resolve",
            "label": "Sync to Resolve",
            "type": "checkbox",
            "applies_to": ["customer"],
        },
        {"scriptid": "custentity_region", "label": "Region", "type": "text", "applies_to": ["customer"]},
        {
            "scriptid": "custentity_vendor_only",
            "label": "Vendor flag",
            "type": "checkbox",
            "applies_to": ["vendor"],
        },
    ],
    "customers": [
        {
            "id": 10,
            "entityid": "C10",
            "companyname": "Acme Inc",
            "email": "ap@acme.test",
            "subsidiary": 2,
            "datecreated": "2025-01-05T09:00:00",
            "lastmodifieddate": "2026-03-02T10:15:30",
            "custom": {"custentity_sync_to_resolve": True, "custentity_region": "West"},
        },
        {
            "id": 11,
            "entityid": "C10 : C11",
            "companyname": "Acme West",
            "parent": 10,
            "subsidiary": 2,
            "lastmodifieddate": "2026-03-02T10:15:30",
        },
        {
            "id": 12,
            "entityid": "C12",
            "companyname": "Maple Ltd",
            "subsidiary": 3,
            "isinactive": True,
            "lastmodifieddate": "2026-03-03T23:59:59",
        },
    ],
    "customer_subsidiaries": [{"entity": 10, "subsidiary": 3, "isprimarysub": False}],
    "invoices": [
        {
            "id": 100,
            "tranid": "INV100",
            "trandate": "2026-02-01",
            "duedate": "2026-03-03",
            "entity": 10,
            "subsidiary": 2,
            "status": "A",
            "currency": "USD",
            "foreigntotal": 1500,
            "foreignamountunpaid": 1234.56,
            "lastmodifieddate": "2026-03-02T23:30:00",
        },
        {
            "id": 101,
            "tranid": "INV101",
            "trandate": "2024-01-10",
            "duedate": "2024-02-09",
            "entity": 11,
            "subsidiary": 2,
            "status": "B",
            "currency": "USD",
            "foreigntotal": 99.5,
            "foreignamountunpaid": 0,
        },
        {
            "id": 102,
            "tranid": "INV102",
            "trandate": "2026-01-15",
            "entity": 12,
            "subsidiary": 3,
            "status": "V",
            "currency": "CAD",
            "foreigntotal": 250,
            "foreignamountunpaid": 0,
        },
    ],
    "accounts": [
        {
            "id": 1,
            "acctnumber": "1100",
            "accountsearchdisplayname": "1100 Accounts Receivable",
            "accttype": "AcctRec",
            "subsidiaries": [1, 2, 3],
        },
        {
            "id": 2,
            "acctnumber": "1000",
            "accountsearchdisplayname": "1000 Cash CA",
            "accttype": "Bank",
            "subsidiaries": [3],
        },
    ],
}


def fixture_dict(**overrides: Any) -> dict[str, Any]:
    fixture = copy.deepcopy(BASE_FIXTURE)
    fixture.update(overrides)
    return fixture


class OAuthlibTBA(httpx.Auth):
    """NetSuite token-based auth signed by oauthlib's own client (HMAC-SHA256, realm = account id)."""

    def __init__(
        self,
        credentials: dict[str, str] = TBA,
        realm: str = ACCOUNT_ID,
        timestamp: str | None = None,
        nonce: str | None = None,
    ) -> None:
        self.credentials, self.realm, self.timestamp, self.nonce = credentials, realm, timestamp, nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        client = oauthlib.oauth1.Client(
            self.credentials["consumer_key"],
            client_secret=self.credentials["consumer_secret"],
            resource_owner_key=self.credentials["token_id"],
            resource_owner_secret=self.credentials["token_secret"],
            signature_method=oauthlib.oauth1.SIGNATURE_HMAC_SHA256,
            realm=self.realm,
            timestamp=self.timestamp,
            nonce=self.nonce,
        )
        _, headers, _ = client.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def suiteql(
    client: httpx.Client, query: str, *, limit: int | None = None, offset: int | None = None
) -> httpx.Response:
    params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
    return client.post(
        "/services/rest/query/v1/suiteql", params=params, json={"q": query}, headers={"Prefer": "transient"}
    )


def admin(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"X-Sandbox-Admin-Token": ADMIN_TOKEN}, timeout=30)


def fast_retry(attempts: int = 8):
    """Backoff that keeps tests quick while exercising the same retry path."""
    from resolve_sync.netsuite.client import RetryPolicy

    return RetryPolicy(attempts=attempts, total_seconds=60, initial_seconds=0.01, max_wait_seconds=0.05)


def tba_client(
    server, *, credentials: dict[str, str] = TBA, limit: int = 5, pool=None, retry=None, timeout: float = 30.0
):
    from resolve_sync.netsuite import build_client

    return build_client(
        ACCOUNT_ID,
        "tba",
        credentials,
        base_url=server.base_url,
        concurrency_limit=limit,
        pool=pool,
        retry=retry or fast_retry(),
        timeout=timeout,
    )


def bulk_account(
    customers: int,
    invoices: int = 0,
    *,
    timestamps: int | None = None,
    with_email: bool = True,
    sub_customer_every: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The one builder of large accounts: `Company i` customers in subsidiary 2 (with `timestamps` distinct
    last-modified times, to exercise keyset paging), optional sub-customers, and invoices spread over them."""
    rows = []
    for i in range(1, customers + 1):
        row: dict[str, Any] = {
            "id": i,
            "entityid": f"C{i}",
            "companyname": f"Company {i}",
            "subsidiary": 2,
            "lastmodifieddate": f"2026-03-0{1 + i % timestamps}T12:00:00"
            if timestamps
            else "2026-06-01T10:00:00",
        }
        if with_email:
            row["email"] = f"ap{i}@c{i}.test"
        if sub_customer_every and i % sub_customer_every == 0:
            row["parent"] = i - 1
        rows.append(row)
    invoice_rows = [
        {
            "id": i,
            "tranid": f"INV{i}",
            "trandate": "2026-05-01",
            "duedate": "2026-06-01",
            "entity": 1 + i % customers,
            "subsidiary": 2,
            "status": "A",
            "currency": "USD",
            "foreigntotal": 100 + i,
            "foreignamountunpaid": 100 + i,
        }
        for i in range(1, invoices + 1)
    ]
    return fixture_dict(customers=rows, customer_subsidiaries=[], invoices=invoice_rows, **overrides)


def many_customers_fixture(n: int, *, timestamps: int = 3, **overrides: Any) -> dict[str, Any]:
    return bulk_account(n, timestamps=timestamps, with_email=False, **overrides)


def cli_connection_args(
    server: Any, merchant: str = "acme", *, subsidiary: str = "2", credentials: dict[str, str] | None = None
) -> list[str]:
    """`resolve-sync connections add …` for a TBA connection to the sandbox, as an operator types it: the
    secrets in files readable only by their owner (`--consumer-secret-file …`), never on the command line."""
    secrets = credentials or TBA
    folder = Path(tempfile.mkdtemp(prefix=f"ns-secrets-{merchant}-"))
    args = []
    for name, value in secrets.items():
        path = folder / name
        path.touch(mode=0o600)
        path.write_text(value + "\n")
        args += [f"--{name.replace('_', '-')}-file", str(path)]
    return [
        "connections",
        "add",
        merchant,
        "--account",
        ACCOUNT_ID,
        "--subsidiary",
        subsidiary,
        "--base-url",
        server.base_url,
        "--timezone",
        server.fixture.timezone,
        *args,
    ]
