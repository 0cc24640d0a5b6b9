"""Resources: the store, and a NetSuite client factory that builds a client from a partition's connection.

Credentials are decrypted inside the run, from the store; they never pass through run config, tags,
metadata or logs.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from resolve_sync import settings
from resolve_sync.netsuite.client import NetSuiteClient
from resolve_sync.store.connections import Connection, get_connection, list_connections
from resolve_sync.store.database import store_engine
from resolve_sync.sync.clients import client_for as connection_client


class StoreResource(dg.ConfigurableResource):
    """The Resolve store. Empty `database_url` means RESOLVE_SYNC_DATABASE_URL, else the local SQLite file."""

    database_url: str = Field(default="", description="Leave empty to use RESOLVE_SYNC_DATABASE_URL.")

    def engine(self) -> Engine:
        return store_engine(self.database_url or settings.database_url())

    def connection(self, partition_key: str) -> Connection:
        return get_connection(self.engine(), partition_key)

    def connections(self, *, enabled_only: bool = False) -> list[Connection]:
        return list_connections(self.engine(), enabled_only=enabled_only)


class NetSuiteResource(dg.ConfigurableResource):
    """Builds a client per connection, sharing the NetSuite account's concurrency limit across runs."""

    timeout_seconds: float = 120.0
    max_attempts: int = 8
    default_concurrency_limit: int = 5

    def client_for(self, connection: Connection, engine: Engine) -> NetSuiteClient:
        return connection_client(
            connection,
            engine,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            default_limit=self.default_concurrency_limit,
        )
