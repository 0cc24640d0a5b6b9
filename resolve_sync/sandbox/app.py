"""The sandbox's ASGI app: NetSuite's REST endpoints plus an admin API under /_sandbox/.

Every NetSuite request passes the same gates real NetSuite applies, in this order: the account's
concurrency limit (429), injected faults, authentication (401), then the endpoint itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from resolve_sync.sandbox.account import SandboxAccount
from resolve_sync.sandbox.auth import ClientCredentialsIssuer, LoginRejected, TokenBasedAuth
from resolve_sync.sandbox.faults import FaultPlan, Latency
from resolve_sync.sandbox.fixture import FixtureError
from resolve_sync.sandbox.metadata import customer_schema
from resolve_sync.sandbox.suiteql import CompiledQuery, SuiteQLError, compile_suiteql, render_value

MAX_LIMIT = 1000
RESULT_CAP = 100_000  # SuiteQL serves at most 100,000 results without SuiteAnalytics Connect
ERROR_TYPES = {
    400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    401: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    403: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4",
    404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
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
    body = {"type": ERROR_TYPES[status], "title": TITLES[status], "status": status, "o:errorDetails": [item]}
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
        self.latency = Latency.from_config(fixture.latency)
        self.faults = FaultPlan.from_config(fixture.faults)
        self.stats = Stats()
        self._numbers = itertools.count(1)
        self._compiled: dict[str, CompiledQuery] = {}

    # -- the gates ---------------------------------------------------------------------------------------

    async def gate(self, request: Request, handler: Any, *, authenticate: bool = True) -> Response:
        path = request.url.path
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
        body = await request.body()
        try:
            if authorization[:6].lower() == "oauth ":
                self.tba.verify(request.method, str(request.url), authorization, body)
            elif authorization[:7].lower() == "bearer ":
                self.oauth2.verify(authorization)
            else:
                raise LoginRejected("no Authorization header")
        except LoginRejected as rejected:
            self.stats.auth_failures[rejected.reason] += 1
            return invalid_login(authorization[:7].lower() == "bearer ", self.account.fixture.account_id)
        return await handler(request, number)

    def _record(self, path: str, response: Response) -> Response:
        self.stats.requests[(path, response.status_code)] += 1
        return response

    async def delay(self, number: int, rows: int) -> None:
        seconds = self.latency.seconds(number, rows)
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
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
            return ns_error(
                400,
                "INVALID_PARAMETER",
                f"Invalid value for the 'limit' parameter. Provide an integer between 1 and {MAX_LIMIT}.",
                query_param="limit",
            )
        limit = int(limit_raw)
        if not offset_raw.isdigit() or int(offset_raw) % limit:
            return ns_error(
                400,
                "INVALID_PARAMETER",
                "Invalid value for the 'offset' parameter. The offset must be a multiple of the limit.",
                query_param="offset",
            )
        offset = int(offset_raw)
        try:
            payload = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
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
            total, items = await anyio.to_thread.run_sync(self._run_query, payload["q"], limit, offset)
        except SuiteQLError as error:
            return ns_error(400, "INVALID_PARAMETER", error.detail, query_param="q")
        await self.delay(number, len(items))
        self.stats.rows_served += len(items)
        visible = min(total, RESULT_CAP)
        return JSONResponse(
            {
                "links": _page_links(request, limit, offset, visible),
                "count": len(items),
                "hasMore": offset + len(items) < visible,
                "items": items,
                "offset": offset,
                "totalResults": total,
            }
        )

    def _run_query(self, query: str, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        compiled = self._compiled.get(query)
        if compiled is None:
            compiled = compile_suiteql(query, self.account.tables, set(self.account.fixture.denied_tables))
            if len(self._compiled) > 500:
                self._compiled.clear()
            self._compiled[query] = compiled
        try:
            total = self.account.reader().execute(compiled.count_sql).fetchone()[0]
            columns, cursor = self.account.execute(
                f"SELECT * FROM ({compiled.sql}) LIMIT ? OFFSET ?", (limit, offset)
            )
            rows = cursor.fetchall()
        except Exception:  # noqa: BLE001 - anything SQLite rejects is an unsupported search to the caller
            from resolve_sync.sandbox.suiteql import unsupported

            raise unsupported() from None
        kinds = dict(compiled.kinds)
        for table in compiled.star_tables:
            for name, kind in table.columns.items():
                kinds.setdefault(name, kind)
        date_format = self.account.fixture.date_format
        items = []
        for row in rows:
            item: dict[str, Any] = {"links": []}
            for name, value in zip(columns, row, strict=True):
                if value is not None:  # NetSuite omits null columns
                    item[name] = render_value(value, kinds.get(name), date_format)
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
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        token_url = str(request.url).split("?", 1)[0]
        try:
            return JSONResponse(self.oauth2.issue(form, token_url))
        except LoginRejected as rejected:
            self.stats.auth_failures[rejected.reason] += 1
            return JSONResponse({"error": "invalid_client"}, status_code=401)


def _page_links(request: Request, limit: int, offset: int, visible: int) -> list[dict[str, str]]:
    base = str(request.url).split("?", 1)[0]

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
    from resolve_sync.sandbox.admin import admin_routes

    sandbox = Sandbox(account)

    def gated(handler: Any, *, authenticate: bool = True) -> Any:
        async def endpoint(request: Request) -> Response:
            return await sandbox.gate(request, handler, authenticate=authenticate)

        return endpoint

    async def not_found(request: Request, exc: Exception) -> Response:
        return ns_error(404, "NONEXISTENT_ID", f"The requested URL {request.url.path} was not found.")

    routes = [
        Route("/services/rest/query/v1/suiteql", gated(sandbox.suiteql), methods=["POST"]),
        Route(
            "/services/rest/record/v1/metadata-catalog/{record}",
            gated(sandbox.metadata_catalog),
            methods=["GET"],
        ),
        Route("/services/rest/system/v1/governanceLimits", gated(sandbox.governance_limits), methods=["GET"]),
        Route(
            "/services/rest/auth/oauth2/v1/token", gated(sandbox.token, authenticate=False), methods=["POST"]
        ),
        *admin_routes(sandbox),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.sandbox = sandbox
    return app


__all__ = ["FixtureError", "Sandbox", "build_app", "ns_error"]
