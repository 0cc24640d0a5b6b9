"""A sync run's steps, orchestrated once: begin (R2, R11), stage customers and check duplicates (R12),
stage invoices, write Resolve records. The Dagster assets call one step each; `run_sync` (the CLI's
`--local`, the bench and the tests) calls them in order. Each step returns a small result; counts travel
through the run ledger, so a step in another process adds to the same run.

Failure semantics live here and only here: a step that fails marks the run failed with its reason; a
database that goes away mid-step becomes `StoreUnavailable`; a run asked to stop (`Cancellation`) stops
at a safe point and is recorded `cancelled`; every attempt refused before it starts, including one whose
client cannot even be built (`attempt_client`), is recorded with its reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from resolve_sync import validation
from resolve_sync.errors import ResolveSyncError
from resolve_sync.kinds import Outcome, RecordKind, RunMode, RunStatus
from resolve_sync.netsuite.client import NetSuiteClient
from resolve_sync.netsuite.queries import InvalidQueryParameter
from resolve_sync.netsuite.responses import UNKEYED
from resolve_sync.store import run_history, run_leases
from resolve_sync.store.connections import Connection
from resolve_sync.store.database import shown_url
from resolve_sync.store.models import utcnow
from resolve_sync.store.run_leases import LeaseLost
from resolve_sync.sync import ledger
from resolve_sync.sync.apply import (
    CustomerTree,
    apply_customers,
    apply_invoices,
    apply_invoices_as_staged,
    customer_tree,
)
from resolve_sync.sync.cancellation import Cancellation, RunCancelled
from resolve_sync.sync.duplicates import DuplicatePair, duplicate_pairs, duplicates_error
from resolve_sync.sync.errors import StoreUnavailable, SyncConfigError
from resolve_sync.sync.extract import extract_customers, extract_invoices, opening_probes
from resolve_sync.sync.handoff import StagedBatches
from resolve_sync.sync.ledger import RunContext
from resolve_sync.sync.scope import resolve_subsidiary, subsidiary_option, validate_filter_field

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
HELD_BACK_EXAMPLES = 50
# What one process reads, in order, when it runs a whole sync (run_sync, a fleet run's connection).
STREAMS = ("customers", "invoices")


@dataclass(frozen=True)
class CustomersStaged:
    run: RunContext
    counts: dict[str, int]
    duplicates: list[DuplicatePair]

    @property
    def blocked(self) -> bool:
        return bool(self.duplicates)


@dataclass(frozen=True)
class InvoicesStaged:
    run: RunContext
    counts: dict[str, int]


@dataclass(frozen=True)
class RecordsWritten:
    run: RunContext
    counts: dict[str, Any]
    held_back_invoices: list[run_history.RecordOutcome] = field(default_factory=list)
    open_drift: int = 0


@dataclass(frozen=True)
class CustomersWritten:
    """The customers' share of the write step, done before the rest (`stage_and_write`)."""

    counts: Counter[str]
    tree: CustomerTree


@dataclass
class StepsDone:
    """What `stage_and_write` has done so far, filled in as each step ends (a caller that reports steps
    still has the ones before a failure). All three are set when the run succeeded."""

    customers: CustomersStaged | None = None
    invoices: InvoicesStaged | None = None
    written: RecordsWritten | None = None


@dataclass
class RunReport:
    run_id: int
    mode: RunMode
    counts: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return int(self.counts.get(name, 0))


def begin(
    client: NetSuiteClient,
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool = False,
    dagster_run_id: str | None = None,
    cancel: Cancellation | None = None,
    read_ahead: Sequence[str] = (),
) -> RunContext:
    """The connection's stored values, then R2 and R11: a wrong subsidiary or filter field fails before a
    record is written; then the connection's run lease (R13). A refusal, whatever its cause, is kept in the
    run history with its reason and raised.

    `read_ahead`: the streams (customers, invoices) whose first question to NetSuite goes out with the
    subsidiary check, so the run waits one round trip for all of them (used when this process reads them)."""
    try:
        check_connection(connection)
        validation.logical_date(as_of)
        if not connection.enabled:
            raise SyncConfigError(
                f"Merchant {connection.merchant_id!r}: connection {connection.partition_key} is disabled, so it "
                "is not synced.",
                merchant_id=connection.merchant_id,
                hint=f"Enable it first: `resolve-sync connections enable {connection.merchant_id}"
                f"{subsidiary_option(connection)}`.",
            )
        _check(cancel, connection)
        ledger.refuse_if_held(engine, connection)
        before, asked_at = client.stats.as_dict(), utcnow()
        _ask_ahead(client, engine, connection, as_of, full_refresh, read_ahead)
        subsidiary_id = resolve_subsidiary(client, connection)
        validate_filter_field(client, connection)
        _check(cancel, connection)
        run = ledger.start_run(
            engine,
            connection,
            as_of=as_of,
            full_refresh=full_refresh,
            subsidiary_id=subsidiary_id,
            dagster_run_id=dagster_run_id,
            holder=_holder(dagster_run_id),
            started_at=asked_at,
        )
    except KeyboardInterrupt:
        _reject(engine, connection, as_of, RunCancelled("cancelled by KeyboardInterrupt"), dagster_run_id)
        raise
    except Exception as refused:
        _reject(engine, connection, as_of, refused, dagster_run_id)
        raise
    run = replace(run, cancel=cancel) if cancel is not None else run
    try:
        ledger.add_counts(engine, run.run_id, _requests_since(client, before))
    except BaseException as error:  # the run exists now: it fails (and frees its lease), it is not refused
        with contextlib.suppress(Exception):
            ledger.fail_run(engine, run.run_id, error)
        raise
    return run


def _ask_ahead(
    client: NetSuiteClient,
    engine: Engine,
    connection: Connection,
    as_of: dt.date,
    full_refresh: bool,
    streams: Sequence[str],
) -> None:
    """Each stream's opening probe, sent now under the stored subsidiary: the check below only confirms it
    (R2), and a read that turns out to ask something else (another subsidiary, a full run R10 forces) just
    leaves the early answer unused. Nothing is asked ahead for a filter field that cannot go into a query
    (R11 refuses it below, with its own message), and at most one probe fewer than the concurrency limit,
    so the subsidiary check is never queued behind them."""
    streams = streams[: max(0, client.budget.limit - 1)]
    if not streams or connection.subsidiary_id is None:
        return
    try:
        probes = opening_probes(
            engine,
            connection,
            subsidiary_id=connection.subsidiary_id,
            as_of=as_of,
            full=full_refresh,
            streams=streams,
        )
    except InvalidQueryParameter:
        return
    for query in probes:
        client.prefetch(query, limit=1, shape=UNKEYED)


def check_connection(connection: Connection) -> None:
    """A stored row's values pass the same validators as the CLI's, before any request is sent: a row
    written before they existed (or by hand) cannot point signed requests at another host."""
    validation.merchant_id(connection.merchant_id)
    validation.netsuite_account_id(connection.netsuite_account_id)
    if connection.base_url is not None:
        validation.base_url(connection.base_url)
    validation.time_zone(connection.account_timezone)


@contextlib.contextmanager
def attempt_client(
    make_client: Callable[[], NetSuiteClient],
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    dagster_run_id: str | None = None,
) -> Iterator[NetSuiteClient]:
    """The NetSuite client for one sync attempt. Building it decrypts the credentials and resolves their
    environment variables; when that fails (a wrong key, a variable not set, a stored value of the wrong
    shape) the attempt is recorded as refused, like one NetSuite refused, and the error raised."""
    try:
        check_connection(connection)
        client = make_client()
    except Exception as refused:
        _reject(engine, connection, as_of, refused, dagster_run_id)
        raise
    with client:
        yield client


def _reject(
    engine: Engine, connection: Connection, as_of: dt.date, error: BaseException, dagster_run_id: str | None
) -> None:
    if isinstance(error, DBAPIError):
        return  # the store itself failed: there is nowhere to record it, and the error says so
    with contextlib.suppress(Exception):
        ledger.reject_run(engine, connection, as_of=as_of, error=error, dagster_run_id=dagster_run_id)


def _check(cancel: Cancellation | None, connection: Connection) -> None:
    if cancel is not None:
        cancel.check(connection.merchant_id)


def stop_requests_when_cancelled(client: NetSuiteClient, cancel: Cancellation, merchant_id: str) -> None:
    """Before each NetSuite request, look at the stop flag: a scan then stops between pages, in whichever
    thread it runs, and the error reaches the step like any failed request (it is never retried)."""

    def refuse_when_cancelled(_request: Any) -> None:
        cancel.check(merchant_id)

    # NetSuiteClient has no public hook for this yet; its httpx client's request hooks are the one place
    # every request passes (the read-only guard sits there too).
    http = client._http  # noqa: SLF001
    hooks = http.event_hooks
    http.event_hooks = {**hooks, "request": [*hooks.get("request", []), refuse_when_cancelled]}


def continue_or_begin(
    client: NetSuiteClient,
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool,
    dagster_run_id: str,
    read_ahead: Sequence[str] = (),
) -> RunContext:
    """The sync run this Dagster run started; a step materialised on its own begins one. Each asset's step
    has a client of its own: `read_ahead` names the streams this step reads itself."""
    run_id = ledger.run_of_dagster_run(engine, connection, dagster_run_id)
    if run_id is not None:
        return ledger.load_run(engine, connection, run_id, holder=_holder(dagster_run_id))
    return begin(
        client,
        engine,
        connection,
        as_of=as_of,
        full_refresh=full_refresh,
        dagster_run_id=dagster_run_id,
        read_ahead=read_ahead,
    )


def stage_customers(
    client: NetSuiteClient,
    engine: Engine,
    run: RunContext,
    *,
    count_requests: bool = True,
    when_read: Callable[[], None] | None = None,
) -> CustomersStaged:
    """Extract customers, then R12 over everything in scope. Duplicates block the run before any write.
    `count_requests=False`: the caller counts the client's requests (another step shares the client).
    `when_read`: called once the customers' pages are read (`extract_customers`)."""
    with _step(engine, run, client if count_requests else None) as counts:
        counts.update(extract_customers(client, engine, run, when_read=when_read))
        pairs = duplicate_pairs(engine, run.connection)
    if pairs:
        ledger.fail_run(engine, run.run_id, duplicates_error(run.connection.merchant_id, pairs))
    return CustomersStaged(run, dict(counts), pairs)


def stage_invoices(
    client: NetSuiteClient,
    engine: Engine,
    run: RunContext,
    *,
    count_requests: bool = True,
    on_staged: Callable[[list[str]], None] | None = None,
) -> InvoicesStaged:
    """`on_staged` gets each staged batch's ids as soon as it is committed (a writer waiting for them)."""
    with _step(engine, run, client if count_requests else None) as counts:
        counts.update(extract_invoices(client, engine, run, on_staged=on_staged))
    return InvoicesStaged(run, dict(counts))


def write_customers(engine: Engine, run: RunContext) -> CustomersWritten:
    """The customers' part of the write step on its own, so one process can write them while the
    invoices are still being read (`stage_and_write`); `write_records` then writes the invoices."""
    with _step(engine, run):
        return _write_customers(engine, run)


def _write_customers(engine: Engine, run: RunContext) -> CustomersWritten:
    tree = customer_tree(engine, run)
    return CustomersWritten(apply_customers(engine, run, tree), tree)


def write_invoices_as_staged(
    engine: Engine, run: RunContext, customers: CustomersWritten, staged: StagedBatches
) -> Counter[str]:
    """A full run's invoices written while they are read (`stage_and_write`), batch by batch as staged."""
    with _step(engine, run):
        return apply_invoices_as_staged(engine, run, customers.tree, staged)


def write_records(
    engine: Engine,
    run: RunContext,
    customers: CustomersWritten | None = None,
    invoices: Counter[str] | None = None,
) -> RecordsWritten:
    """Apply what is not written yet (the customers unless `customers` says they are, the invoices unless
    `invoices` counts them), then finish: the cursors move and the run succeeds in one transaction (R17)."""
    with _step(engine, run) as _counts:
        customers = customers or _write_customers(engine, run)
        if invoices is None:
            invoices = apply_invoices(engine, run, customers.tree)
        applied = customers.counts + invoices
        counts = report_counts(applied, ledger.add_counts(engine, run.run_id, {}))
        ledger.finish_run(engine, run, counts)
        held = run_history.record_outcomes(
            engine,
            [run.run_id],
            outcomes=[Outcome.HELD_BACK],
            record_kind=RecordKind.INVOICE,
            limit=HELD_BACK_EXAMPLES,
        )
        drift = run_history.open_drift_count(engine, run.connection.merchant_id)
    return RecordsWritten(run, counts, held, drift)


def stage_and_write(
    client: NetSuiteClient, engine: Engine, run: RunContext, done: StepsDone | None = None
) -> StepsDone:
    """The steps after `begin` when one process runs them all (`run_sync`, a fleet run's connection): the
    invoices are read in a thread while the customers are read, checked (R12) and written, and on a full
    run each batch of invoices is written as soon as it is staged, so the writes happen while NetSuite's
    pages arrive instead of after them. Each step keeps its failure semantics (the first failure is the
    run's), and nothing is written before R12 passed; only the order differs from the asset job's, where
    each asset is a step of its own. An incremental run writes its invoices once all are read: which ones
    it plans depends on the whole read (owners that changed, R5).

    `done` is filled in as steps end. A blocked run (R12) returns without writing; a failure in either
    thread stops the other at its next write (the run no longer holds its lease) and is raised once both
    ended."""
    done = done if done is not None else StepsDone()
    staged = StagedBatches() if run.full else None
    invoices: Counter[str] | None = None
    before = client.stats.as_dict()
    split: list[dict[str, int]] = []  # the client's counts when the invoices' read began
    try:
        with ThreadPoolExecutor(1, thread_name_prefix=f"invoices-of-run-{run.run_id}") as pool:
            reading: list[Future[InvoicesStaged]] = []

            def read_invoices() -> None:  # once the customers' pages are in: every write waits on them
                split.append(client.stats.as_dict())
                reading.append(pool.submit(_read_invoices, client, engine, run, staged))

            try:
                try:
                    done.customers = stage_customers(
                        client, engine, run, count_requests=False, when_read=read_invoices
                    )
                    if not reading:  # a read that never said its pages were in
                        read_invoices()
                    customers = None if done.customers.blocked else write_customers(engine, run)
                    if customers is not None and staged is not None:
                        invoices = write_invoices_as_staged(engine, run, customers, staged)
                finally:
                    if staged is not None:
                        staged.stop()  # the reader never waits on a writer that stopped
            except BaseException as failed:
                raise _first_failure(failed, reading) from None
            if customers is None:
                # Blocked (R12). An invoices' read that failed first made its error the run's: say that one.
                theirs = _reader_failure(reading[0])
                if theirs is not None and _recorded_error(engine, run) == ledger.describe(theirs):
                    raise theirs
                return done
            done.invoices = _invoices_when_read(engine, run, reading[0])
    finally:
        with contextlib.suppress(Exception):  # both reads shared one client: their requests counted once
            ledger.add_counts(engine, run.run_id, _requests_since(client, before))
        _report_requests(done, client, before, split)
    done.written = write_records(engine, run, customers, invoices)
    return done


def _recorded_error(engine: Engine, run: RunContext) -> str | None:
    recorded = run_history.get_run(engine, run.run_id)
    return recorded.error if recorded is not None else None


def _reader_failure(read: Future[InvoicesStaged]) -> Exception | None:
    """The invoices' thread's own error once it ended; None if it succeeded or only lost the lease (which
    the run's failure took)."""
    try:
        read.result()
    except LeaseLost:
        return None
    except Exception as error:
        return error
    return None


def _report_requests(
    done: StepsDone, client: NetSuiteClient, before: Mapping[str, int], split: list[dict[str, int]]
) -> None:
    """Each read's step result shows NetSuite requests as a step of its own would: the customers' those
    made before the invoices' read began, the invoices' the rest (the ancestors' few included)."""
    middle = split[0] if split else client.stats.as_dict()
    if done.customers is not None:
        done.customers = replace(
            done.customers, counts={**done.customers.counts, **_requests_between(before, middle)}
        )
    if done.invoices is not None:
        done.invoices = replace(
            done.invoices, counts={**done.invoices.counts, **_requests_since(client, middle)}
        )


def _read_invoices(
    client: NetSuiteClient, engine: Engine, run: RunContext, staged: StagedBatches | None
) -> InvoicesStaged:
    try:
        return stage_invoices(
            client, engine, run, count_requests=False, on_staged=staged.put if staged is not None else None
        )
    finally:
        if staged is not None:
            staged.end()


def _first_failure(failed: BaseException, reading: list[Future[InvoicesStaged]]) -> BaseException:
    """Once the invoices' thread (if it started) ended too: its error if it failed first (ours then only
    says the lease went with the failed run), else ours."""
    theirs = _reader_failure(reading[0]) if reading else None
    return theirs if theirs is not None and isinstance(failed, LeaseLost) else failed


def _invoices_when_read(
    engine: Engine, run: RunContext, invoices_read: Future[InvoicesStaged]
) -> InvoicesStaged:
    """Wait for the invoices' thread. Interrupted while waiting, the run is marked cancelled, which stops
    the thread at its next write instead of letting it read on."""
    try:
        return invoices_read.result()
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            ledger.fail_run(
                engine, run.run_id, RunCancelled("cancelled by KeyboardInterrupt"), status=RunStatus.CANCELLED
            )
        raise


def run_sync(
    client: NetSuiteClient,
    engine: Engine,
    connection: Connection,
    *,
    as_of: dt.date,
    full_refresh: bool = False,
    dagster_run_id: str | None = None,
    cancel: Cancellation | None = None,
) -> RunReport:
    """One whole sync of one connection, in the order the assets run it. With `cancel`, a stop request
    ends it at the next safe point (between requests, inside a batch's transaction, between steps)."""
    if cancel is not None:
        stop_requests_when_cancelled(client, cancel, connection.merchant_id)
    run = begin(
        client,
        engine,
        connection,
        as_of=as_of,
        full_refresh=full_refresh,
        dagster_run_id=dagster_run_id,
        cancel=cancel,
        read_ahead=STREAMS,
    )
    done = stage_and_write(client, engine, run)
    if done.written is None:
        assert done.customers is not None  # noqa: S101 - only R12's block ends the steps without raising
        raise duplicates_error(connection.merchant_id, done.customers.duplicates)
    return RunReport(run.run_id, run.mode, done.written.counts)


def end_of_step(engine: Engine, run: RunContext, dagster_run_id: str) -> None:
    """Between a Dagster run's steps the lease belongs to the run, not to the finished step's process (whose
    death would otherwise let another run take the connection mid-run); only its TTL frees it."""
    with contextlib.suppress(ResolveSyncError, DBAPIError):
        ledger.hand_over(engine, run, f"dagster:{dagster_run_id}")


def _holder(dagster_run_id: str | None) -> str:
    return run_leases.process_holder(f"dagster:{dagster_run_id}" if dagster_run_id else "")


def report_counts(applied: Mapping[str, int], so_far: Mapping[str, Any]) -> dict[str, Any]:
    """The run's counts as SPEC §4 names them: extraction's (from the ledger) and the writes'."""
    counts: dict[str, Any] = {name: 0 for name in COUNT_NAMES}
    counts.update(so_far)
    counts.update(applied)
    counts["read"] = int(so_far.get("customers_read", 0)) + int(so_far.get("invoices_read", 0))
    return counts


@contextlib.contextmanager
def _step(engine: Engine, run: RunContext, client: NetSuiteClient | None = None) -> Iterator[Counter[str]]:
    """Run one step: its counts (and the NetSuite requests it made) are added to the run's in the ledger;
    a failure marks the run failed with its reason; a database failure is reported as such."""
    before = client.stats.as_dict() if client else {}
    counts: Counter[str] = Counter()
    try:
        with run_leases.Heartbeat(engine, run.connection.id, run.run_id, run.holder):
            _check(run.cancel, run.connection)
            yield counts
    except DBAPIError as error:
        raise _store_unavailable(engine, run, error) from None
    except (RunCancelled, KeyboardInterrupt) as stop:
        reason = stop if isinstance(stop, RunCancelled) else RunCancelled("cancelled by KeyboardInterrupt")
        with contextlib.suppress(Exception):
            ledger.fail_run(engine, run.run_id, reason, status=RunStatus.CANCELLED)
        raise
    except BaseException as error:
        with contextlib.suppress(Exception):
            ledger.fail_run(engine, run.run_id, error)
        raise
    finally:
        if client is not None:
            counts.update(_requests_since(client, before))
        with contextlib.suppress(Exception):
            ledger.add_counts(engine, run.run_id, counts)


def _requests_since(client: NetSuiteClient, before: Mapping[str, int]) -> dict[str, int]:
    """The NetSuite requests (and retries) the client made since `before`, under the run's count names."""
    return _requests_between(before, client.stats.as_dict())


def _requests_between(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {
        "netsuite_requests": after["requests"] - before.get("requests", 0),
        "retries": after["retries"] - before.get("retries", 0),
    }


def _store_unavailable(engine: Engine, run: RunContext, error: DBAPIError) -> StoreUnavailable:
    """A clear error for a database that failed mid-run (and a best effort to record it)."""
    where = shown_url(engine)
    unavailable = StoreUnavailable(
        f"Merchant {run.connection.merchant_id!r}: the Resolve store ({where}) failed during the sync "
        f"({type(error.orig).__name__ if error.orig else type(error).__name__}). Batches committed before it "
        "stand and nothing is half-written; run the sync again once the database is back.",
        merchant_id=run.connection.merchant_id,
    )
    with contextlib.suppress(Exception):
        ledger.fail_run(engine, run.run_id, unavailable)
    return unavailable
