"""Client-side CPU to turn one 1,000-row SuiteQL page into rows: before (httpx `response.json()` plus a
dict comprehension per row) and now (`responses.suiteql_page`: orjson from bytes, strict envelope, row
checks). Not a test: run `python -m resolve_sync.netsuite.parse_bench` and compare the ratios.

Measured as a scan uses pages: the last `LIVE_PAGES` stay alive (a scan's queue holds up to twice its
workers' pages) in a process holding `HEAP_OBJECTS` other objects (about what the sync's process holds),
so the garbage collections that parsed pages cause are counted with them.
"""

from __future__ import annotations

import collections
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from resolve_sync.netsuite.responses import KEYED, suiteql_page


def sample_page(rows: int = 1000) -> bytes:
    """A customer page shaped like the sync's scan: 9 string columns, `links` on every row."""
    items = [
        {
            "links": [],
            "id": str(100_000 + i),
            "entityid": f"C{100_000 + i}",
            "companyname": f"Customer number {i} Incorporated",
            "email": f"ap{i}@customer{i}.example",
            "phone": "+1 555 0100",
            "isinactive": "F",
            "parent": str(100_000 + i // 10),
            "filter_value": "T",
            "lastmodified": "2026-03-02 10:15:30",
        }
        for i in range(rows)
    ]
    body = {"links": [], "count": rows, "hasMore": True, "items": items, "offset": 0, "totalResults": 250_000}
    return json.dumps(body).encode()


def _response(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json; charset=utf-8"}, content=body)


def parse_before(body: bytes) -> list[dict[str, str]]:
    """The client's parse before the boundary checks, verbatim."""
    parsed = _response(body).json()
    return [{k.lower(): v for k, v in item.items() if k != "links"} for item in parsed.get("items", [])]


def parse_now(body: bytes) -> list[dict[str, str]]:
    return suiteql_page(_response(body), "bench", shape=KEYED).items


LIVE_PAGES = 30
HEAP_OBJECTS = 100_000


def cpu_seconds_per_call(parse: Callable[[bytes], Any], body: bytes, repeat: int) -> float:
    """Best of 5 runs of `repeat` calls, in process CPU time (other engineers share the machine)."""
    best = float("inf")
    for _ in range(5):
        live: collections.deque[Any] = collections.deque(maxlen=LIVE_PAGES)
        gc.collect()
        start = time.process_time()
        for _ in range(repeat):
            live.append(parse(body))
        best = min(best, (time.process_time() - start) / repeat)
    return best


def main(repeat: int = 200) -> dict[str, float]:
    heap = [[n] for n in range(HEAP_OBJECTS)]  # noqa: F841 - kept alive: the collector walks it
    body = sample_page()
    assert parse_before(body) == parse_now(body)
    before = cpu_seconds_per_call(parse_before, body, repeat)
    now = cpu_seconds_per_call(parse_now, body, repeat)
    figures = {"before_ms": before * 1000, "now_ms": now * 1000, "now_over_before": now / before}
    print(
        f"1,000-row page ({len(body):,} bytes): before {figures['before_ms']:.2f} ms CPU, "
        f"now {figures['now_ms']:.2f} ms CPU, now/before = {figures['now_over_before']:.2f}"
    )
    return figures


if __name__ == "__main__":
    main()
