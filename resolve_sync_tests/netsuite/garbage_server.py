"""A tiny HTTP server on a real socket that answers whatever a test tells it to: the NetSuite that sends an
HTML login page with status 200, JSON cut off mid-body, or rows of the wrong shape. The sandbox speaks
the protocol correctly; this one exists to break it, so the client is tested over HTTP, not with mocks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Asked:
    """One request as the server saw it: the SuiteQL text and the URL's limit/offset."""

    path: str
    query: str
    params: dict[str, str]


def envelope(items: Any, *, has_more: bool = False, **extra: Any) -> Answer:
    body = {"links": [], "count": len(items), "hasMore": has_more, "items": items, "offset": 0}
    body["totalResults"] = len(items)
    return Answer(json.dumps({**body, **extra}).encode())


Responder = Callable[[Asked], Answer]


@dataclass
class GarbageServer:
    respond: Responder
    asked: list[Asked] = field(default_factory=list)

    def __enter__(self) -> GarbageServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each small answer waits 40 ms for a delayed ACK

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                self._answer()

            def do_GET(self) -> None:  # noqa: N802
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    query = json.loads(raw).get("q", "") if raw else ""
                except ValueError:
                    query = ""
                url = urlsplit(self.path)
                asked = Asked(url.path, query, {k: v[0] for k, v in parse_qs(url.query).items()})
                server.asked.append(asked)
                answer = server.respond(asked)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
