"""A NetSuite client for one connection, built from its auth kind and credentials."""

from __future__ import annotations

from collections.abc import Mapping

from resolve_sync.kinds import AuthKind
from resolve_sync.netsuite.auth import (
    TOKEN_PATH,
    AuthorizationCodeAuth,
    ClientCredentialsAuth,
    OAuth2Tokens,
    TokenBasedAuth,
    TokenKeeper,
)
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
    token_keeper: TokenKeeper | None = None,
) -> NetSuiteClient:
    """A client for one connection; credentials are used here and kept only inside the auth object."""
    root = (base_url or account_host(account_id)).rstrip("/")
    auth: TokenBasedAuth | ClientCredentialsAuth | AuthorizationCodeAuth
    if auth_kind == AuthKind.TBA:
        auth = TokenBasedAuth(
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
    elif auth_kind == AuthKind.OAUTH2_CODE:
        auth = AuthorizationCodeAuth(
            root + TOKEN_PATH,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
            tokens=oauth2_tokens(credentials),
            keeper=token_keeper,
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


def oauth2_tokens(credentials: Mapping[str, str]) -> OAuth2Tokens:
    """An `oauth2_code` connection's stored tokens (expiry times as seconds since the epoch)."""
    refresh_expires = credentials.get("refresh_token_expires_at")
    return OAuth2Tokens(
        access_token=credentials.get("access_token", ""),
        access_expires_at=float(credentials.get("access_token_expires_at") or 0),
        refresh_token=credentials.get("refresh_token", ""),
        refresh_expires_at=float(refresh_expires) if refresh_expires else None,
    )


def oauth2_token_fields(tokens: OAuth2Tokens) -> dict[str, str]:
    """The credential fields that hold `tokens` (the inverse of `oauth2_tokens`)."""
    fields = {
        "access_token": tokens.access_token,
        "access_token_expires_at": f"{tokens.access_expires_at:.0f}",
        "refresh_token": tokens.refresh_token,
    }
    if tokens.refresh_expires_at is not None:
        fields["refresh_token_expires_at"] = f"{tokens.refresh_expires_at:.0f}"
    return fields
