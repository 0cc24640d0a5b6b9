"""Fleet scale: N connections synced through a real Dagster deployment, against the same syncs in process.

The deployment is what a machine runs in production without Kubernetes: `dagster dev` (webserver, daemon,
one code server) on a PostgreSQL Dagster instance (dagster-postgres) with the root `dagster.yaml`'s run
queue and the default run launcher, the store on PostgreSQL, and several NetSuite sandbox accounts, each in
its own process (`resolve-sync sandbox serve`). The first syncs are the connections sensor's (connections
are added to the store, the sensor adds their partitions and queues their runs, several connections to a
run); the nightly is `nightly_sync`'s own evaluation (`build_schedule_context`) with its run requests
submitted to the webserver's GraphQL API, as the daemon would launch them. The reference is the same syncs through `run_sync`, one after another, in
this process, on their own store, measured in the same run.

Besides the totals, each size reports where a run's time goes, from the run's own events: waiting in the
queue, launching (the run worker's process start and imports), executing the steps, and the events
written per run.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from resolve_sync import settings
from resolve_sync.bench.deployment import dagster_dev, wait_for
from resolve_sync.bench.scenarios import TBA, RemoteSandbox, Result, _customers, _invoices, _store, account
from resolve_sync.store.connections import add_connection
from resolve_sync.store.secrets import SecretBox, generate_key

SANDBOX_ACCOUNTS = 4
ADMIN_PG_URL_ENV = "RESOLVE_SYNC_TEST_PG_URL"
DATABASES = ("resolve_sync_fleet_dagster", "resolve_sync_fleet_store", "resolve_sync_fleet_reference")
NIGHTLY_TARGET_S = 1.5
KEEP_LOG_ENV = "RESOLVE_SYNC_BENCH_FLEET_LOG"  # copy the deployment's output there, to look into a run
FIRST_SYNC_TARGET_RATIO = 1.5


def fleet_nightly(sizes: tuple[int, ...], customers: int, invoices: int) -> list[Result]:
    """One deployment per size (a fresh instance and store), the sandboxes shared by all sizes."""
    admin_url = os.environ.get(ADMIN_PG_URL_ENV, "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    results: list[Result] = []
    fixtures = [_account_fixture(index, customers, invoices) for index in range(SANDBOX_ACCOUNTS)]
    with ExitStack() as stack:
        sandboxes = [stack.enter_context(RemoteSandbox(fixture)) for fixture in fixtures]
        for size in sizes:
            with _databases(admin_url) as urls:
                results.extend(_one_size(size, customers, invoices, sandboxes, fixtures, urls))
    nightly = [r for r in results if r.name == "fleet_nightly_no_change"]
    if len(nightly) >= 2:
        smallest, largest = nightly[0], nightly[-1]
        growth = largest.figures["peak_rss_mb"] / smallest.figures["peak_rss_mb"]
        results.append(
            Result(
                "fleet_memory",
                {"connections": [r.parameters["connections"] for r in nightly]},
                {f"peak_rss_mb_{r.parameters['connections']}": r.figures["peak_rss_mb"] for r in nightly},
                f"peak RSS of the deployment at {smallest.parameters['connections']} connections",
                round(growth, 2),
                "flat as N grows (<= 1.2x)",
                growth <= 1.2,
                ["whole process tree of the deployment during the nightly; the run queue bounds it"],
            )
        )
    return results


def _account_fixture(index: int, customers: int, invoices: int) -> dict[str, Any]:
    return {
        **account(_customers(customers), _invoices(invoices, customers)),
        "account_id": f"{7100000 + index}",
    }


@contextmanager
def _databases(admin_url: str) -> Iterator[dict[str, str]]:
    """Scratch databases for the Dagster instance, the deployment's store and the reference's store."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    base = admin_url.rsplit("/", 1)[0]
    try:
        with admin.connect() as db:
            for name in DATABASES:
                db.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                db.execute(text(f"CREATE DATABASE {name}"))
        yield {name: f"{base}/{name}" for name in DATABASES}
    finally:
        with admin.connect() as db:
            for name in DATABASES:
                db.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _add_connections(url: str, key: str, prefix: str, count: int, sandboxes, fixtures) -> list:
    engine = _store(url)
    box = SecretBox([key.encode()])
    connections = [
        add_connection(
            engine,
            box,
            merchant_id=f"{prefix}{i:05d}",
            netsuite_account_id=fixtures[i % len(sandboxes)]["account_id"],
            auth_kind="tba",
            credentials=TBA,
            subsidiary_id=2,
            base_url=sandboxes[i % len(sandboxes)].base_url,
            account_timezone="America/New_York",
        )
        for i in range(count)
    ]
    return [engine, connections]


def _in_process(
    url: str, key: str, count: int, sandboxes, fixtures, as_of: dt.date
) -> list[tuple[float, float]]:
    """The reference: first syncs, then no-change nightlies, one after another in this process."""
    from resolve_sync.sync.clients import client_for
    from resolve_sync.sync.steps import run_sync

    engine, connections = _add_connections(url, key, "ref", count, sandboxes, fixtures)
    previous = os.environ.get(settings.SECRET_KEY_ENV)
    os.environ[settings.SECRET_KEY_ENV] = key
    try:
        passes = []
        for _ in ("first", "nightly"):
            start, cpu = time.perf_counter(), time.process_time()
            for connection in connections:
                with client_for(connection, engine) as client:
                    run_sync(client, engine, connection, as_of=as_of)
            passes.append((time.perf_counter() - start, time.process_time() - cpu))
    finally:
        if previous is None:
            os.environ.pop(settings.SECRET_KEY_ENV, None)
        else:
            os.environ[settings.SECRET_KEY_ENV] = previous
    engine.dispose()
    return passes


class TreeUsage:
    """Peak resident size and CPU time of a process and all its descendants, sampled five times a second.

    CPU seconds do not depend on what else the machine runs, unlike wall time on a shared machine; a
    process's CPU after its last sample (under 0.2 s of its life) is missed."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self._stop = pid, 0, threading.Event()
        self._cpu: dict[tuple[int, str], float] = {}  # (pid, start time) -> CPU seconds last seen
        self._kind: dict[tuple[int, str], str] = {}
        self._baseline: dict[tuple[int, str], float] = {}
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeUsage:
        self._sample_once()  # what the processes spent starting up is not the scenario's
        self.reset()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def reset(self) -> None:
        self.peak_kib, self._baseline = 0, dict(self._cpu)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_by_kind().values())

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds since the last reset per kind of process: run workers, the code server, the daemon,
        the webserver, and the small helpers (compute-log tails and their watchers)."""
        spent: dict[str, float] = {}
        for key, seconds in self._cpu.items():
            kind = self._kind.get(key, "other")
            spent[kind] = spent.get(kind, 0.0) + seconds - self._baseline.get(key, 0.0)
        return spent

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self._sample_once()

    def _sample_once(self) -> None:
        ticks, rss = os.sysconf("SC_CLK_TCK"), 0
        for pid in _tree(self.pid):
            rss += _rss_kib(pid)
            with suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                key = (pid, fields[19])
                self._cpu[key] = (int(fields[11]) + int(fields[12])) / ticks
                if key not in self._kind:
                    self._kind[key] = _process_kind(Path(f"/proc/{pid}/cmdline").read_bytes())
        self.peak_kib = max(self.peak_kib, rss)


def _process_kind(cmdline: bytes) -> str:
    words = cmdline.replace(b"\0", b" ").decode(errors="replace").split(" --instance-ref", 1)[0]
    for marker, kind in (
        ("spawn_main", "run_workers"),
        ("code-server start", "code_server"),
        ("api grpc", "code_server"),
        ("dagster._daemon", "daemon"),
        ("dagster_webserver", "webserver"),
        ("watch_orphans", "log_capture"),
        ("tail -F", "log_capture"),
        ("dagster dev", "dagster_dev"),
    ):
        if marker in words:
            return kind
    return "other"


def _tree(root: int) -> list[int]:
    pids, index = [root], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*/children"):
            with suppress(OSError):
                pids.extend(int(p) for p in task.read_text().split())
        index += 1
    return pids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _partitions_of(record: Any) -> list[str]:
    """The partitions a run syncs: its `dagster/partition` tag, or the list in a fleet run's config."""
    from resolve_sync.defs.batch import partitions_of

    return partitions_of(record.dagster_run.tags.get("dagster/partition"), record.dagster_run.run_config)


def _finished(instance: Any, run_ids: set[str] | None, count: int) -> list | None:
    """Every run finished, and together they cover `count` partitions."""
    records = [r for r in instance.get_run_records() if run_ids is None or r.dagster_run.run_id in run_ids]
    covered = {key for r in records for key in _partitions_of(r)}
    if records and len(covered) >= count and all(r.dagster_run.is_finished for r in records):
        return records
    return None


def _materialised(instance: Any, run_ids: set[str], size: int) -> set[str]:
    """Partitions with a `resolve_records` materialisation in these runs."""
    import dagster as dg

    result = instance.fetch_materializations(dg.AssetKey("resolve_records"), limit=4 * size + 10)
    return {r.asset_materialization.partition for r in result.records if r.run_id in run_ids}


def _launch(url: str, job: str, request: Any, tags: dict[str, str]) -> str:
    """Submit one run request as the daemon would launch it: queued under the instance's run limits."""
    from resolve_sync.cli.sync_commands import LAUNCH, graphql
    from resolve_sync.defs.batch import batch_run_config
    from resolve_sync.names import CODE_LOCATION

    run_config = request.run_config
    if request.partition_key:  # the job's partitioned config, as the daemon resolves it
        tags = {**tags, "dagster/partition": request.partition_key}
        run_config = batch_run_config([request.partition_key])
    params = {
        "selector": {
            "repositoryLocationName": CODE_LOCATION,
            "repositoryName": "__repository__",
            "jobName": job,
        },
        "runConfigData": run_config,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = graphql(url, LAUNCH, {"params": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"the webserver refused a nightly run: {result}")
    return result["run"]["runId"]


def _submit_nightly(url: str, instance: Any, store_url: str, when: dt.datetime) -> list[str]:
    """`nightly_sync`'s own evaluation, its run requests submitted to the webserver (queued, limited)."""
    import dagster as dg

    from resolve_sync.definitions import defs
    from resolve_sync.defs.resources import StoreResource
    from resolve_sync.defs.schedules import nightly_sync

    context = dg.build_schedule_context(
        instance=instance,
        resources={"store": StoreResource(database_url=store_url)},
        scheduled_execution_time=when,
        repository_def=defs.get_repository_def(),
    )
    requests = nightly_sync.evaluate_tick(context).run_requests or []
    return [
        _launch(
            url,
            nightly_sync.job_name,
            request,
            {**request.tags, "dagster/schedule_name": "nightly_sync", "dagster/run_key": request.run_key},
        )
        for request in requests
    ]


def _anatomy(instance: Any, records: list) -> dict[str, Any]:
    """Medians over the runs, from their events: queued (created → RUN_STARTING), launch (STARTING → RUN_START: the run worker's process
    start and imports), steps (first STEP_START → last STEP_SUCCESS), the rest, and events per run."""
    import dagster as dg

    queued, launch, steps, tail, events = [], [], [], [], []
    for record in records:
        logs = instance.all_logs(record.dagster_run.run_id)
        events.append(len(logs))
        by_type: dict[str, list[float]] = {}
        for entry in logs:
            if entry.dagster_event is not None:
                by_type.setdefault(entry.dagster_event.event_type_value, []).append(entry.timestamp)
        starting = by_type.get(dg.DagsterEventType.RUN_STARTING.value, [None])[0]
        started = by_type.get(dg.DagsterEventType.RUN_START.value, [None])[0]
        step_start = min(by_type.get(dg.DagsterEventType.STEP_START.value, [0]) or [0])
        step_end = max(by_type.get(dg.DagsterEventType.STEP_SUCCESS.value, [0]) or [0])
        if starting:
            queued.append(starting - record.create_timestamp.timestamp())
        if starting and started:
            launch.append(started - starting)
        if step_start and step_end:
            steps.append(step_end - step_start)
            if record.end_time and started:
                tail.append((record.end_time - started) - (step_end - step_start))
    median = lambda values: round(statistics.median(values), 2) if values else None  # noqa: E731
    return {
        "queued_s": median(queued),
        "launch_s": median(launch),
        "steps_s": median(steps),
        "executor_and_events_s": median(tail),
        "events_per_run": median(events),
    }


def _one_size(
    size: int, customers: int, invoices: int, sandboxes, fixtures, urls: dict[str, str]
) -> list[Result]:
    import dagster as dg

    key = generate_key()
    load_before = os.getloadavg()[0]
    today = dt.datetime.now(dt.UTC).date()
    store_url, reference_url = urls["resolve_sync_fleet_store"], urls["resolve_sync_fleet_reference"]
    (ref_first_s, ref_first_cpu), (ref_nightly_s, ref_nightly_cpu) = _in_process(
        reference_url, key, size, sandboxes, fixtures, today
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = {settings.DATABASE_URL_ENV: store_url, settings.SECRET_KEY_ENV: key}
        engine, _ = _add_connections(store_url, key, "m", size, sandboxes, fixtures)
        engine.dispose()
        with (
            dagster_dev(
                folder,
                env,
                postgres_url=urls["resolve_sync_fleet_dagster"],
                keep_log=os.environ.get(KEEP_LOG_ENV),
            ) as deployment,
            TreeUsage(deployment.pid) as usage,
            dg.DagsterInstance.from_config(str(deployment.home)) as instance,
        ):
            url = deployment.url
            first = wait_for(lambda: _finished(instance, None, size), 60 + 30 * size, "the first syncs")
            first_s = max(r.end_time for r in first) - min(r.create_timestamp.timestamp() for r in first)
            first_load = os.getloadavg()[0]
            first_materialised = _materialised(instance, {r.dagster_run.run_id for r in first}, size)
            first_anatomy = _anatomy(instance, first)
            first_peak_mb = usage.peak_kib / 1024
            first_cpu_s, first_cpu = usage.cpu_s, usage.cpu_by_kind()
            usage.reset()
            started = time.time()
            when = dt.datetime.combine(today, dt.time(2), tzinfo=dt.UTC)
            run_ids = set(_submit_nightly(url, instance, store_url, when))
            submitted_s = time.time() - started
            nightly = wait_for(lambda: _finished(instance, run_ids, size), 60 + 30 * size, "the nightly")
            nightly_s = max(r.end_time for r in nightly) - started
            nightly_load = os.getloadavg()[0]
            nightly_materialised = _materialised(instance, run_ids, size)
            nightly_anatomy = _anatomy(instance, nightly)
            nightly_peak_mb = usage.peak_kib / 1024
            nightly_cpu_s, nightly_cpu = usage.cpu_s, usage.cpu_by_kind()
    failed = [r for r in [*first, *nightly] if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
    partitions = {key for r in nightly for key in _partitions_of(r)}
    per_first, per_ref_first = first_s / size, ref_first_s / size
    per_nightly, per_ref_nightly = nightly_s / size, ref_nightly_s / size
    params = {"connections": size, "accounts": len(sandboxes), "customers": customers, "invoices": invoices}
    notes = [f"{len(failed)} run(s) did not succeed"] if failed else []
    return [
        Result(
            "fleet_first_sync",
            params,
            {
                "per_connection_s": round(per_first, 2),
                "in_process_per_connection_s": round(per_ref_first, 2),
                "wall_s": round(first_s, 1),
                "cpu_per_connection_s": round(first_cpu_s / size, 2),
                "in_process_cpu_per_connection_s": round(ref_first_cpu / size, 2),
                "cpu_per_connection_by_process_s": {
                    k: round(v / size, 2) for k, v in sorted(first_cpu.items())
                },
                "runs": len(first),
                "connections_per_run": sorted(len(_partitions_of(r)) for r in first),
                "partitions_materialised": len(first_materialised),
                "peak_rss_mb": round(first_peak_mb),
                "load_average_1m": [round(load_before, 2), round(first_load, 2)],
                **first_anatomy,
            },
            "the same first syncs in process (run_sync)",
            round(per_first / per_ref_first, 2),
            f"<= {FIRST_SYNC_TARGET_RATIO}x in process",
            per_first / per_ref_first <= FIRST_SYNC_TARGET_RATIO
            and not failed
            and len(first_materialised) == size,
            notes,
        ),
        Result(
            "fleet_nightly_no_change",
            params,
            {
                "per_connection_s": round(per_nightly, 2),
                "in_process_per_connection_s": round(per_ref_nightly, 2),
                "wall_s": round(nightly_s, 1),
                "cpu_per_connection_s": round(nightly_cpu_s / size, 2),
                "in_process_cpu_per_connection_s": round(ref_nightly_cpu / size, 2),
                "cpu_per_connection_by_process_s": {
                    k: round(v / size, 2) for k, v in sorted(nightly_cpu.items())
                },
                "submit_s": round(submitted_s, 1),
                "runs_launched": len(nightly),
                "connections_per_run": sorted(len(_partitions_of(r)) for r in nightly),
                "partitions": len(partitions),
                "partitions_materialised": len(nightly_materialised),
                "peak_rss_mb": round(nightly_peak_mb),
                "load_average_1m": round(nightly_load, 2),
                **nightly_anatomy,
            },
            "the same nightlies in process (run_sync)",
            round(per_nightly / per_ref_nightly, 2),
            f"<= {NIGHTLY_TARGET_S} s per connection",
            per_nightly <= NIGHTLY_TARGET_S and len(nightly_materialised) == size and not failed,
            notes,
        ),
    ]


def main() -> None:
    """Only this scenario: `python -m resolve_sync.bench.fleet [--quick | SIZE ...] [--out FILE]`; the
    default sizes and account sizes are `make bench`'s (resolve_sync/bench/runner.py)."""
    import argparse
    import dataclasses
    import json

    from resolve_sync.bench.runner import SIZES, table

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "sizes", nargs="*", type=int, help="connections per deployment (default: make bench's)"
    )
    parser.add_argument("--quick", action="store_true", help="make bench-quick's sizes and accounts")
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    sizes, customers, invoices = SIZES["fleet"][0 if args.quick else 1]
    results = fleet_nightly(tuple(args.sizes) or sizes, customers, invoices)
    print(table(results))
    if args.out:
        Path(args.out).write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
