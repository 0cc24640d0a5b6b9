"""Shared fixtures: an isolated state folder per test, and the store on SQLite and PostgreSQL.

PostgreSQL tests run when `RESOLVE_SYNC_TEST_PG_URL` (an admin URL) is set or a server answers on
127.0.0.1:5432; each test session creates its own database and drops it afterwards. With `CI=true` a
missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from resolve_sync.store import migrations
from resolve_sync.store.database import create_store_engine, normalise_url

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"


@cache
def _pg_admin_url() -> tuple[str | None, str]:
    """(admin URL, reason) — the URL is None when no server answers."""
    url = normalise_url(os.environ.get("RESOLVE_SYNC_TEST_PG_URL") or DEFAULT_PG_ADMIN_URL)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach the server means "no PostgreSQL here"
        return (
            None,
            f"no PostgreSQL at {make_url(url).render_as_string(hide_password=True)}: {type(exc).__name__}",
        )
    return url, "available"


def pytest_report_header(config: pytest.Config) -> str:
    url, reason = _pg_admin_url()
    if url:
        return f"PostgreSQL tests: on ({make_url(url).render_as_string(hide_password=True)})"
    return f"PostgreSQL tests: skipped, {reason}" + (" (CI=true: they will fail)" if IN_CI else "")


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own state folder and the embedded defaults, whatever the caller's environment."""
    monkeypatch.setenv("RESOLVE_SYNC_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("RESOLVE_SYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("RESOLVE_SYNC_SECRET_KEY", raising=False)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped at the end."""
    admin_url, reason = _pg_admin_url()
    if admin_url is None:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}; PostgreSQL tests must run in CI")
        pytest.skip(reason)
    name = f"resolve_sync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def reset_pg_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of an empty database, once per engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url = request.getfixturevalue("pg_database_url")
    reset_pg_schema(url)
    return url


@pytest.fixture
def store(empty_store_url: str) -> Iterator[Engine]:
    """A migrated store, once per engine."""
    engine = create_store_engine(empty_store_url)
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sandbox_server(request: pytest.FixtureRequest):
    """A sandbox on a free port serving `fixture_dict()` (override with @pytest.mark.sandbox_fixture(...))."""
    from resolve_sync.sandbox.fixture import parse_fixture
    from resolve_sync.sandbox.server import SandboxServer
    from resolve_sync_tests.sandbox_helpers import fixture_dict

    marker = request.node.get_closest_marker("sandbox_fixture")
    raw = marker.args[0] if marker else fixture_dict()
    with SandboxServer(parse_fixture(raw)) as server:
        yield server


@pytest.fixture
def ns(sandbox_server):
    """An httpx client signed with oauthlib's TBA signer against the sandbox."""
    import httpx

    from resolve_sync_tests.sandbox_helpers import OAuthlibTBA

    with httpx.Client(base_url=sandbox_server.base_url, auth=OAuthlibTBA(), timeout=30) as client:
        yield client
