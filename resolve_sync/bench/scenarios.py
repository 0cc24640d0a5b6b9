"""Benchmark scenarios. Every figure that matters is a ratio against a reference measured in the same run,
beside it, because absolute times on shared machines drift."""

from __future__ import annotations

import datetime as dt
import io
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
            client_cpu, sandbox_cpu = time.process_time(), server.cpu_seconds()
            elapsed, seen = _timed(
                lambda: sum(
                    len(p) for p in full_scan(client, customer_scan(subsidiary_id=None, filter_field_id=None))
                )
            )
            client_cpu, sandbox_cpu = time.process_time() - client_cpu, server.cpu_seconds() - sandbox_cpu
            pages = math.ceil(rows / 1000)
            bound = governance_bound(rows, limit, latency_ms)
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
                        "client_cpu_ms_per_page": round(client_cpu / pages * 1000, 1),
                        "sandbox_cpu_ms_per_page": round(sandbox_cpu / pages * 1000, 1),
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


# The write reference: the run's final rows (Resolve records and their links) written by the database's own
# bulk path into empty tables of the same schema (indexes, constraints) in the same database server.
REFERENCE_TABLES = (
    "resolve_customers",
    "resolve_invoices",
    "netsuite_customer_links",
    "netsuite_invoice_links",
)
# The apply scenarios read NetSuite at the latency and limit the extraction scenarios use, so "extraction
# bound + bulk write" is what NetSuite's governance and the database allow at best.
APPLY_LATENCY_MS = 250
APPLY_LIMIT = 5


def governance_bound(rows: int, limit: int, latency_ms: float) -> float:
    """The least time NetSuite's governance allows to read `rows`: 1,000-row pages, `limit` at a time."""
    return math.ceil(rows / 1000) / limit * latency_ms / 1000


def _reference_seconds(
    source: Engine, target: Engine, where: dict[str, str] | None = None, seed: dict[str, str] | None = None
) -> float:
    """Time the database's bulk path for the final rows (or those `where` selects, per table): `COPY` on
    PostgreSQL, a batched `executemany` through the driver on SQLite. The target tables are emptied first;
    `seed` rows (say, the customers the timed invoices belong to) are written untimed before."""

    def selects(conditions: dict[str, str], tables: tuple[str, ...]) -> dict[str, str]:
        return {
            t: f"SELECT * FROM {t}" + (f" WHERE {conditions[t]}" if t in conditions else "") for t in tables
        }

    with target.begin() as db:
        if target.dialect.name == "postgresql":
            db.exec_driver_sql(f"TRUNCATE {', '.join(REFERENCE_TABLES)} CASCADE")
        for table in () if target.dialect.name == "postgresql" else reversed(REFERENCE_TABLES):
            db.exec_driver_sql(f"DELETE FROM {table}")
    if seed:
        _bulk_write(target, _read(source, selects(seed, tuple(seed))))
    return _bulk_write(target, _read(source, selects(where or {}, REFERENCE_TABLES)))


def _read(source: Engine, selects: dict[str, str]) -> dict[str, Any]:
    """The rows to write, read before any timing: COPY text on PostgreSQL, tuples on SQLite."""
    with source.connect() as db:
        if source.dialect.name != "postgresql":
            return {table: db.exec_driver_sql(sql).fetchall() for table, sql in selects.items()}
        buffers = {}
        for table, sql in selects.items():
            buffers[table] = io.StringIO()
            with db.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.copy_expert(f"COPY ({sql}) TO STDOUT", buffers[table])
            buffers[table].seek(0)
        return buffers


def _bulk_write(target: Engine, rows: dict[str, Any]) -> float:
    """Write `rows` in one transaction with the database's bulk path; returns the seconds it took. On
    PostgreSQL each table is analysed once copied, so the next one's foreign-key checks use the index."""
    with target.begin() as db:
        cursor = db.connection.driver_connection.cursor()  # type: ignore[union-attr]
        start = time.perf_counter()
        for table, data in rows.items():
            if target.dialect.name == "postgresql":
                cursor.copy_expert(f"COPY {table} FROM STDIN", data)
                # As a bulk load should: without it the next table's foreign-key checks are planned
                # against an "empty" table and scan it once per row.
                cursor.execute(f"ANALYZE {table}")
            elif data:
                marks = ", ".join("?" * len(data[0]))
                for chunk in range(0, len(data), 5000):
                    cursor.executemany(
                        f"INSERT INTO {table} VALUES ({marks})",
                        [tuple(r) for r in data[chunk : chunk + 5000]],
                    )
        elapsed = time.perf_counter() - start
        cursor.close()
    return elapsed


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

    def cpu_seconds(self) -> float:
        """CPU time the sandbox's process has used so far (user + system), from /proc."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait()
        self._folder.cleanup()


def apply_scenarios(customers: int, invoices: int, url: str, raw_url: str, engine_name: str) -> list[Result]:
    raw = account(
        _customers(customers), _invoices(invoices, customers), limit=APPLY_LIMIT, latency_ms=APPLY_LATENCY_MS
    )
    bulk = "COPY" if engine_name == "postgresql" else "executemany"
    limit_of = 3 if engine_name == "postgresql" else 2
    sizes = {"customers": customers, "invoices": invoices, "database": engine_name}
    results = []
    with RemoteSandbox(raw) as server:
        engine, reference = _store(url), _store(raw_url)
        connection = _connection(engine, server)
        first_s, first = _timed(lambda: _sync(engine, server, connection))
        bound = governance_bound(customers, APPLY_LIMIT, APPLY_LATENCY_MS) + governance_bound(
            invoices, APPLY_LIMIT, APPLY_LATENCY_MS
        )
        bulk_s = _reference_seconds(engine, reference)
        ratio = first_s / (bound + bulk_s)
        results.append(
            Result(
                "first_sync_vs_bound_plus_bulk_write",
                sizes,
                {
                    "sync_s": round(first_s, 2),
                    "extraction_bound_s": round(bound, 2),
                    f"{bulk.lower()}_s": round(bulk_s, 2),
                    "created": first["created"],
                    "sync_minus_bound_over_bulk": round((first_s - bound) / bulk_s, 1),
                },
                f"extraction bound + {bulk} of the final rows (records and links)",
                round(ratio, 2),
                f"<= {limit_of}x",
                ratio <= limit_of,
                [
                    f"NetSuite at {APPLY_LATENCY_MS} ms a page, concurrency limit {APPLY_LIMIT}",
                    f"{bulk} into empty tables of the same schema"
                    + (", same database server" if bulk == "COPY" else ", a file beside the store's")
                    + ", one transaction",
                ],
            )
        )
        again_s, again = _timed(lambda: _sync(engine, server, connection))
        # The run's count includes the subsidiary check (R2) every run starts with.
        requests_per_kind = (again["netsuite_requests"] - 1) / 2
        results.append(
            Result(
                "nightly_no_change",
                sizes,
                {
                    "elapsed_s": round(again_s, 2),
                    "rows_written": again["written"],
                    "netsuite_requests": again["netsuite_requests"],
                },
                "the initial sync's elapsed time",
                round(again_s / first_s, 3),
                "0 writes, <= 3 requests per record kind (+ the subsidiary check)",
                again["written"] == 0 and requests_per_kind <= 3,
            )
        )
        control = httpx.Client(
            base_url=server.base_url, headers={"X-Sandbox-Admin-Token": ADMIN}, timeout=300
        )
        control.post("/_sandbox/clock", json={"now": "2026-11-26T09:00:00"})
        changed_customers, changed_invoices = max(1, customers // 100), max(1, invoices // 100)
        _post(
            control,
            "customers",
            [
                {**c, "companyname": c["companyname"] + " (renamed)", "lastmodifieddate": None}
                for c in _customers(customers)[:changed_customers]
            ],
        )
        changed = _invoices(invoices, customers)[1 : 1 + changed_invoices * 3 : 3]
        _post(
            control,
            "invoices",
            [{**i, "foreignamountunpaid": 0, "status": "B", "lastmodifieddate": None} for i in changed],
        )
        change_s, change = _timed(lambda: _sync(engine, server, connection))
        expected = changed_customers + len(changed)
        results.append(
            Result(
                "nightly_one_percent_change",
                sizes,
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
        results.append(
            _mass_change(engine, reference, server, connection, control, customers, invoices, sizes, bulk)
        )
        control.close()
        engine.dispose()
        reference.dispose()
    return results


def _mass_change(
    engine: Engine,
    reference: Engine,
    server: SandboxServer,
    connection: Connection,
    control: httpx.Client,
    customers: int,
    invoices: int,
    sizes: dict[str, Any],
    bulk: str,
) -> Result:
    """Half of the customers (renamed) and half of the invoices (a memo added) change in NetSuite."""
    control.post("/_sandbox/clock", json={"now": "2026-11-26T12:00:00"})
    half = customers // 2
    _post(
        control,
        "customers",
        [
            {**c, "companyname": c["companyname"] + " (mass)", "lastmodifieddate": None}
            for c in _customers(half)
        ],
    )
    changed = [
        {**i, "memo": "mass change", "lastmodifieddate": None} for i in _invoices(invoices, customers)[::2]
    ]
    _post(control, "invoices", changed)
    change_s, change = _timed(lambda: _sync(engine, server, connection))
    expected = half + len(changed)
    id_number = "CAST(netsuite_id AS INTEGER)"
    where = {
        "resolve_customers": f"{id_number} <= {half}",
        "netsuite_customer_links": f"{id_number} <= {half}",
        "resolve_invoices": f"{id_number} % 2 = 1",
        "netsuite_invoice_links": f"{id_number} % 2 = 1",
    }
    # The changed invoices' customers must exist for their foreign keys: the unchanged ones are seeded untimed.
    bulk_s = _reference_seconds(engine, reference, where, seed={"resolve_customers": f"{id_number} > {half}"})
    bound = governance_bound(half, APPLY_LIMIT, APPLY_LATENCY_MS) + governance_bound(
        len(changed), APPLY_LIMIT, APPLY_LATENCY_MS
    )
    ratio = change_s / (bound + bulk_s)
    exact = change["updated"] == expected and change["created"] == 0
    return Result(
        "mass_change_vs_bound_plus_bulk_write",
        {**sizes, "changed": "50%"},
        {
            "sync_s": round(change_s, 2),
            "extraction_bound_s": round(bound, 2),
            f"{bulk.lower()}_s": round(bulk_s, 2),
            "updated": change["updated"],
            "changed_in_netsuite": expected,
            "sync_minus_bound_over_bulk": round((change_s - bound) / bulk_s, 1),
        },
        f"extraction bound + {bulk} of the changed rows' final records and links",
        round(ratio, 2),
        "<= 3x; rows written = rows changed",
        ratio <= 3 and exact,
    )


def _post(control: httpx.Client, kind: str, records: list[dict[str, Any]], chunk: int = 20_000) -> None:
    """Change records in the sandbox in chunks that stay under its admin body cap."""
    for start in range(0, len(records), chunk):
        control.post(
            f"/_sandbox/records/{kind}", json={"records": records[start : start + chunk]}
        ).raise_for_status()


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

    from resolve_sync.defs.batch import partitions_of
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
        # fleet runs: a request covers one partition (its key) or several (listed in its run config)
        covered = sorted(k for r in requests for k in partitions_of(r.partition_key, r.run_config))
        results.append(
            Result(
                "nightly_sync_tick",
                {"connections": connections},
                {
                    "tick_s": round(tick_s, 3),
                    "run_requests": len(requests),
                    "connections_covered": len(covered),
                },
                "target 2 s",
                round(tick_s / 2, 3),
                "<= 2 s, every enabled connection in exactly one run",
                tick_s <= 2 and len(covered) == len(set(covered)) == connections,
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
        # Several benchmarks may share one server (a shared machine): each names its own scratch database.
        base = os.environ.get("RESOLVE_SYNC_BENCH_PG_DB", "resolve_sync_bench")
        if not base.replace("_", "").isalnum():
            raise ValueError(f"RESOLVE_SYNC_BENCH_PG_DB {base!r}: letters, digits and _ only")
        with admin.connect() as db:
            for name in (base, base + "_raw"):
                db.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                db.execute(text(f"CREATE DATABASE {name}"))
        return admin_url.rsplit("/", 1)[0] + "/" + base
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL half is skipped and the report says so
        return None
