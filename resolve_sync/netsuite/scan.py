"""Scans that lose nothing and beat the 100,000-row SuiteQL cap.

- Full scans split the key space into ranges (from a MIN/MAX/COUNT probe) and page each range by key
  (`WHERE key > last AND key <= hi ORDER BY key`), several ranges at once within the concurrency budget.
  Each page's `hasMore` tells when a range is done, so no request is spent on an empty last page.
- Incremental scans page by (lastmodifieddate, id) from a cursor minus an overlap window (SPEC R17);
  equal timestamps across page boundaries cannot drop rows because the id breaks the tie.

Both yield pages as they arrive through a bounded queue, so memory stays flat whatever the row count.
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
from resolve_sync.netsuite.timestamps import SUITEQL_FORMAT, to_timestamp_literal

Rows = list[dict[str, str]]
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


def full_scan(client: NetSuiteClient, query: ScanQuery, *, ranges_per_worker: int = 3) -> Iterator[Rows]:
    probe = client.suiteql(query.probe_sql(), limit=1).items
    if not probe or int(probe[0].get("n", 0)) == 0:
        return
    low, high, count = int(probe[0]["lo"]), int(probe[0]["hi"]), int(probe[0]["n"])
    workers = client.budget.limit
    pages = math.ceil(count / MAX_PAGE)
    # Enough ranges to keep every worker busy to the end; with few pages, one range per worker.
    parts = workers * ranges_per_worker if pages >= workers * ranges_per_worker * 2 else workers
    yield from _parallel(client, query, split_ranges(low, high, count, min(parts, pages)), workers)


def _range_pages(
    client: NetSuiteClient, query: ScanQuery, low: int, high: int, stop: threading.Event
) -> Iterator[Rows]:
    last = low
    while not stop.is_set():
        page = client.suiteql(
            query.sql(f"{query.key} > {last}", f"{query.key} <= {high}", order=query.key), limit=MAX_PAGE
        )
        if page.items:
            yield page.items
            last = int(page.items[-1][query.key_alias])
        if not page.has_more or not page.items:
            return


_DONE = object()


def _parallel(
    client: NetSuiteClient, query: ScanQuery, ranges: list[tuple[int, int]], workers: int
) -> Iterator[Rows]:
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


def incremental_scan(client: NetSuiteClient, query: ScanQuery, since_local: str) -> Iterator[Rows]:
    """Rows modified at or after `since_local` (account-local 'YYYY-MM-DD HH:MM:SS'), keyset on
    (lastmodifieddate, key). Each row carries `modified_cursor` (TO_CHAR of the column) for the next cursor."""
    if query.modified is None:
        raise ValueError("incremental scans need the query's lastmodifieddate column")
    modified = query.modified
    last_modified, last_key = since_local, None
    while True:
        at = to_timestamp_literal(last_modified)
        if last_key is None:
            predicate = f"{modified} >= {at}"
        else:
            predicate = f"{modified} > {at} OR ({modified} = {at} AND {query.key} > {last_key})"
        select = f"{query.select}, TO_CHAR({modified}, '{SUITEQL_FORMAT}') AS {MODIFIED_ALIAS}"
        page = client.suiteql(
            query.sql(predicate, order=f"{modified}, {query.key}", select=select), limit=MAX_PAGE
        )
        if page.items:
            yield page.items
            last_modified, last_key = page.items[-1][MODIFIED_ALIAS], int(page.items[-1][query.key_alias])
        if not page.has_more or not page.items:
            return
