"""A NetSuite client for a stored connection: credentials decrypted here, the account's limit shared
through the store's lease table."""

from __future__ import annotations

from sqlalchemy import Engine

from resolve_sync.netsuite import build_client
from resolve_sync.netsuite.client import NetSuiteClient, RetryPolicy
from resolve_sync.store.connections import Connection
from resolve_sync.store.leases import LeaseSlotPool
from resolve_sync.store.secrets import SecretBox

DEFAULT_CONCURRENCY_LIMIT = 5


def client_for(
    connection: Connection,
    engine: Engine,
    *,
    timeout_seconds: float = 120.0,
    max_attempts: int = 8,
    default_limit: int = DEFAULT_CONCURRENCY_LIMIT,
) -> NetSuiteClient:
    limit = connection.concurrency_limit or default_limit
    return build_client(
        connection.netsuite_account_id,
        connection.auth_kind,
        connection.credentials(SecretBox.from_environment()),
        base_url=connection.base_url,
        concurrency_limit=limit,
        pool=LeaseSlotPool(engine, connection.netsuite_account_id, limit, ttl_seconds=timeout_seconds + 60),
        retry=RetryPolicy(attempts=max_attempts),
        timeout=timeout_seconds,
    )
