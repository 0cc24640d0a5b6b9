"""Run the sandbox: in a background thread (tests, demo, benchmarks) or in the foreground (the CLI)."""

from __future__ import annotations

import gc
import socket
import threading
from pathlib import Path
from types import TracebackType

import uvicorn

from resolve_sync.sandbox.account import SandboxAccount
from resolve_sync.sandbox.app import Sandbox, build_app
from resolve_sync.sandbox.fixture import Fixture, load_fixture


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


class SandboxServer:
    """A sandbox listening on a real socket; the port is known before the server starts."""

    def __init__(self, fixture: Fixture | str | Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fixture = fixture if isinstance(fixture, Fixture) else load_fixture(fixture)
        self.account = SandboxAccount(self.fixture)
        self.app = build_app(self.account)
        self._socket = _bind(host, port)
        bound_host, bound_port = self._socket.getsockname()[:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, timeout_keep_alive=30, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def sandbox(self) -> Sandbox:
        return self.app.state.sandbox

    @property
    def admin_token(self) -> str:
        return self.fixture.admin_token

    def start(self) -> SandboxServer:
        started = threading.Event()

        def run() -> None:
            self._server.config.callback_notify = None
            original_startup = self._server.startup

            async def startup(sockets: list[socket.socket] | None = None) -> None:
                await original_startup(sockets=sockets)
                started.set()

            self._server.startup = startup  # type: ignore[method-assign]
            self._server.run(sockets=[self._socket])
            started.set()

        self._thread = threading.Thread(target=run, name="netsuite-sandbox", daemon=True)
        self._thread.start()
        if not started.wait(timeout=30) or not self._server.started:
            raise RuntimeError("the NetSuite sandbox did not start")
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until stopped: the sandbox's own process (`sandbox serve`).

        The loaded fixture (every record as Python objects) and the imported libraries are kept for the
        process's life; frozen out of the garbage collector here, the collections that a page's
        allocations trigger no longer walk them (a full one took about 75 ms at 200,000 customers, a
        pause every request in flight waited for). Not done in `start()`: a test process's objects
        must stay collectable."""
        gc.collect()
        gc.freeze()
        self._server.run(sockets=[self._socket])

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._socket.close()
        self.account.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
