"""The NetSuite client: SuiteQL, the record metadata catalog and governance limits over SuiteTalk REST.

Read-only by construction (SPEC R3): a request hook refuses anything but GETs of the catalog and
governance limits and POSTs of SuiteQL queries, so no code path can write to a merchant's account.

Every answer is parsed and checked in `responses.py` inside the retry loop: an answer of the wrong shape
is a `NetSuiteProtocolError` (retried only when it looks cut off by the network), and a row of the wrong
shape is reported on the page's `rejected` list instead of failing the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    stop_when_event_set,
    wait_random_exponential,
)

from resolve_sync.netsuite.budget import ConcurrencyBudget
from resolve_sync.netsuite.errors import (
    NetSuiteError,
    NetSuitePermissionError,
    NetSuiteQueryError,
    NetSuiteRateLimited,
    error_from_response,
    error_from_transport,
)
from resolve_sync.netsuite.responses import (
    KEYED,
    CheckedRows,
    JsonObject,
    Page,
    RecordCatalog,
    RowShape,
    parse_json,
    protocol_error,
    suiteql_page,
    validated,
)

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
METADATA_PATH = "/services/rest/record/v1/metadata-catalog/"
GOVERNANCE_PATH = "/services/rest/system/v1/governanceLimits"
MAX_PAGE = 1000
RESULT_CAP = 100_000  # SuiteQL's offset paging stops here; past it, keyset scans (scan.py)
T = TypeVar("T")


class ReadOnlyViolation(RuntimeError):
    """A request that could change NetSuite was about to be sent; nothing was sent (SPEC R3)."""


def account_host(account_id: str) -> str:
    """`1234567_SB1` → `https://1234567-sb1.suitetalk.api.netsuite.com`."""
    return f"https://{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


def is_read_only(method: str, path: str) -> bool:
    if method == "POST":
        return path == SUITEQL_PATH
    if method == "GET":
        return path.startswith(METADATA_PATH) or path == GOVERNANCE_PATH
    return False


@dataclass
class RetryPolicy:
    """Jittered exponential backoff for 429, 5xx and network errors; everything else fails fast."""

    attempts: int = 8
    total_seconds: float = 600.0
    initial_seconds: float = 0.5
    max_wait_seconds: float = 30.0


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rows: int = 0
    rejected_rows: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "rows": self.rows,
            "rejected_rows": self.rejected_rows,
        }


class NetSuiteClient:
    """One pooled HTTP client per connection; thread-safe, so range scans can share it."""

    def __init__(
        self,
        account_id: str,
        auth: httpx.Auth,
        *,
        base_url: str | None = None,
        budget: ConcurrencyBudget | None = None,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.account_id = account_id
        self.base_url = (base_url or account_host(account_id)).rstrip("/")
        self.budget = budget or ConcurrencyBudget(5)
        self.retry = retry or RetryPolicy()
        self.stats = ClientStats()
        limits = httpx.Limits(
            max_connections=max(self.budget.limit * 2, 10),
            max_keepalive_connections=max(self.budget.limit * 2, 10),
        )
        # Pages asked for ahead of time (`prefetch`), by what was asked; each answer is handed out once.
        self._ahead: dict[tuple[str, int, RowShape], Future[Page]] = {}
        self._ahead_lock = threading.Lock()
        self._ahead_pool: ThreadPoolExecutor | None = None
        self._closing = threading.Event()
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            limits=limits,
            event_hooks={"request": [self._refuse_writes]},
        )

    def __repr__(self) -> str:
        return f"NetSuiteClient(account_id={self.account_id!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._closing.set()  # a prefetch still retrying stops at its next wait
        if self._ahead_pool is not None:
            with self._ahead_lock:
                for ahead in self._ahead.values():
                    if ahead.cancel():  # never sent: it was counted when asked
                        self.stats.add(requests=-1)
            self._ahead_pool.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _refuse_writes(request: httpx.Request) -> None:
        if not is_read_only(request.method, request.url.path):
            raise ReadOnlyViolation(
                f"refused to send {request.method} {request.url.path}: the client is read-only"
            )

    # -- requests ----------------------------------------------------------------------------------------

    def _send_once(self, method: str, path: str, *, counted: bool = False, **kwargs: Any) -> httpx.Response:
        with self.budget.slot():
            if not counted:
                self.stats.add(requests=1)
            try:
                response = self._http.request(method, path, **kwargs)
                response.read()
            except httpx.TransportError as error:
                raise error_from_transport(error, self.account_id) from None
        if response.status_code >= 400:
            error = error_from_response(response, self.account_id)
            if isinstance(error, NetSuiteRateLimited):
                self.stats.add(rate_limited=1)
                self.budget.adaptive.on_throttled()
            raise error
        self.budget.adaptive.on_success()
        return response

    def _send(
        self,
        method: str,
        path: str,
        read: Callable[[httpx.Response], T],
        *,
        counted: bool = False,
        **kwargs: Any,
    ) -> T:
        """Send with retries; `read` parses and checks the answer inside the loop, so an answer cut off
        on the way (a retryable `NetSuiteProtocolError`) is asked for again like a 503. `counted`: the
        first attempt is already in `stats.requests` (a prefetch counts it when asked, not when sent)."""
        policy = self.retry
        first = [counted]

        def attempt() -> T:
            already, first[0] = first[0], False
            return read(self._send_once(method, path, counted=already, **kwargs))

        def count_retry(_: Any) -> None:
            self.stats.add(retries=1)

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, NetSuiteError) and e.retryable),
            wait=wait_random_exponential(multiplier=policy.initial_seconds, max=policy.max_wait_seconds),
            stop=stop_after_attempt(policy.attempts)
            | stop_after_delay(policy.total_seconds)
            | stop_when_event_set(self._closing),
            before_sleep=count_retry,
            reraise=True,
        )
        return retrying(attempt)

    def _json_object(self, response: httpx.Response, model: type[BaseModel], what: str) -> dict[str, Any]:
        """The body, checked against `model`, as NetSuite sent it (the check builds nothing we keep)."""
        body = parse_json(response, self.account_id, what)
        validated(model, body, response, self.account_id, what)
        return body

    def prefetch(self, query: str, *, limit: int = MAX_PAGE, shape: RowShape = KEYED) -> None:
        """Ask for the first page of `query` now, in the background: the next `suiteql` call with the same
        query, limit and shape gets this answer (or its error; one that more retries might get past is asked
        again) instead of asking again. A run uses it to send its first questions together rather than one
        round trip after another; an answer nobody asks for costs one request (none if closing comes before
        it was sent) and is dropped when the client closes."""
        with self._ahead_lock:
            if self._ahead_pool is None:
                self._ahead_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="netsuite-ahead")
            key = (query, limit, shape)
            if key not in self._ahead:
                # Counted now, so whoever reads `stats` after this call sees it, sent or not yet.
                self.stats.add(requests=1)
                self._ahead[key] = self._ahead_pool.submit(self._suiteql_page, query, limit, 0, shape, True)

    def suiteql(self, query: str, *, limit: int = MAX_PAGE, offset: int = 0, shape: RowShape = KEYED) -> Page:
        """One page of a SuiteQL query; keys lower-cased (NetSuite's casing may vary).

        Rows must have `shape` (by default a valid `id`; pass `responses.UNKEYED` for a query that selects
        none, such as an aggregate); rows that do not are on `page.rejected`, not in `page.items`."""
        ahead = None
        if offset == 0 and self._ahead:
            with self._ahead_lock:
                ahead = self._ahead.pop((query, limit, shape), None)
        page = None
        if ahead is not None:
            try:
                page = ahead.result()
            except NetSuiteError as error:
                if not error.retryable:
                    raise
                # The early request gave up retrying (a storm, maybe over by now): ask again, with a retry
                # budget of its own, as if nothing had been asked ahead.
        if page is None:
            page = self._suiteql_page(query, limit, offset, shape)
        self.stats.add(rows=len(page.items), rejected_rows=len(page.rejected))
        return page

    def _suiteql_page(
        self, query: str, limit: int, offset: int, shape: RowShape, counted: bool = False
    ) -> Page:
        return self._send(
            "POST",
            SUITEQL_PATH,
            lambda response: suiteql_page(response, self.account_id, shape=shape, offset=offset),
            counted=counted,
            params={"limit": limit, "offset": offset},
            json={"q": query},
            headers={"Prefer": "transient"},
        )

    def suiteql_all(self, query: str, *, page_size: int = MAX_PAGE, shape: RowShape = KEYED) -> CheckedRows:
        """Every row of a small query (offset paging; use `scan` for anything that may pass 100,000 rows).

        A list of row dicts as before; its `rejected` attribute lists the rows of the wrong shape."""
        rows = CheckedRows()
        offset = 0
        while True:
            page = self.suiteql(query, limit=page_size, offset=offset, shape=shape)
            rows += page.items
            rows.rejected += page.rejected
            if not page.has_more:
                return rows
            offset += page_size
            # Without these a server that always says `hasMore` would keep us asking forever.
            if not (page.items or page.rejected):
                raise protocol_error(
                    self.account_id,
                    "the SuiteQL query",
                    f"NetSuite sent an empty page at offset {offset - page_size} but said more rows follow "
                    "(`hasMore` true); expected rows or `hasMore` false.",
                )
            if offset >= RESULT_CAP:
                raise protocol_error(
                    self.account_id,
                    "the SuiteQL query",
                    f"NetSuite said more rows follow after {offset:,} rows; offset paging ends at "
                    f"{RESULT_CAP:,} rows, so this query needs a keyset scan (netsuite/scan.py).",
                )

    def customer_schema(self) -> dict[str, Any]:
        """The customer record's JSON schema from the metadata catalog (its `properties` checked)."""
        return self._send(
            "GET",
            METADATA_PATH + "customer",
            lambda r: self._json_object(r, RecordCatalog, "the metadata catalog request"),
            headers={"Accept": "application/schema+json"},
        )

    def governance_limits(self) -> dict[str, Any] | None:
        """The account's concurrency limits, or None when the role may not read them (non-admin roles)."""
        try:
            return self._send(
                "GET",
                GOVERNANCE_PATH,
                lambda r: self._json_object(r, JsonObject, "the governance limits request"),
            )
        except (NetSuitePermissionError, NetSuiteQueryError):
            return None

    def account_concurrency_limit(self, fallback: int) -> int:
        limits = self.governance_limits() or {}
        value = limits.get("accountConcurrencyLimit")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else fallback
