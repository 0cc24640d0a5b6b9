"""The deployment's configuration every test here runs with: the integration's client id and secret."""

from __future__ import annotations

import pytest

from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync_tests.connect.helpers import INTEGRATION_ENV
from resolve_sync_tests.sync_helpers import sync_fixture


@pytest.fixture(autouse=True)
def integration_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in INTEGRATION_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def sandbox():
    """The rules' small account (three active subsidiaries) with NetSuite's authorization flows."""
    with SandboxServer(parse_fixture(sync_fixture())) as server:
        yield server
