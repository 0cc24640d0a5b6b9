"""The sandbox's ASGI app: NetSuite's REST endpoints plus an admin API under /_sandbox/.

Every NetSuite request passes the same gates real NetSuite applies, in this order: the account's
concurrency limit (429), injected faults, authentication (401), then the endpoint itself.

Whatever arrives, the answer is never a 500 (unless a 5xx fault was asked for): bodies are read within a
size cap, JSON within a nesting cap, query parameters are checked, SuiteQL runs within a budget
(query_budget.py), and errors on NetSuite's routes keep NetSuite's body shape.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from resolve_sync.sandbox.account import SandboxAccount
from resolve_sync.sandbox.auth import ClientCredentialsIssuer, LoginRejected, TokenBasedAuth
from resolve_sync.sandbox.authorization import AuthorizationServer, authorization_routes
from resolve_sync.sandbox.faults import FaultPlan, Latency
from resolve_sync.sandbox.fixture import FixtureError, check_admin_token
from resolve_sync.sandbox.metadata import customer_schema
from resolve_sync.sandbox.query_budget import QueryBudget, QueryBudgetExceeded
from resolve_sync.sandbox.request_body import (
    SUITEQL_MAX_BYTES,
    TOKEN_MAX_BYTES,
    BodyRejected,
    parse_json,
    read_body,
)
from resolve_sync.sandbox.suiteql import QueryCompiler, SuiteQLError, column_renderers, unsupported

MAX_LIMIT = 1000
MAX_OFFSET_DIGITS = 9  # offsets past RESULT_CAP are refused anyway; longer strings are not numbers to us
RESULT_CAP = 100_000  # SuiteQL serves at most 100,000 results without SuiteAnalytics Connect
ERROR_TYPES = {
    400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    403: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
    404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
    405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
    413: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.14",
    # NetSuite's 429 body carries the old rfc2616 type and the title "Bad Request" (seen live by clients).
    429: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
    502: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.3",
    503: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4",
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    429: "Bad Request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def ns_error(
    status: int,
    code: str,
    detail: str,
    *,
    query_param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    item: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if query_param:
        item["o:errorQueryParam"] = query_param
    body = {
        "type": ERROR_TYPES.get(status, ERROR_TYPES[400]),
        "title": TITLES.get(status, "Bad Request"),
        "status": status,
        "o:errorDetails": [item],
    }
    return JSONResponse(body, status_code=status, headers=headers)


def invalid_login(bearer: bool, account_id: str) -> JSONResponse:
    headers = (
        {
            "WWW-Authenticate": f'Bearer realm="{account_id}", error="invalid_token", '
            'error_description="Invalid login attempt."'
        }
        if bearer
        else None
    )
    return ns_error(401, "INVALID_LOGIN", "Invalid login attempt.", headers=headers)


def body_rejected(rejected: BodyRejected) -> JSONResponse:
    # [U] NetSuite's answer to an oversized body is not documented; INVALID_CONTENT is its code for a
    # request body it cannot use (Oracle's "Request with an Invalid Body" example).
    return ns_error(rejected.status, "INVALID_CONTENT", f"Invalid request body: {rejected.reason}.")


def query_budget_exceeded() -> JSONResponse:
    # [U] What REST SuiteQL answers when NetSuite stops a long search is not documented. SuiteScript's
    # searches (the same engine behind N/query and SuiteQL) fail with SSS_SEARCH_TIMEOUT, so that is the
    # code most likely to reach a REST caller; 400 because the query, not the service, is at fault.
    return ns_error(
        400,
        "SSS_SEARCH_TIMEOUT",
        "Search error occurred: the search took too long and was stopped (the sandbox's query budget). "
        "Narrow the query: add join conditions, filter on indexed columns, page by key.",
        query_param="q",
    )


# When the request being answered arrived (set by `gate`, read by `delay` in the same task).
_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("sandbox_request_arrived")


@dataclass
class Stats:
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    in_flight: int = 0
    peak_concurrency: int = 0
    rows_served: int = 0
    auth_failures: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        by_path: dict[str, dict[str, int]] = {}
        for (path, status), count in sorted(self.requests.items()):
            by_path.setdefault(path, {})[str(status)] = count
        return {
            "requests_total": sum(self.requests.values()),
            "requests": by_path,
            "status_counts": {str(s): c for s, c in sorted(_sum_by_status(self.requests).items())},
            "in_flight": self.in_flight,
            "peak_concurrency": self.peak_concurrency,
            "rows_served": self.rows_served,
            "auth_failures": dict(self.auth_failures),
        }


def _sum_by_status(requests: Counter[tuple[str, int]]) -> dict[int, int]:
    totals: Counter[int] = Counter()
    for (_, status), count in requests.items():
        totals[status] += count
    return dict(totals)


class ResetMidBody(Response):
    """Sends the headers and half the body, then breaks the connection (a reset as the client sees it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send(
            {"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True}
        )
        raise ConnectionResetError("sandbox fault: connection reset mid-body")


class Sandbox:
    """State shared by the routes: the account, auth, faults, latency, stats."""

    def __init__(self, account: SandboxAccount) -> None:
        fixture = account.fixture
        self.account = account
        self.concurrency_limit = fixture.concurrency_limit
        self.tba = TokenBasedAuth(fixture.account_id, fixture.credentials["tba"])
        self.oauth2 = ClientCredentialsIssuer(
            fixture.account_id, fixture.credentials["oauth2_m2m"], fixture.oauth2_token_ttl_seconds
        )
        self.authorization = AuthorizationServer(account, self.tba)  # "Allow access" flows
        self.latency = Latency.from_config(fixture.latency)
        self.faults = FaultPlan.from_config(fixture.faults)
        self.stats = Stats()
        self._numbers = itertools.count(1)
        self._compiler = QueryCompiler(account.tables)

    # -- the gates ---------------------------------------------------------------------------------------

    async def gate(
        self, request: Request, handler: Any, *, authenticate: bool = True, max_body: int = TOKEN_MAX_BYTES
    ) -> Response:
        path = request.scope["path"]  # not request.url: a hostile Host header must not break parsing
        if self.stats.in_flight >= self.concurrency_limit:
            return self._record(
                path,
                ns_error(
                    429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."
                ),
            )
        self.stats.in_flight += 1
        self.stats.peak_concurrency = max(self.stats.peak_concurrency, self.stats.in_flight)
        number = next(self._numbers)
        _ARRIVED.set(time.perf_counter())
        try:
            fault = self.faults.draw(number)
            if fault == "429":
                response: Response = ns_error(
                    429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."
                )
            elif fault in ("500", "502", "503"):
                status = int(fault)
                response = ns_error(
                    status, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: sandbox"
                )
            else:
                if fault == "stall":
                    await asyncio.sleep(self.faults.stall_seconds)
                try:
                    await read_body(request, max_body)
                except BodyRejected as rejected:
                    response = body_rejected(rejected)
                else:
                    response = (
                        await self._authenticated(request, handler, number)
                        if authenticate
                        else await handler(request, number)
                    )
                if fault == "reset":
                    response = ResetMidBody(
                        response.body, status_code=response.status_code, headers=dict(response.headers)
                    )
            return self._record(path, response)
        finally:
            self.stats.in_flight -= 1

    async def _authenticated(self, request: Request, handler: Any, number: int) -> Response:
        authorization = request.headers.get("authorization", "")
        body = await request.body()  # already read, within its cap, by gate()
        try:
            if authorization[:6].lower() == "oauth ":
                self.tba.verify(request.method, str(request.url), authorization, body)
            elif authorization[:7].lower() == "bearer ":
                self.authorization.verify_bearer(authorization, otherwise=self.oauth2.verify)
            else:
                raise LoginRejected("no Authorization header")
        except (ValueError, TypeError, OverflowError):
            # A header or URL oauthlib cannot even parse (a hostile Host, odd escapes) is a failed login.
            self.stats.auth_failures["malformed request"] += 1
            return invalid_login(authorization[:7].lower() == "bearer ", self.account.fixture.account_id)
        except LoginRejected as rejected:
            self.stats.auth_failures[rejected.reason] += 1
            return invalid_login(authorization[:7].lower() == "bearer ", self.account.fixture.account_id)
        return await handler(request, number)

    def _record(self, path: str, response: Response) -> Response:
        self.stats.requests[(path, response.status_code)] += 1
        return response

    async def delay(self, number: int, rows: int) -> None:
        """The configured latency is the request's response time, counted from its arrival, as NetSuite's
        page time includes its own query work: the sandbox's work for the request is done within it (and
        only what exceeds it makes the answer later)."""
        seconds = self.latency.seconds(number, rows)
        arrived = _ARRIVED.get(None)
        if arrived is not None:
            seconds -= time.perf_counter() - arrived
        if seconds > 0:
            await asyncio.sleep(seconds)

    # -- NetSuite endpoints ------------------------------------------------------------------------------

    async def suiteql(self, request: Request, number: int) -> Response:
        if request.headers.get("prefer", "").strip().lower() != "transient":
            # [U] NetSuite's exact wording; the header is documented as required for SuiteQL.
            return ns_error(400, "INVALID_HEADER", "The 'Prefer: transient' header is required for SuiteQL.")
        limit_raw, offset_raw = (
            request.query_params.get("limit", str(MAX_LIMIT)),
            request.query_params.get("offset", "0"),
        )
        if not _is_small_number(limit_raw) or not 1 <= int(limit_raw) <= MAX_LIMIT:
            return ns_error(
                400,
                "INVALID_PARAMETER",
                f"Invalid value for the 'limit' parameter. Provide an integer between 1 and {MAX_LIMIT}.",
                query_param="limit",
            )
        limit = int(limit_raw)
        if not _is_small_number(offset_raw) or int(offset_raw) % limit:
            return ns_error(
                400,
                "INVALID_PARAMETER",
                "Invalid value for the 'offset' parameter. The offset must be a multiple of the limit.",
                query_param="offset",
            )
        offset = int(offset_raw)
        try:
            payload = parse_json(await request.body())
        except BodyRejected:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("q"), str):
            return ns_error(
                400, "INVALID_PARAMETER", "The request body must be a JSON object with a 'q' string."
            )
        if offset >= RESULT_CAP:
            # [U] Sources disagree (rows stop vs an error); an explicit error cannot be mistaken for the end.
            return ns_error(
                400,
                "INVALID_PARAMETER",
                f"The maximum number of results for a SuiteQL query is {RESULT_CAP}. "
                "Narrow the query, for example with keyset paging on id.",
                query_param="offset",
            )
        try:
            rows, response = await anyio.to_thread.run_sync(self._page, payload["q"], limit, offset, request)
        except SuiteQLError as error:
            return ns_error(400, "INVALID_PARAMETER", error.detail, query_param="q")
        except QueryBudgetExceeded:
            return query_budget_exceeded()
        await self.delay(number, rows)
        self.stats.rows_served += rows
        return response

    def _page(self, query: str, limit: int, offset: int, request: Request) -> tuple[int, Response]:
        """The page's rows and its whole answer, serialised here, in the request's worker thread: the
        work then falls within the page's latency (counted from its arrival) instead of after it."""
        total, items = self._run_query(query, limit, offset)
        visible = min(total, RESULT_CAP)
        envelope = {
            "links": _page_links(str(request.url).split("?", 1)[0], limit, offset, visible),
            "count": len(items),
            "hasMore": offset + len(items) < visible,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }
        return len(items), page_response(envelope)

    def _run_query(self, query: str, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        prepared = self._compiler.prepare(query, frozenset(self.account.fixture.denied_tables))
        compiled, params = prepared.compiled, prepared.params
        connection = self.account.reader()
        try:
            with QueryBudget(connection, rows=self.account.size_hint()):  # one budget for count, page, fetch
                total = connection.execute(compiled.count_sql, params).fetchone()[0]
                # Named parameters only (the template's and these), so the statement text is the same
                # for every page of a scan and SQLite reuses its prepared statement.
                columns, cursor = self.account.execute(
                    f"SELECT * FROM ({compiled.sql}) LIMIT :nsq_limit OFFSET :nsq_offset",
                    {**params, "nsq_limit": limit, "nsq_offset": offset},
                )
                rows = cursor.fetchall()
        except QueryBudgetExceeded:
            raise
        except Exception:  # noqa: BLE001 - anything SQLite rejects is an unsupported search to the caller
            raise unsupported() from None
        kinds = dict(compiled.kinds)
        for table in compiled.star_tables:
            for name, kind in table.columns.items():
                kinds.setdefault(name, kind)
        renderers = column_renderers(columns, kinds, self.account.fixture.date_format)
        items = []
        for row in rows:
            item: dict[str, Any] = {"links": []}
            for (name, render), value in zip(renderers, row, strict=True):
                if value is not None:  # NetSuite omits null columns
                    item[name] = render(value)
            items.append(item)
        return total, items

    async def metadata_catalog(self, request: Request, number: int) -> Response:
        record = request.path_params["record"].lower()
        await self.delay(number, 0)
        if record != "customer":
            return ns_error(404, "NONEXISTENT_ID", f"Record type '{record}' is not available in the sandbox.")
        if "customer" in self.account.fixture.denied_tables:
            return ns_error(
                403,
                "INSUFFICIENT_PERMISSION",
                "Permission Violation: You need the 'Customers' permission to access this page.",
            )
        schema = customer_schema(self.account)
        accept = request.headers.get("accept", "")
        if "swagger+json" in accept:
            return JSONResponse(
                {
                    "openapi": "3.0.1",
                    "info": {"title": "NetSuite REST Record API", "version": "v1"},
                    "components": {"schemas": {"customer": schema}},
                    "paths": {},
                },
                media_type="application/swagger+json",
            )
        return JSONResponse(schema, media_type="application/schema+json")

    async def governance_limits(self, request: Request, number: int) -> Response:
        await self.delay(number, 0)
        if "governancelimits" in self.account.fixture.denied_tables:
            return ns_error(
                403,
                "INSUFFICIENT_PERMISSION",
                "Permission Violation: You need an administrator role to view governance limits.",
            )
        # [U] Field names of the governanceLimits response are not documented in what we could read.
        return JSONResponse(
            {
                "accountConcurrencyLimit": self.concurrency_limit,
                "accountUnallocatedConcurrencyLimit": self.concurrency_limit,
                "integrationConcurrencyLimit": None,
            }
        )

    async def token(self, request: Request, number: int) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        try:
            form = dict(parse_qsl(body, max_num_fields=50))
            token_url = str(request.url).split("?", 1)[0]
            return JSONResponse(self.oauth2.issue(form, token_url))
        except (ValueError, TypeError, KeyError, OverflowError):
            # parse_qsl's field cap, or an assertion PyJWT or the key cannot even read: a refused client.
            self.stats.auth_failures["malformed assertion"] += 1
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        except LoginRejected as rejected:
            self.stats.auth_failures[rejected.reason] += 1
            return JSONResponse({"error": "invalid_client"}, status_code=401)


def page_response(envelope: dict[str, Any]) -> Response:
    """A SuiteQL page serialised with orjson (the same compact UTF-8 JSON as Starlette's encoder, several
    times faster on a 1,000-row page); anything orjson refuses goes through Starlette's encoder as before."""
    try:
        body = orjson.dumps(envelope)
    except orjson.JSONEncodeError:
        return JSONResponse(envelope)
    return Response(body, media_type="application/json")


def _is_small_number(raw: str) -> bool:
    """ASCII digits only ('²'.isdigit() is True but int('²') fails), few enough to be a page position."""
    return raw.isascii() and raw.isdigit() and len(raw) <= MAX_OFFSET_DIGITS


def _page_links(base: str, limit: int, offset: int, visible: int) -> list[dict[str, str]]:
    def href(at: int) -> str:
        return f"{base}?{urlencode({'limit': limit, 'offset': at})}"

    last = max((visible - 1) // limit * limit, 0)
    links = []
    if offset > 0:
        links += [
            {"rel": "previous", "href": href(max(offset - limit, 0))},
            {"rel": "first", "href": href(0)},
        ]
    links.append({"rel": "self", "href": href(offset)})
    if offset + limit < visible:
        links.append({"rel": "next", "href": href(offset + limit)})
    links.append({"rel": "last", "href": href(last)})
    return links


def build_app(account: SandboxAccount) -> Starlette:
    from resolve_sync.sandbox.admin import admin_error, admin_routes

    check_admin_token(account.fixture.admin_token)  # a Fixture built in code passes the same rule
    sandbox = Sandbox(account)

    def gated(handler: Any, *, authenticate: bool = True, max_body: int = TOKEN_MAX_BYTES) -> Any:
        async def endpoint(request: Request) -> Response:
            return await sandbox.gate(request, handler, authenticate=authenticate, max_body=max_body)

        return endpoint

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 400)
        path = request.scope["path"]
        if path.startswith("/_sandbox/"):
            return admin_error(status, "no such admin call" if status == 404 else f"HTTP {status}")
        if status == 404:
            return ns_error(404, "NONEXISTENT_ID", f"The requested URL {path[:200]} was not found.")
        # [U] NetSuite's code for a wrong method is not documented; the shape is its own.
        return ns_error(
            status,
            "INVALID_REQUEST",
            f"{request.method[:20]} is not supported here.",
            headers=getattr(exc, "headers", None),
        )

    routes = [
        Route(
            "/services/rest/query/v1/suiteql",
            gated(sandbox.suiteql, max_body=SUITEQL_MAX_BYTES),
            methods=["POST"],
        ),
        Route(
            "/services/rest/record/v1/metadata-catalog/{record}",
            gated(sandbox.metadata_catalog),
            methods=["GET"],
        ),
        Route("/services/rest/system/v1/governanceLimits", gated(sandbox.governance_limits), methods=["GET"]),
        *authorization_routes(sandbox, gated),  # the token endpoint, consent pages, TBA's three legs
        *admin_routes(sandbox),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.sandbox = sandbox
    return app


__all__ = ["FixtureError", "Sandbox", "build_app", "ns_error"]
