"""The sandbox's admin API under /_sandbox/: change records, the clock, latency and faults; read stats.

Every call needs the fixture's admin token in `X-Sandbox-Admin-Token`; without it the answer is 401.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from resolve_sync.sandbox.faults import FaultPlan, Latency
from resolve_sync.sandbox.fixture import REQUIRED_FIELDS, FixtureError

if TYPE_CHECKING:
    from resolve_sync.sandbox.app import Sandbox

ADMIN_HEADER = "x-sandbox-admin-token"


def admin_routes(sandbox: Sandbox) -> list[Route]:
    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            token = request.headers.get(ADMIN_HEADER, "")
            if not hmac.compare_digest(token, sandbox.account.fixture.admin_token):
                return JSONResponse({"error": f"missing or wrong {ADMIN_HEADER} header"}, status_code=401)
            try:
                return await handler(request)
            except (FixtureError, ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    async def body(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"body is not JSON: {exc}") from None

    async def upsert(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in REQUIRED_FIELDS:
            raise ValueError(f"unknown record kind {kind!r}; use one of {', '.join(REQUIRED_FIELDS)}")
        payload = await body(request)
        records = payload.get("records") if isinstance(payload, dict) else payload
        if not isinstance(records, list):
            raise ValueError('send {"records": [...]} or a JSON list')
        count = await anyio.to_thread.run_sync(lambda: sandbox.account.upsert(kind, records))
        return JSONResponse({"upserted": count})

    async def delete(request: Request) -> Response:
        kind, record_id = request.path_params["kind"], int(request.path_params["record_id"])
        deleted = await anyio.to_thread.run_sync(lambda: sandbox.account.delete(kind, record_id))
        return JSONResponse({"deleted": deleted}, status_code=200 if deleted else 404)

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            payload = await body(request)
            if "now" in payload:
                sandbox.account.clock.set(
                    dt.datetime.fromisoformat(str(payload["now"]).replace("Z", "+00:00"))
                )
            if "advance_seconds" in payload:
                sandbox.account.clock.advance(float(payload["advance_seconds"]))
        return JSONResponse(
            {
                "now": sandbox.account.clock.now_local().isoformat(),
                "timezone": sandbox.account.fixture.timezone,
            }
        )

    async def faults(request: Request) -> Response:
        sandbox.faults = FaultPlan.from_config(await body(request))
        return JSONResponse({"ok": True})

    async def latency(request: Request) -> Response:
        sandbox.latency = Latency.from_config(await body(request))
        return JSONResponse({"ok": True})

    async def settings(request: Request) -> Response:
        payload = await body(request)
        if "concurrency_limit" in payload:
            limit = int(payload["concurrency_limit"])
            if limit < 1:
                raise ValueError("concurrency_limit must be at least 1")
            sandbox.concurrency_limit = limit
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
