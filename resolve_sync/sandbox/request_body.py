"""Reading request bodies within bounds: a size cap while the bytes arrive, a nesting cap on parsed JSON.

An attacker's body must cost the sandbox no more than a normal one: nothing past the cap is read into
memory, and a body nested deeper than any real payload is refused before code that walks it recursively
(json itself, SQLite parameter binding, validation) can hit Python's recursion limit.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import ClientDisconnect, Request

SUITEQL_MAX_BYTES = 1 << 20  # a SuiteQL query is at most 100,000 characters (suiteql.MAX_QUERY_LENGTH)
TOKEN_MAX_BYTES = 64 << 10  # a form with one JWT assertion
ADMIN_MAX_BYTES = 64 << 20  # admin upserts carry thousands of records at once (bench, demo)
MAX_JSON_DEPTH = 32  # the deepest real payload is an upsert: {"records": [{"custom": {...}}]}


class BodyRejected(Exception):
    """A body the sandbox will not process; `status` is 413 (too large) or 400 (malformed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refusing (413) as soon as it is known to exceed `max_bytes`.

    The bytes are cached on the request the way Starlette's own `Request.body()` does, so later
    `await request.body()` calls return them without reading the stream again.
    """
    cached = getattr(request, "_body", None)
    if cached is not None:
        if len(cached) > max_bytes:
            raise BodyRejected(413, f"the request body is over {max_bytes} bytes")
        return cached
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and len(declared) < 20 and int(declared) > max_bytes:
        raise BodyRejected(413, f"the request body is over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise BodyRejected(413, f"the request body is over {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyRejected(400, "the client went away before sending the whole body") from None
    body = b"".join(chunks)
    request._body = body  # what Request.body() caches; handlers may read the body again
    return body


def parse_json(body: bytes, *, empty: Any = None, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON body, refusing invalid UTF-8, invalid JSON, NaN/Infinity and nesting over `max_depth`."""
    if not body.strip():
        return empty
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise BodyRejected(400, "the body is not UTF-8") from None
    except RecursionError:
        raise BodyRejected(400, f"the body is nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # invalid JSON, NaN/Infinity, or an integer over Python's digit limit
        raise BodyRejected(400, f"the body is not JSON: {exc}") from None
    if _depth(value) > max_depth:
        raise BodyRejected(400, f"the body is nested deeper than {max_depth} levels")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf; no field of ours means infinity
        raise ValueError(f"{text[:40]} is out of range")
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest, walked without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
