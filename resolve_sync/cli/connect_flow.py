"""The work behind `resolve-sync connections connect` (see `cli.connect_commands` for what it does): the
callback server, NetSuite's authorization flows, the subsidiary choice and storing the connection.

Imported only when the command runs, so `connections connect --help` does not pay for httpx, oauthlib,
cryptography and SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import webbrowser
from typing import Any

import click

from resolve_sync.cli.output import can_prompt
from resolve_sync.connection_keys import validate_merchant_id, validate_subsidiary_id
from resolve_sync.kinds import AuthKind, ConnectMethod
from resolve_sync.netsuite import build_client, oauth2_token_fields
from resolve_sync.netsuite.auth import OAuth2Tokens
from resolve_sync.netsuite.authorize import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    AuthorizationCodeFlow,
    IntegrationCredentials,
    LoopbackCallback,
    NetSuiteHosts,
    TokenBasedAuthorization,
)
from resolve_sync.netsuite.errors import NetSuiteQueryError
from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES
from resolve_sync.store.authorizations import store_authorization
from resolve_sync.store.connections import add_connection, list_connections
from resolve_sync.store.database import store_engine
from resolve_sync.store.secrets import Credentials, SecretBox


def desktop_available() -> bool:
    """A browser can be opened for the user: a graphical session, or macOS/Windows."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in (
        "darwin",
        "win32",
    )


def run(
    merchant: str,
    account_id: str,
    method: ConnectMethod,
    *,
    subsidiary: str | None,
    open_browser: bool,
    timeout: float,
    base_url: str | None,
    account_timezone: str,
) -> None:
    validate_merchant_id(merchant)
    wanted = validate_subsidiary_id(subsidiary)
    integration = IntegrationCredentials.from_environment()
    hosts = NetSuiteHosts.for_account(account_id, base_url)
    flow: TokenBasedAuthorization | AuthorizationCodeFlow = (
        TokenBasedAuthorization(account_id, integration, hosts)
        if method is ConnectMethod.TBA
        else AuthorizationCodeFlow(account_id, integration, hosts)
    )
    with LoopbackCallback() as callback:
        url = flow.start(callback.redirect_uri)
        click.echo(
            f'Open this URL in a browser, log in to NetSuite account {account_id} and press "Allow access":'
        )
        click.echo("")
        click.echo(f"  {url}")
        click.echo("")
        click.echo(f"Waiting up to {timeout:g} s for NetSuite's answer on {callback.redirect_uri} ...")
        if open_browser:
            webbrowser.open(url, new=2)
        answer = callback.wait(timeout)
    granted = flow.finish(answer)
    auth_kind = method.auth_kind
    secrets, expires_at = _stored_credentials(granted)

    engine = store_engine()
    existing = [
        c
        for c in list_connections(engine)
        if c.merchant_id == merchant and c.netsuite_account_id.upper() == account_id.upper()
    ]
    if wanted is not None:
        existing = [c for c in existing if c.subsidiary_id == wanted]
    box = SecretBox.from_environment()

    def authorize(connection_id: int) -> None:
        store_authorization(
            engine,
            box,
            connection_id,
            auth_kind=auth_kind,
            credentials=secrets,
            authorization_expires_at=expires_at,
        )

    if existing:
        for connection in existing:  # one authorization serves every subsidiary of the account
            authorize(connection.id)
            click.echo(
                f"reconnected {connection.partition_key} ({auth_kind}); the next sync uses the new access"
            )
        return
    chosen = _choose_subsidiary(account_id, auth_kind, secrets, base_url, wanted)
    connection = add_connection(
        engine,
        box,
        merchant_id=merchant,
        netsuite_account_id=account_id,
        auth_kind=auth_kind,
        credentials=secrets,
        subsidiary_id=chosen,
        base_url=base_url,
        account_timezone=account_timezone,
    )
    if expires_at is not None:
        authorize(connection.id)
    click.echo(f"connected {connection.partition_key} ({auth_kind})")


def _stored_credentials(granted: dict[str, str] | OAuth2Tokens) -> tuple[dict[str, Any], dt.datetime | None]:
    """What the connection stores: the user's tokens as values, the integration's as variable references."""
    if isinstance(granted, OAuth2Tokens):
        expires = (
            dt.datetime.fromtimestamp(granted.refresh_expires_at, dt.UTC)
            if granted.refresh_expires_at
            else None
        )
        return {
            "client_id": {"env": CLIENT_ID_ENV},
            "client_secret": {"env": CLIENT_SECRET_ENV},
            **oauth2_token_fields(granted),
        }, expires
    return {
        "consumer_key": {"env": CLIENT_ID_ENV},
        "consumer_secret": {"env": CLIENT_SECRET_ENV},
        **granted,
    }, None


def _choose_subsidiary(
    account_id: str, auth_kind: AuthKind, secrets: dict[str, Any], base_url: str | None, wanted: int | None
) -> int | None:
    """R2: the account's active, non-elimination subsidiaries, live; ask when there are several."""
    values = {
        name: os.environ[value["env"]] if isinstance(value, dict) else str(value)
        for name, value in secrets.items()
    }
    with build_client(account_id, auth_kind, Credentials(values), base_url=base_url, timeout=60) as client:
        try:
            rows = client.suiteql_all(ACTIVE_SUBSIDIARIES)
        except NetSuiteQueryError as error:
            if error.detail and "subsidiary" in error.detail.lower():
                return None  # no OneWorld: there is no subsidiary to choose
            raise
    subsidiaries = {int(row["id"]): str(row.get("name", "")) for row in rows}
    if wanted is not None:
        if wanted not in subsidiaries:
            choices = ", ".join(f"{i} ({n})" for i, n in sorted(subsidiaries.items()))
            raise click.BadParameter(
                f"{wanted} is not an active subsidiary; choose one of {choices}", param_hint="--subsidiary"
            )
        return wanted
    if len(subsidiaries) <= 1:
        return None
    if not can_prompt():
        choices = ", ".join(f"{i} ({n})" for i, n in sorted(subsidiaries.items()))
        raise click.UsageError(
            f"the account has several subsidiaries; run again with --subsidiary ID. Choices: {choices}."
        )
    click.echo("The account has several subsidiaries; which one does this connection sync?")
    for sid, name in sorted(subsidiaries.items()):
        click.echo(f"  {sid}  {name}")
    answer = click.prompt("Subsidiary id", type=click.Choice([str(i) for i in sorted(subsidiaries)]))
    return int(answer)
