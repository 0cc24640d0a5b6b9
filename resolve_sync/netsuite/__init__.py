"""The NetSuite client: auth, SuiteQL builders, scans, errors. Talks to NetSuite; knows nothing of Resolve."""

from __future__ import annotations

from collections.abc import Mapping

from resolve_sync.kinds import AuthKind
from resolve_sync.netsuite.auth import TOKEN_PATH, ClientCredentialsAuth, TokenBasedAuth
from resolve_sync.netsuite.budget import ConcurrencyBudget, SlotPool
from resolve_sync.netsuite.client import NetSuiteClient, RetryPolicy, account_host


def build_client(
    account_id: str,
    auth_kind: str,
    credentials: Mapping[str, str],
    *,
    base_url: str | None = None,
    concurrency_limit: int = 5,
    pool: SlotPool | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 120.0,
) -> NetSuiteClient:
    """A client for one connection; credentials are used here and kept only inside the auth object."""
    root = (base_url or account_host(account_id)).rstrip("/")
    if auth_kind == AuthKind.TBA:
        auth: TokenBasedAuth | ClientCredentialsAuth = TokenBasedAuth(
            account_id,
            consumer_key=credentials["consumer_key"],
            consumer_secret=credentials["consumer_secret"],
            token_id=credentials["token_id"],
            token_secret=credentials["token_secret"],
        )
    elif auth_kind == AuthKind.OAUTH2_M2M:
        auth = ClientCredentialsAuth(
            root + TOKEN_PATH,
            client_id=credentials["client_id"],
            certificate_id=credentials["certificate_id"],
            private_key_pem=credentials["private_key_pem"],
            algorithm=credentials.get("algorithm", ""),
        )
    else:
        raise ValueError(f"unknown auth kind {auth_kind!r}")
    return NetSuiteClient(
        account_id,
        auth,
        base_url=root,
        budget=ConcurrencyBudget(concurrency_limit, pool),
        retry=retry,
        timeout=timeout,
    )
