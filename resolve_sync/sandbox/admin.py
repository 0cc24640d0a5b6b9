"""The sandbox's admin API under /_sandbox/: change records, the clock, latency and faults; read stats.

Every call needs the fixture's admin token in `X-Sandbox-Admin-Token`; without it the answer is 401.
Payloads are checked strictly (types and ranges) before anything changes: a bad one is answered 400 with
`{"error": "..."}` naming the field, and never stored.
"""

from __future__ import annotations

import datetime as dt
import hmac
import sqlite3
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from resolve_sync.sandbox.checks import PayloadError, integer, number, settings_object
from resolve_sync.sandbox.faults import FaultPlan, Latency
from resolve_sync.sandbox.fixture import MAX_INTERNAL_ID, REQUIRED_FIELDS, FixtureError
from resolve_sync.sandbox.request_body import ADMIN_MAX_BYTES, BodyRejected, parse_json, read_body

if TYPE_CHECKING:
    from resolve_sync.sandbox.app import Sandbox

ADMIN_HEADER = "x-sandbox-admin-token"
MAX_CONCURRENCY_LIMIT = 1_000
MAX_ADVANCE_SECONDS = 1e11  # about 3,000 years; the clock itself refuses to leave 1900..9997


def admin_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def token_matches(sent: str, expected: str) -> bool:
    """Constant-time comparison of bytes: compare_digest refuses str with non-ASCII characters (a TypeError),
    and header values arrive as Latin-1 text, so both sides are compared as UTF-8 bytes."""
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def admin_routes(sandbox: Sandbox) -> list[Route]:
    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if not token_matches(request.headers.get(ADMIN_HEADER, ""), sandbox.account.fixture.admin_token):
                return admin_error(401, f"missing or wrong {ADMIN_HEADER} header")
            try:
                return await handler(request)
            except BodyRejected as rejected:
                return admin_error(rejected.status, rejected.reason)
            except (PayloadError, FixtureError) as error:
                return admin_error(400, str(error))

        return endpoint

    async def body(request: Request, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        payload = parse_json(await read_body(request, ADMIN_MAX_BYTES), empty={})
        return dict(settings_object(payload, where, allowed))

    async def upsert(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in REQUIRED_FIELDS:
            raise PayloadError(f"unknown record kind {kind[:60]!r}; use one of {', '.join(REQUIRED_FIELDS)}")
        payload = parse_json(await read_body(request, ADMIN_MAX_BYTES))
        records = payload.get("records") if isinstance(payload, dict) else payload
        if not isinstance(records, list):
            raise PayloadError('send {"records": [...]} or a JSON list')

        def store() -> int:
            try:
                return sandbox.account.upsert(kind, records)
            except sqlite3.Error as error:  # validation should make this unreachable; never a 500
                raise FixtureError(f"the records could not be stored: {error}") from None

        count = await anyio.to_thread.run_sync(store)
        return JSONResponse({"upserted": count})

    async def delete(request: Request) -> Response:
        kind, record_id = request.path_params["kind"], request.path_params["record_id"]
        if not 0 <= record_id <= MAX_INTERNAL_ID:  # the route only matches digits, but of any length
            raise PayloadError(f"record id must be a NetSuite internal id up to {MAX_INTERNAL_ID}")
        deleted = await anyio.to_thread.run_sync(lambda: sandbox.account.delete(kind, record_id))
        return JSONResponse({"deleted": deleted}, status_code=200 if deleted else 404)

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            payload = await body(request, "clock", ("now", "advance_seconds"))
            now = payload.get("now")
            if "now" in payload:
                if not isinstance(now, str) or len(now) > 64:
                    raise PayloadError('clock.now must be an ISO datetime string, e.g. "2026-11-26T09:00:00"')
                try:
                    now = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
                except ValueError:
                    raise PayloadError(f"clock.now: {payload['now']!r} is not an ISO datetime") from None
            advance = (
                number(
                    payload, "advance_seconds", "clock", low=-MAX_ADVANCE_SECONDS, high=MAX_ADVANCE_SECONDS
                )
                if "advance_seconds" in payload
                else 0.0
            )
            # Both or neither: check the resulting clock before changing anything.
            previous = sandbox.account.clock.offset
            try:
                if now is not None:
                    sandbox.account.clock.set(now)
                if advance:
                    sandbox.account.clock.advance(advance)
            except ValueError as error:
                sandbox.account.clock.offset = previous
                raise PayloadError(str(error)) from None
        return JSONResponse(
            {
                "now": sandbox.account.clock.now_local().isoformat(),
                "timezone": sandbox.account.fixture.timezone,
            }
        )

    async def faults(request: Request) -> Response:
        payload = parse_json(await read_body(request, ADMIN_MAX_BYTES), empty={})
        sandbox.faults = FaultPlan.from_config(payload)
        return JSONResponse({"ok": True})

    async def latency(request: Request) -> Response:
        payload = parse_json(await read_body(request, ADMIN_MAX_BYTES), empty={})
        sandbox.latency = Latency.from_config(payload)
        return JSONResponse({"ok": True})

    async def settings(request: Request) -> Response:
        payload = await body(request, "settings", ("concurrency_limit",))
        if "concurrency_limit" in payload:
            sandbox.concurrency_limit = integer(
                payload, "concurrency_limit", "settings", low=1, high=MAX_CONCURRENCY_LIMIT
            )
        return JSONResponse({"concurrency_limit": sandbox.concurrency_limit})

    async def stats(request: Request) -> Response:
        return JSONResponse(sandbox.stats.as_json())

    async def reset_stats(request: Request) -> Response:
        in_flight = sandbox.stats.in_flight
        sandbox.stats = type(sandbox.stats)(in_flight=in_flight, peak_concurrency=in_flight)
        return JSONResponse({"ok": True})

    async def revoke_tokens(request: Request) -> Response:
        sandbox.oauth2.revoke_all()
        return JSONResponse({"ok": True})

    return [
        Route("/_sandbox/records/{kind}", guarded(upsert), methods=["POST"]),
        Route("/_sandbox/records/{kind}/{record_id:int}", guarded(delete), methods=["DELETE"]),
        Route("/_sandbox/clock", guarded(clock), methods=["GET", "POST"]),
        Route("/_sandbox/faults", guarded(faults), methods=["PUT", "POST"]),
        Route("/_sandbox/latency", guarded(latency), methods=["PUT", "POST"]),
        Route("/_sandbox/settings", guarded(settings), methods=["PUT", "POST"]),
        Route("/_sandbox/stats", guarded(stats), methods=["GET"]),
        Route("/_sandbox/stats/reset", guarded(reset_stats), methods=["POST"]),
        Route("/_sandbox/tokens/revoke", guarded(revoke_tokens), methods=["POST"]),
    ]
