"""A NetSuite client for a stored connection: credentials decrypted here, the account's limit shared
through the store's lease table, and OAuth 2.0 tokens renewed once for every run of the connection.

`StoredTokenKeeper` is the store side of token renewal for `oauth2_code` connections: the refresh is
single-flight across processes (a compare-and-set claim on the stored credentials, store/authorizations.py),
the new token is stored encrypted, and a refused refresh token (`invalid_grant`) flags the connection
`needs_reconnect` and fails the run with one line naming the merchant and the `connect` command.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine

from resolve_sync.errors import RemoteError
from resolve_sync.kinds import AuthKind
from resolve_sync.netsuite import build_client, oauth2_token_fields, oauth2_tokens
from resolve_sync.netsuite.auth import AuthorizationExpired, OAuth2Tokens
from resolve_sync.netsuite.client import NetSuiteClient, RetryPolicy
from resolve_sync.store import authorizations
from resolve_sync.store.authorizations import ReconnectNeeded, reconnect_message
from resolve_sync.store.connections import Connection
from resolve_sync.store.leases import LeaseSlotPool
from resolve_sync.store.run_leases import process_holder
from resolve_sync.store.secrets import SecretBox, resolve_references

DEFAULT_CONCURRENCY_LIMIT = 5
REFRESH_WAIT_SECONDS = 60.0  # how long a run waits for another run's refresh before giving up
EXPIRED_REASON = "NetSuite refused the refresh token (invalid_grant): it expired or was revoked"


class StoredTokenKeeper:
    """Renews an `oauth2_code` connection's access token through the store (see module docstring)."""

    def __init__(self, engine: Engine, box: SecretBox, connection: Connection) -> None:
        self._engine = engine
        self._box = box
        self._connection = connection
        self._holder = process_holder(f"token-refresh:{uuid.uuid4().hex[:8]}")
        self.refreshes = 0

    def _owner(self) -> str:
        return f"merchant {self._connection.merchant_id!r} (connection {self._connection.partition_key})"

    def renew(self, stale: OAuth2Tokens, refresh: Callable[[OAuth2Tokens], OAuth2Tokens]) -> OAuth2Tokens:
        deadline = time.monotonic() + REFRESH_WAIT_SECONDS
        connection_id = self._connection.id
        while True:
            stored = authorizations.read_credentials(self._engine, connection_id)
            if stored.needs_reconnect:
                raise ReconnectNeeded(
                    reconnect_message(self._connection, stored.reconnect_reason),
                    merchant_id=self._connection.merchant_id,
                )
            raw = self._box.decrypt(stored.encrypted, owner=self._owner())
            current = oauth2_tokens(resolve_references(raw, owner=self._owner()))
            if current.access_token != stale.access_token and not current.expiring(time.time()):
                return current  # another run (or a reconnect) stored a fresh token meanwhile
            if authorizations.claim_token_refresh(self._engine, connection_id, stored.version, self._holder):
                return self._refresh(current, refresh, raw, stored.version)
            if time.monotonic() > deadline:
                raise RemoteError(
                    f"Merchant {self._connection.merchant_id!r}: another run has been renewing the NetSuite "
                    f"access token for over {REFRESH_WAIT_SECONDS:g} s; run the sync again.",
                    merchant_id=self._connection.merchant_id,
                )
            time.sleep(0.1)

    def _refresh(
        self,
        current: OAuth2Tokens,
        refresh: Callable[[OAuth2Tokens], OAuth2Tokens],
        raw: dict,
        version: int,
    ) -> OAuth2Tokens:
        connection_id = self._connection.id
        try:
            fresh = refresh(current)
        except AuthorizationExpired:
            authorizations.mark_needs_reconnect(self._engine, connection_id, EXPIRED_REASON)
            raise ReconnectNeeded(
                reconnect_message(self._connection, EXPIRED_REASON), merchant_id=self._connection.merchant_id
            ) from None
        except BaseException:
            authorizations.release_token_refresh(self._engine, connection_id, self._holder)
            raise
        self.refreshes += 1
        # The stored mapping keeps its environment references (the integration's client id and secret).
        authorizations.save_refreshed_credentials(
            self._engine,
            self._box,
            connection_id,
            version=version,
            holder=self._holder,
            credentials={**raw, **oauth2_token_fields(fresh)},
        )
        return fresh


def client_for(
    connection: Connection,
    engine: Engine,
    *,
    timeout_seconds: float = 120.0,
    max_attempts: int = 8,
    default_limit: int = DEFAULT_CONCURRENCY_LIMIT,
) -> NetSuiteClient:
    limit = connection.concurrency_limit or default_limit
    box = SecretBox.from_environment()
    credentials = connection.credentials(box)
    keeper = None
    if connection.auth_kind == AuthKind.OAUTH2_CODE:
        keeper = StoredTokenKeeper(engine, box, connection)
        if connection.needs_reconnect:
            # Expired tokens make the first request ask the keeper, which fails the run with the reason.
            credentials = resolve_references(
                {**credentials, "access_token": "", "access_token_expires_at": "0"}, owner=""
            )
    return build_client(
        connection.netsuite_account_id,
        connection.auth_kind,
        credentials,
        base_url=connection.base_url,
        concurrency_limit=limit,
        pool=LeaseSlotPool(engine, connection.netsuite_account_id, limit, ttl_seconds=timeout_seconds + 60),
        retry=RetryPolicy(attempts=max_attempts),
        timeout=timeout_seconds,
        token_keeper=keeper,
    )
