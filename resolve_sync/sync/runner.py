"""One whole sync of one connection, in order: validate, extract customers, check duplicates, extract
invoices, apply. The Dagster assets run the same steps one by one; the CLI's --local and tests run this."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from resolve_sync.netsuite.client import NetSuiteClient
from resolve_sync.store.connections import Connection
from resolve_sync.sync.apply import apply_run, duplicate_pairs, fail_run, finish_run
from resolve_sync.sync.errors import DuplicatesFound, StoreUnavailable
from resolve_sync.sync.extract import (
    RunContext,
    extract_customers,
    extract_invoices,
    resolve_subsidiary,
    start_run,
    validate_filter_field,
)

COUNT_NAMES = (
    "read",
    "created",
    "updated",
    "unchanged",
    "archived",
    "unarchived",
    "frozen",
    "held_back",
    "invalid",
    "skipped",
    "netsuite_requests",
    "retries",
)


@dataclass
class RunReport:
    run_id: int
    mode: str
    counts: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)


def report_counts(
    applied: Counter[str], extracted: dict[str, int], client_stats: dict[str, int]
) -> dict[str, Any]:
    counts: dict[str, Any] = {name: 0 for name in COUNT_NAMES}
    counts.update(applied)
    counts.update(extracted)
    counts["read"] = extracted.get("customers_read", 0) + extracted.get("invoices_read", 0)
    counts["netsuite_requests"] = client_stats.get("requests", 0)
    counts["retries"] = client_stats.get("retries", 0)
    return counts


def prepare(
    client: NetSuiteClient,
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool = False,
    dagster_run_id: str | None = None,
) -> RunContext:
    """R2 and R11 first: a wrong subsidiary or filter field fails before a run or a record is written."""
    subsidiary_id = resolve_subsidiary(client, connection)
    validate_filter_field(client, connection)
    return start_run(
        engine,
        connection,
        as_of=as_of,
        full_refresh=full_refresh,
        subsidiary_id=subsidiary_id,
        dagster_run_id=dagster_run_id,
    )


def check_duplicates(engine: Engine, ctx: RunContext) -> None:
    pairs = duplicate_pairs(engine, ctx.connection)
    if pairs:
        listed = "; ".join(
            f"{p.left.key} ({p.left.name}) ~ {p.right.key} ({p.right.name}) by {p.matched_on}"
            for p in pairs[:20]
        )
        raise DuplicatesFound(
            f"Merchant {ctx.connection.merchant_id!r}: {len(pairs)} customer pair(s) would be duplicates in "
            f"Resolve: {listed}. Resolve each with `resolve-sync duplicates link|distinct "
            f"{ctx.connection.merchant_id} LEFT RIGHT`, then sync again."
        )


def store_unavailable(engine: Engine, ctx: RunContext, error: DBAPIError) -> StoreUnavailable:
    """A clear error for a database that failed mid-run (and a best effort to record it)."""
    where = engine.url.render_as_string(hide_password=True)
    unavailable = StoreUnavailable(
        f"Merchant {ctx.connection.merchant_id!r}: the Resolve store ({where}) failed during the sync "
        f"({type(error.orig).__name__ if error.orig else type(error).__name__}). Batches committed before it stand "
        "and nothing is half-written; run the sync again once the database is back."
    )
    with contextlib.suppress(Exception):
        fail_run(engine, ctx.run_id, unavailable)
    return unavailable


def run_sync(
    client: NetSuiteClient,
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool = False,
    dagster_run_id: str | None = None,
) -> RunReport:
    ctx = prepare(
        client, engine, connection, as_of=as_of, full_refresh=full_refresh, dagster_run_id=dagster_run_id
    )
    extracted: dict[str, int] = {}
    try:
        extracted.update(extract_customers(client, engine, ctx))
        check_duplicates(engine, ctx)
        extracted.update(extract_invoices(client, engine, ctx))
        applied = apply_run(engine, ctx)
        counts = report_counts(applied, extracted, client.stats.as_dict())
        finish_run(engine, ctx, counts)
    except DBAPIError as error:
        raise store_unavailable(engine, ctx, error) from None
    except BaseException as error:
        fail_run(engine, ctx.run_id, error, report_counts(Counter(), extracted, client.stats.as_dict()))
        raise
    return RunReport(ctx.run_id, ctx.mode, counts)
