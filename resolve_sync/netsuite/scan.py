"""Scans that lose nothing and beat the 100,000-row SuiteQL cap.

- Full scans split the key space into ranges (from a MIN/MAX/COUNT probe) and page each range by key
  (`WHERE key > last AND key <= hi ORDER BY key`), several ranges at once within the concurrency budget.
  Each page's `hasMore` tells when a range is done, so no request is spent on an empty last page.
- Incremental scans page by (lastmodifieddate, id) from a cursor minus an overlap window (SPEC R17);
  equal timestamps across page boundaries cannot drop rows because the id breaks the tie.

Both yield pages as they arrive through a bounded queue, so memory stays flat whatever the row count.

Rejected rows: each page is a `CheckedRows`, a plain list of row dicts (so `for row in page` and
`len(page)` work as before) with a `rejected` attribute, the page's rows of the wrong shape
(`responses.RejectedRow`: `netsuite_id` when the row has a valid one, `reason`, `json_path`). The good
rows of a page with a bad one are yielded as usual; a page may be empty with only rejections. Keyset
paging continues after the last row whose key was usable, good or rejected, so a bad row neither stops a
scan early nor makes it loop; a rejected row that a page boundary makes NetSuite send twice is reported
once. The sync records each rejection as a per-record outcome:

    for page in full_scan(client, query):
        stage(page)
        for rejection in page.rejected:
            record_outcome(rejection.netsuite_id, rejection.reason)

An answer of the wrong shape as a whole (HTML, truncated JSON, `items` not a list…) or a scan that cannot
move forward raises `NetSuiteProtocolError`.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from resolve_sync.netsuite.client import MAX_PAGE, NetSuiteClient
from resolve_sync.netsuite.errors import NetSuiteProtocolError
from resolve_sync.netsuite.responses import (
    UNKEYED,
    CheckedRows,
    Page,
    RejectedRow,
    RowShape,
    describe,
    protocol_error,
)
from resolve_sync.netsuite.timestamps import SUITEQL_FORMAT, to_timestamp_literal

Rows = list[dict[str, str]]
MAX_RANGES_PER_WORKER = 8
MODIFIED_ALIAS = "modified_cursor"


@dataclass(frozen=True)
class ScanQuery:
    """A SuiteQL SELECT split into parts so the scanners can add key predicates and ordering.

    `select` must output the key as `key_alias`; `where` is an already-validated predicate or "".
    """

    select: str
    from_: str
    key: str
    key_alias: str = "id"
    where: str = ""
    modified: str | None = None  # the lastmodifieddate column, for incremental scans

    def sql(self, *predicates: str, order: str | None = None, select: str | None = None) -> str:
        conditions = [p for p in (self.where, *predicates) if p]
        where = f" WHERE {' AND '.join(f'({c})' for c in conditions)}" if conditions else ""
        return f"SELECT {select or self.select} FROM {self.from_}{where}" + (
            f" ORDER BY {order}" if order else ""
        )

    def probe_sql(self) -> str:
        return self.sql(select=f"MIN({self.key}) AS lo, MAX({self.key}) AS hi, COUNT(*) AS n")


def split_ranges(low: int, high: int, count: int, parts: int) -> list[tuple[int, int]]:
    """(exclusive low, inclusive high) ranges covering [low, high], about `parts` of them.

    Where keys are dense, widths are whole multiples of a page's worth of keys, so each range ends on a
    full page and `hasMore` stops it without a request for a nearly empty last page."""
    parts = max(1, min(parts, count, high - low + 1))
    span = high - low + 1
    if count / span > 0.5:
        pages_per_range = max(1, math.ceil(math.ceil(count / MAX_PAGE) / parts))
        width = max(1, round(pages_per_range * MAX_PAGE * span / count))
    else:
        width = math.ceil(span / parts)
    return [(start - 1, min(start + width - 1, high)) for start in range(low, high + 1, width)]


def full_scan(
    client: NetSuiteClient, query: ScanQuery, *, ranges_per_worker: int = 3, probe: Page | None = None
) -> Iterator[CheckedRows]:
    """`probe`: the answer to `query.probe_sql()` when the caller already asked it (one request fewer)."""
    low, high, count = _probe(client, query) if probe is None else _probe_values(client, probe)
    if count == 0:
        return
    workers = client.budget.limit
    pages = math.ceil(count / MAX_PAGE)
    if count / (high - low + 1) > 0.5:
        parts = dense_parts(pages, workers)
    else:
        # Enough ranges to keep every worker busy to the end; with few pages, one range per worker.
        parts = workers * ranges_per_worker if pages >= workers * ranges_per_worker * 2 else workers
    yield from _parallel(client, query, split_ranges(low, high, count, min(parts, pages)), workers)


def dense_parts(pages: int, workers: int) -> int:
    """How many ranges to split a densely keyed scan of `pages` pages into, for `workers` at a time: the
    fewest rounds of requests (`ceil(pages / workers)` at best; ranges of k pages each waste up to k - 1
    rounds at the end when their count is not a multiple of `workers`), then at least two ranges per worker
    when that costs no round (a range that turns out longer is then absorbed by the others), then the
    fewest ranges. At most 8 ranges per worker: where keys have gaps a range may end with a part page, one
    request more, so their number stays bounded."""
    best: tuple[int, int, int] | None = None
    for parts in range(1, min(pages, workers * MAX_RANGES_PER_WORKER) + 1):
        per_range = math.ceil(pages / parts)  # as `split_ranges` sizes them
        ranges = math.ceil(pages / per_range)
        rounds = math.ceil(ranges / workers) * per_range
        key = (rounds, 0 if ranges >= 2 * workers or ranges == pages else 1, ranges)
        if best is None or key < best:
            best = key
    return best[2] if best else 1


def _probe(client: NetSuiteClient, query: ScanQuery) -> tuple[int, int, int]:
    """(lowest key, highest key, row count) of the query; (0, 0, 0) when it has no rows."""
    return _probe_values(client, client.suiteql(query.probe_sql(), limit=1, shape=UNKEYED))


def _probe_values(client: NetSuiteClient, page: Page) -> tuple[int, int, int]:
    if page.rejected:  # the probe's one row is not a record: without it the scan cannot be planned
        raise protocol_error(client.account_id, "the key range probe", page.rejected[0].reason + ".")
    row = page.items[0] if page.items else {}
    values = {name: row.get(name) for name in ("lo", "hi", "n")}
    if values["n"] in (None, "0"):
        return 0, 0, 0
    for name, value in values.items():
        if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18):
            raise protocol_error(
                client.account_id,
                "the key range probe",
                f"expected `{name}` to be a whole number as text, got {describe(value)}.",
            )
    low, high, count = (int(values[name]) for name in ("lo", "hi", "n"))  # type: ignore[arg-type]
    if low > high:
        raise protocol_error(
            client.account_id, "the key range probe", f"the lowest key {low} is above the highest {high}."
        )
    return low, high, count


class _Rejections:
    """Reports each rejected row of one scan once, though a page boundary may make NetSuite send it twice."""

    def __init__(self) -> None:
        self._seen: set[tuple[str | None, str, str]] = set()

    def new(self, rejected: tuple[RejectedRow, ...]) -> list[RejectedRow]:
        fresh = []
        for row in rejected:
            mark = (row.netsuite_id, row.reason, row.digest)
            if mark not in self._seen:
                self._seen.add(mark)
                fresh.append(row)
        return fresh


def _resume_after(client: NetSuiteClient, page: Page, column: str, after: object) -> dict[str, str]:
    """The key row to continue after; a page that says more follow but gives no usable, later key
    would make keyset paging stop early or loop, so it is a protocol error instead."""
    resume = page.resume_row
    if resume is None:
        raise protocol_error(
            client.account_id,
            "a keyset scan",
            f"NetSuite said more rows follow but no row of the page had a usable `{column}` to continue "
            f"after ({len(page.items)} good, {len(page.rejected)} rejected rows); expected at least one.",
        )
    return resume


def _range_pages(
    client: NetSuiteClient, query: ScanQuery, low: int, high: int, stop: threading.Event
) -> Iterator[CheckedRows]:
    last = low
    rejections = _Rejections()
    shape = RowShape(key=query.key_alias)
    while not stop.is_set():
        page = client.suiteql(
            query.sql(f"{query.key} > {last}", f"{query.key} <= {high}", order=query.key),
            limit=MAX_PAGE,
            shape=shape,
        )
        rejected = rejections.new(page.rejected)
        if page.items or rejected:
            yield CheckedRows(page.items, rejected)
        if not page.has_more:
            return
        key = int(_resume_after(client, page, query.key_alias, last)[query.key_alias])
        if key <= last:
            raise _no_progress(client, query.key_alias, last, key)
        last = key


def _no_progress(client: NetSuiteClient, column: str, last: object, key: object) -> NetSuiteProtocolError:
    return protocol_error(
        client.account_id,
        "a keyset scan",
        f"the page asked for rows after `{column}` {last} ended at {key}; expected keys in increasing "
        "order past the last page.",
    )


_DONE = object()


def _parallel(
    client: NetSuiteClient, query: ScanQuery, ranges: list[tuple[int, int]], workers: int
) -> Iterator[CheckedRows]:
    pages: queue.Queue[object] = queue.Queue(maxsize=workers * 2)
    stop = threading.Event()
    remaining = [len(ranges)]
    lock = threading.Lock()

    def run(bounds: tuple[int, int]) -> None:
        try:
            for rows in _range_pages(client, query, bounds[0], bounds[1], stop):
                _put(pages, rows, stop)
        except BaseException as error:  # handed to the consumer, which re-raises it
            stop.set()
            _put(pages, error, stop)
        finally:
            with lock:
                remaining[0] -= 1
                finished = remaining[0] == 0
            if finished:
                _put(pages, _DONE, stop)

    executor = ThreadPoolExecutor(max_workers=min(workers, len(ranges)), thread_name_prefix="netsuite-scan")
    futures = [executor.submit(run, bounds) for bounds in ranges]
    try:
        while True:
            item = pages.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while not all(f.done() for f in futures):  # unblock producers still putting
            with contextlib.suppress(queue.Empty):
                pages.get(timeout=0.05)
        executor.shutdown(wait=True)


def _put(pages: queue.Queue[object], item: object, stop: threading.Event) -> None:
    """Put unless the consumer has gone (then the consumer's drain loop empties the queue)."""
    while True:
        try:
            pages.put(item, timeout=0.05)
            return
        except queue.Full:
            if stop.is_set() and not isinstance(item, BaseException) and item is not _DONE:
                return


def incremental_scan(client: NetSuiteClient, query: ScanQuery, since_local: str) -> Iterator[CheckedRows]:
    """Rows modified at or after `since_local` (account-local 'YYYY-MM-DD HH:MM:SS'), keyset on
    (lastmodifieddate, key). Each row carries `modified_cursor` (TO_CHAR of the column) for the next cursor."""
    if query.modified is None:
        raise ValueError("incremental scans need the query's lastmodifieddate column")
    modified = query.modified
    last_modified, last_key = since_local, None
    rejections = _Rejections()
    shape = RowShape(key=query.key_alias, timestamps=(MODIFIED_ALIAS,))
    while True:
        at = to_timestamp_literal(last_modified)
        if last_key is None:
            predicate = f"{modified} >= {at}"
        else:
            predicate = f"{modified} > {at} OR ({modified} = {at} AND {query.key} > {last_key})"
        select = f"{query.select}, TO_CHAR({modified}, '{SUITEQL_FORMAT}') AS {MODIFIED_ALIAS}"
        page = client.suiteql(
            query.sql(predicate, order=f"{modified}, {query.key}", select=select),
            limit=MAX_PAGE,
            shape=shape,
        )
        rejected = rejections.new(page.rejected)
        if page.items or rejected:
            yield CheckedRows(page.items, rejected)
        if not page.has_more:
            return
        resume = _resume_after(client, page, query.key_alias, last_key)
        position = (resume[MODIFIED_ALIAS], int(resume[query.key_alias]))
        if last_key is not None and position <= (last_modified, last_key):
            raise _no_progress(
                client, f"({MODIFIED_ALIAS}, {query.key_alias})", (last_modified, last_key), position
            )
        last_modified, last_key = position
