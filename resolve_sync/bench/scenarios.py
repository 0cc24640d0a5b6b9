"""Benchmark scenarios. Every figure that matters is a ratio against a reference measured in the same run,
beside it, because absolute times on shared machines drift."""

from __future__ import annotations

import datetime as dt
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, insert, select, text

from resolve_sync.netsuite import build_client
from resolve_sync.netsuite.client import NetSuiteClient, RetryPolicy
from resolve_sync.netsuite.queries import customer_scan
from resolve_sync.netsuite.scan import full_scan
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync.store.connections import Connection, add_connection
from resolve_sync.store.database import create_store_engine
from resolve_sync.store.migrations import upgrade
from resolve_sync.store.models import ResolveCustomer, ResolveInvoice
from resolve_sync.store.secrets import SecretBox, generate_key
from resolve_sync.sync.steps import run_sync

ACCOUNT = "1234567_SB1"
TBA = {
    "consumer_key": "bench-ck",
    "consumer_secret": "bench-cs",
    "token_id": "bench-tk",
    "token_secret": "bench-ts",
}
ADMIN = "bench-admin-token-not-secret"
AS_OF = dt.date(2026, 11, 26)


@dataclass
class Result:
    name: str
    parameters: dict[str, Any]
    figures: dict[str, Any]
    reference: str
    ratio: float | None
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)


def _iter_customers(n: int, *, email: bool = True) -> Iterator[dict[str, Any]]:
    return (
        {
            "id": i,
            "entityid": f"C{i}",
            "companyname": f"Company {i:07d}",
            **({"email": f"ap{i}@example{i % 97}.test"} if email else {}),
            "subsidiary": 2,
            "lastmodifieddate": f"2026-0{1 + i % 9}-1{i % 10}T10:{i % 60:02d}:00",
        }
        for i in range(1, n + 1)
    )


def _iter_invoices(n: int, customers: int) -> Iterator[dict[str, Any]]:
    return (
        {
            "id": i,
            "tranid": f"INV{i:08d}",
            "trandate": (AS_OF - dt.timedelta(days=i % 330)).isoformat(),
            "duedate": (AS_OF - dt.timedelta(days=i % 330) + dt.timedelta(days=30)).isoformat(),
            "entity": 1 + i % customers,
            "subsidiary": 2,
            "status": "A" if i % 3 else "B",
            "currency": "USD",
            "foreigntotal": 100 + i % 900,
            "foreignamountunpaid": 0 if i % 3 == 0 else 100 + i % 900,
            "lastmodifieddate": f"2026-0{1 + i % 9}-1{i % 10}T11:{i % 60:02d}:00",
        }
        for i in range(1, n + 1)
    )


def _customers(n: int, *, email: bool = True) -> list[dict[str, Any]]:
    return list(_iter_customers(n, email=email))


def _invoices(n: int, customers: int) -> list[dict[str, Any]]:
    return list(_iter_invoices(n, customers))


def account(customers: list[dict], invoices: list[dict], *, limit: int = 5, latency_ms: float = 0) -> dict:
    return {
        "account_id": ACCOUNT,
        "timezone": "America/New_York",
        "concurrency_limit": limit,
        "admin_token": ADMIN,
        "credentials": {"tba": [TBA], "oauth2_m2m": []},
        "subsidiaries": [{"id": 1, "name": "Parent"}, {"id": 2, "name": "US", "parent": 1}],
        "customers": customers,
        "invoices": invoices,
        "latency": {"per_request_ms": latency_ms},
    }


def _client(server: SandboxServer, limit: int) -> NetSuiteClient:
    return build_client(
        ACCOUNT,
        "tba",
        TBA,
        base_url=server.base_url,
        concurrency_limit=limit,
        retry=RetryPolicy(attempts=8, initial_seconds=0.2, max_wait_seconds=2),
    )


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


# -- 1 and 2: extraction ---------------------------------------------------------------------------------


def extraction_vs_bound(rows: int, limits: tuple[int, ...], latency_ms: float = 250) -> list[Result]:
    results = []
    for limit in limits:
        with (
            RemoteSandbox(
                account(_customers(rows, email=False), [], limit=limit, latency_ms=latency_ms)
            ) as server,
            _client(server, limit) as client,
        ):
            elapsed, seen = _timed(
                lambda: sum(
                    len(p) for p in full_scan(client, customer_scan(subsidiary_id=None, filter_field_id=None))
                )
            )
            bound = math.ceil(rows / 1000) / limit * latency_ms / 1000
            ratio = elapsed / bound
            results.append(
                Result(
                    "extraction_vs_governance_bound",
                    {"rows": rows, "latency_ms": latency_ms, "limit": limit},
                    {
                        "elapsed_s": round(elapsed, 2),
                        "bound_s": round(bound, 2),
                        "rows_read": seen,
                        "requests": client.stats.requests,
                    },
                    "ceil(rows/1000)/limit x latency",
                    round(ratio, 3),
                    "<= 1.2x",
                    ratio <= 1.2,
                )
            )
    return results


def extraction_vs_peers(
    rows: int, per_record_sample: int, latency_ms: float = 250, limit: int = 5
) -> list[Result]:
    with RemoteSandbox(
        account(_customers(rows, email=False), [], limit=limit, latency_ms=latency_ms)
    ) as server:
        with _client(server, limit) as client:
            ours_s, ours_rows = _timed(
                lambda: sum(
                    len(p) for p in full_scan(client, customer_scan(subsidiary_id=None, filter_field_id=None))
                )
            )
            ours_requests = client.stats.requests
        with _client(server, 1) as client:

            def sequential() -> int:  # offset paging, one page at a time, as most scripts page
                read, offset = 0, 0
                while offset < 100_000:
                    page = client.suiteql(
                        "SELECT id, companyname FROM customer ORDER BY id", limit=1000, offset=offset
                    )
                    read += len(page.items)
                    if not page.has_more:
                        break
                    offset += 1000
                return read

            seq_s, seq_rows = _timed(sequential)
        with _client(server, limit) as client:

            def per_record() -> int:  # list ids, then one request per record (Airbyte's connector)
                ids = [
                    r["id"]
                    for r in client.suiteql(
                        f"SELECT id FROM customer WHERE id <= {per_record_sample} ORDER BY id", limit=1000
                    ).items
                ]
                for record_id in ids:
                    client.suiteql(f"SELECT id, companyname FROM customer WHERE id = {record_id}", limit=1)
                return len(ids)

            rec_s, rec_rows = _timed(per_record)
    per_row_ours, per_row_seq = ours_s / ours_rows, seq_s / seq_rows
    speedup = per_row_seq / per_row_ours
    per_record_requests = rows + math.ceil(rows / 1000)
    fewer = per_record_requests / ours_requests
    notes = []
    if seq_rows < rows:
        notes.append(f"the offset pager stops at {seq_rows:,} rows: SuiteQL serves at most 100,000 by offset")
    return [
        Result(
            "extraction_vs_sequential_offset_pager",
            {"rows": rows, "latency_ms": latency_ms, "limit": limit},
            {
                "ours_s": round(ours_s, 2),
                "ours_rows": ours_rows,
                "sequential_s": round(seq_s, 2),
                "sequential_rows": seq_rows,
            },
            "time per row of a sequential offset pager",
            round(speedup, 2),
            ">= 4x faster",
            speedup >= 4,
            notes,
        ),
        Result(
            "extraction_vs_per_record_fetch",
            {"rows": rows, "sample": per_record_sample},
            {
                "ours_requests": ours_requests,
                "per_record_requests": per_record_requests,
                "per_record_sample_s": round(rec_s, 2),
                "per_record_sample_rows": rec_rows,
                "per_record_projected_s": round(rec_s / rec_rows * rows, 1),
            },
            "requests of list-ids-then-fetch-each",
            round(fewer, 1),
            ">= 100x fewer requests",
            fewer >= 100,
            [f"per-record time measured on {rec_rows} records and projected to {rows:,}"],
        ),
    ]


# -- 3 to 5: apply, no-change and 1 % change -------------------------------------------------------------


def _store(url: str) -> Engine:
    engine = create_store_engine(url)
    upgrade(engine)
    return engine


def _connection(engine: Engine, server: SandboxServer) -> Connection:
    return add_connection(
        engine,
        SecretBox([generate_key().encode()]),
        merchant_id="bench",
        netsuite_account_id=ACCOUNT,
        auth_kind="tba",
        credentials=TBA,
        subsidiary_id=2,
        base_url=server.base_url,
        account_timezone="America/New_York",
    )


def _sync(engine: Engine, server: SandboxServer, connection: Connection) -> Any:
    with _client(server, 5) as client:
        return run_sync(client, engine, connection, as_of=AS_OF)


def _raw_insert_seconds(source: Engine, target_url: str) -> float:
    """The reference: the same final rows bulk-inserted into an empty store of the same kind."""
    target = _store(target_url)
    with source.connect() as db:
        customers = [dict(r._mapping) for r in db.execute(select(ResolveCustomer.__table__))]
        invoices = [dict(r._mapping) for r in db.execute(select(ResolveInvoice.__table__))]
    start = time.perf_counter()
    with target.begin() as db:
        for chunk in range(0, len(customers), 5000):
            db.execute(insert(ResolveCustomer.__table__), customers[chunk : chunk + 5000])
        for chunk in range(0, len(invoices), 5000):
            db.execute(insert(ResolveInvoice.__table__), invoices[chunk : chunk + 5000])
    return time.perf_counter() - start


class RemoteSandbox:
    """The sandbox in its own process, as NetSuite would be: its CPU does not compete with the sync's."""

    def __init__(self, raw: dict[str, Any] | tuple[int, int]) -> None:
        """`raw` is a fixture dict, or (customers, invoices) to stream one to disk without holding it."""
        import json

        self._folder = tempfile.TemporaryDirectory()
        fixture = Path(self._folder.name) / "account.json"
        if isinstance(raw, tuple):
            write_account(fixture, *raw)
        else:
            fixture.write_text(json.dumps(raw))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "resolve_sync.cli", "sandbox", "serve", str(fixture)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._process.stdout.readline().strip()  # type: ignore[union-attr]

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait()
        self._folder.cleanup()


def apply_scenarios(customers: int, invoices: int, url: str, raw_url: str, engine_name: str) -> list[Result]:
    raw = account(_customers(customers), _invoices(invoices, customers))
    results = []
    with RemoteSandbox(raw) as server:
        engine = _store(url)
        connection = _connection(engine, server)
        first_s, first = _timed(lambda: _sync(engine, server, connection))
        raw_s = _raw_insert_seconds(engine, raw_url)
        ratio = first_s / raw_s
        results.append(
            Result(
                "apply_vs_raw_insert",
                {"customers": customers, "invoices": invoices, "database": engine_name},
                {"sync_s": round(first_s, 2), "raw_insert_s": round(raw_s, 2), "created": first["created"]},
                "raw bulk insert of the same rows",
                round(ratio, 2),
                "<= 3x (the sync includes reading NetSuite)",
                ratio <= 3,
            )
        )
        again_s, again = _timed(lambda: _sync(engine, server, connection))
        requests_per_kind = again["netsuite_requests"] / 2
        results.append(
            Result(
                "nightly_no_change",
                {"customers": customers, "invoices": invoices, "database": engine_name},
                {
                    "elapsed_s": round(again_s, 2),
                    "rows_written": again["written"],
                    "netsuite_requests": again["netsuite_requests"],
                },
                "the initial sync's elapsed time",
                round(again_s / first_s, 3),
                "0 writes, <= 3 requests per record kind",
                again["written"] == 0 and requests_per_kind <= 3,
            )
        )
        changed_customers, changed_invoices = max(1, customers // 100), max(1, invoices // 100)
        control = httpx.Client(
            base_url=server.base_url, headers={"X-Sandbox-Admin-Token": ADMIN}, timeout=300
        )
        control.post("/_sandbox/clock", json={"now": "2026-11-26T09:00:00"})
        control.post(
            "/_sandbox/records/customers",
            json={
                "records": [
                    {**c, "companyname": c["companyname"] + " (renamed)", "lastmodifieddate": None}
                    for c in _customers(customers)[:changed_customers]
                ]
            },
        )
        control.post(
            "/_sandbox/records/invoices",
            json={
                "records": [
                    {**i, "foreignamountunpaid": 0, "status": "B", "lastmodifieddate": None}
                    for i in _invoices(invoices, customers)[1 : 1 + changed_invoices * 3 : 3]
                ]
            },
        )
        change_s, change = _timed(lambda: _sync(engine, server, connection))
        expected = changed_customers + len(_invoices(invoices, customers)[1 : 1 + changed_invoices * 3 : 3])
        results.append(
            Result(
                "nightly_one_percent_change",
                {"customers": customers, "invoices": invoices, "database": engine_name},
                {
                    "elapsed_s": round(change_s, 2),
                    "updated": change["updated"],
                    "changed_in_netsuite": expected,
                },
                "the initial sync's elapsed time",
                round(change_s / first_s, 3),
                "rows written = rows changed; grows with the change",
                change["updated"] == expected,
            )
        )
        engine.dispose()
    return results


# -- 6: memory ---------------------------------------------------------------------------------------------


def memory(customers: int, invoice_sizes: tuple[int, ...]) -> Result:
    peaks = {}
    for invoices in invoice_sizes:
        probe = subprocess.run(
            [sys.executable, "-m", "resolve_sync.bench.memory_probe", str(customers), str(invoices)],
            capture_output=True,
            text=True,
        )
        if probe.returncode != 0:
            raise RuntimeError(
                f"memory probe ({customers} customers, {invoices} invoices) failed: "
                f"{probe.stderr.strip()[-400:]}"
            )
        output = probe.stdout
        peaks[invoices] = int(output.strip().splitlines()[-1])
    largest, smallest = max(invoice_sizes), min(invoice_sizes)
    growth = peaks[largest] / peaks[smallest]
    peak_mb = peaks[largest] / 1024
    return Result(
        "memory_peak_rss",
        {"customers": customers, "invoices": list(invoice_sizes)},
        {f"peak_mb_{n}": round(peaks[n] / 1024) for n in invoice_sizes},
        f"peak with {smallest:,} invoices",
        round(growth, 2),
        "<= 1.5 GB; flat or sub-linear growth",
        peak_mb <= 1536 and growth < largest / smallest,
        ["peak RSS of a whole sync process (sandbox in another process)"],
    )


def write_account(path: Path, customers: int, invoices: int) -> None:
    """The benchmark account written record by record, so the writer never holds it in memory."""
    import json

    header = {k: v for k, v in account([], []).items() if k not in ("customers", "invoices")}
    with open(path, "w") as out:
        out.write(json.dumps(header)[:-1])
        for name, records in (
            ("customers", _iter_customers(customers)),
            ("invoices", _iter_invoices(invoices, customers)),
        ):
            out.write(f', "{name}": [')
            for index, record in enumerate(records):
                out.write(("," if index else "") + json.dumps(record))
            out.write("]")
        out.write("}")


def memory_probe(customers: int, invoices: int) -> int:
    """Run in a child: the sandbox in a grand-child, the sync here; print our peak RSS in KiB."""
    with (
        RemoteSandbox((customers, invoices)) as server,
        tempfile.TemporaryDirectory() as folder,
    ):
        engine = _store(f"sqlite:///{folder}/store.db")
        _sync(engine, server, _connection(engine, server))  # type: ignore[arg-type]
    return peak_rss_kib()


def peak_rss_kib() -> int:
    """This process's own peak resident size (VmHWM). Not ru_maxrss: Linux carries that over from the
    parent across fork and exec, so a child of a large benchmark process would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- 7: orchestration ----------------------------------------------------------------------------------------


def orchestration(connections: int, sensor_connections: int) -> list[Result]:
    import dagster as dg

    from resolve_sync.defs.resources import StoreResource
    from resolve_sync.defs.schedules import nightly_sync
    from resolve_sync.defs.sensors import filter_field_sensor

    results = []
    with tempfile.TemporaryDirectory() as folder, dg.instance_for_test() as instance:
        engine = _store(f"sqlite:///{folder}/store.db")
        keys = _bulk_connections(engine, sensor_connections)
        instance.add_dynamic_partitions("connections", keys)
        store = StoreResource(database_url=f"sqlite:///{folder}/store.db")
        with engine.begin() as db:
            db.execute(text("UPDATE merchant_connections SET enabled = (id <= :n)"), {"n": connections})
        context = dg.build_schedule_context(
            instance=instance,
            resources={"store": store},
            scheduled_execution_time=dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC),
        )
        tick_s, requests = _timed(lambda: nightly_sync(context))
        results.append(
            Result(
                "nightly_sync_tick",
                {"connections": connections},
                {"tick_s": round(tick_s, 3), "run_requests": len(requests)},
                "target 2 s",
                round(tick_s / 2, 3),
                "<= 2 s",
                tick_s <= 2 and len(requests) == connections,
            )
        )
        with engine.begin() as db:
            db.execute(text("UPDATE merchant_connections SET enabled = 1"))
        first = filter_field_sensor(dg.build_sensor_context(instance=instance, resources={"store": store}))
        with engine.begin() as db:
            db.execute(text("UPDATE merchant_connections SET filter_field_id = 'custentity_x' WHERE id = 7"))
        context = dg.build_sensor_context(instance=instance, resources={"store": store}, cursor=first.cursor)
        tick_s, result = _timed(lambda: filter_field_sensor(context))
        results.append(
            Result(
                "filter_field_sensor_tick",
                {"connections": sensor_connections, "changed": 1},
                {"tick_s": round(tick_s, 3), "run_requests": len(result.run_requests or [])},
                "target 1 s",
                round(tick_s, 3),
                "<= 1 s",
                tick_s <= 1 and len(result.run_requests) == 1,
            )
        )
    return results


def _bulk_connections(engine: Engine, count: int) -> list[str]:
    box = SecretBox([generate_key().encode()])
    token = box.encrypt(TBA)
    from resolve_sync.store.models import MerchantConnection, utcnow

    now = utcnow()
    rows = [
        {
            "merchant_id": f"m{i:05d}",
            "partition_key": f"m{i:05d}|2",
            "netsuite_account_id": f"{1000000 + i}",
            "auth_kind": "tba",
            "credentials_encrypted": token,
            "subsidiary_id": 2,
            "account_timezone": "UTC",
            "enabled": True,
            "bookkeeping_account_ids": {},
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, count + 1)
    ]
    with engine.begin() as db:
        db.execute(insert(MerchantConnection.__table__), rows)
        assert db.scalar(select(func.count()).select_from(MerchantConnection)) == count
    return [r["partition_key"] for r in rows]


def postgres_url() -> str | None:
    """A scratch PostgreSQL database for the benchmark, when a server answers."""
    admin_url = os.environ.get(
        "RESOLVE_SYNC_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    try:
        from sqlalchemy import create_engine

        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as db:
            for name in ("resolve_sync_bench", "resolve_sync_bench_raw"):
                db.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                db.execute(text(f"CREATE DATABASE {name}"))
        return admin_url.rsplit("/", 1)[0] + "/resolve_sync_bench"
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL half is skipped and the report says so
        return None
