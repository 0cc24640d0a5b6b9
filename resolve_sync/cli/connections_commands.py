"""`resolve-sync connections`: a merchant's links to NetSuite subsidiaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from resolve_sync.cli.output import emit, json_option, subsidiary_option
from resolve_sync.kinds import AuthKind
from resolve_sync.names import REQUIRED_CREDENTIALS
from resolve_sync.netsuite.queries import InvalidQueryParameter, checked_field_id
from resolve_sync.store.connections import (
    Connection,
    add_connection,
    list_connections,
    pick_connection,
    remove_connection,
    update_connection,
)
from resolve_sync.store.database import store_engine
from resolve_sync.store.secrets import SecretBox

COLUMNS = (
    "partition_key",
    "netsuite_account_id",
    "auth_kind",
    "subsidiary_id",
    "filter_field_id",
    "enabled",
    "base_url",
)


def describe(connection: Connection) -> dict[str, Any]:
    return {
        c: getattr(connection, c)
        for c in (*COLUMNS, "account_timezone", "concurrency_limit", "bookkeeping_account_ids")
    }


@click.group()
def connections() -> None:
    """Add, inspect and change merchant connections (credentials are stored encrypted)."""


@connections.command("add")
@click.argument("merchant")
@click.option(
    "--account", "account_id", required=True, help="NetSuite account id, e.g. 1234567 or 1234567_SB1."
)
@click.option(
    "--subsidiary", default=None, help="Subsidiary internal id (required when the account has several)."
)
@click.option(
    "--auth", "auth_kind", type=click.Choice([k.value for k in AuthKind]), default="tba", show_default=True
)
@click.option("--base-url", default=None, help="Override the REST host (e.g. the sandbox's URL).")
@click.option(
    "--filter-field", default=None, help="Customer checkbox field id (custentity…) that selects customers."
)
@click.option(
    "--timezone",
    "account_timezone",
    default="America/Los_Angeles",
    show_default=True,
    help="The NetSuite account's time zone (Setup > Company > General Preferences).",
)
@click.option("--concurrency-limit", type=click.IntRange(min=1), default=None)
@click.option("--consumer-key", envvar="NETSUITE_CONSUMER_KEY", default=None)
@click.option("--consumer-secret", envvar="NETSUITE_CONSUMER_SECRET", default=None)
@click.option("--token-id", envvar="NETSUITE_TOKEN_ID", default=None)
@click.option("--token-secret", envvar="NETSUITE_TOKEN_SECRET", default=None)
@click.option("--client-id", envvar="NETSUITE_CLIENT_ID", default=None)
@click.option("--certificate-id", envvar="NETSUITE_CERTIFICATE_ID", default=None)
@click.option("--private-key-file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--secrets-from-env",
    is_flag=True,
    help="Store references to the NETSUITE_* variables instead of their values.",
)
def add(
    merchant: str,
    account_id: str,
    subsidiary: str | None,
    auth_kind: str,
    base_url: str | None,
    filter_field: str | None,
    account_timezone: str,
    concurrency_limit: int | None,
    secrets_from_env: bool,
    private_key_file: str | None,
    **secrets: str | None,
) -> None:
    """Add a connection for MERCHANT. Secrets come from flags, NETSUITE_* variables or a hidden prompt."""
    if filter_field:
        _check_field(filter_field)
    names = [n for n in REQUIRED_CREDENTIALS[AuthKind(auth_kind)] if n != "private_key_pem"]
    credentials: dict[str, Any] = {}
    for name in names:
        if secrets_from_env:
            credentials[name] = {"env": f"NETSUITE_{name.upper()}"}
        else:
            credentials[name] = secrets.get(name) or click.prompt(name.replace("_", " "), hide_input=True)
    if auth_kind == AuthKind.OAUTH2_M2M:
        if private_key_file is None:
            raise click.UsageError("--private-key-file is required for oauth2_m2m")
        credentials["private_key_pem"] = Path(private_key_file).read_text()
    connection = add_connection(
        store_engine(),
        SecretBox.from_environment(),
        merchant_id=merchant,
        netsuite_account_id=account_id,
        auth_kind=auth_kind,
        credentials=credentials,
        subsidiary_id=subsidiary,
        base_url=base_url,
        filter_field_id=filter_field,
        account_timezone=account_timezone,
        concurrency_limit=concurrency_limit,
    )
    click.echo(f"added connection {connection.partition_key}")


def _check_field(field_id: str) -> None:
    try:
        checked_field_id(field_id)
    except InvalidQueryParameter as error:
        raise click.BadParameter(str(error)) from None


@connections.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """Every connection."""
    emit([describe(c) for c in list_connections(store_engine())], COLUMNS, as_json=as_json)


@connections.command()
@click.argument("merchant")
@subsidiary_option
@json_option
def show(merchant: str, subsidiary: str | None, as_json: bool) -> None:
    """One connection's settings (never its secrets)."""
    connection = pick_connection(store_engine(), merchant, subsidiary)
    emit(
        [describe(connection)],
        (*COLUMNS, "account_timezone", "concurrency_limit", "bookkeeping_account_ids"),
        as_json=as_json,
    )


def _change(merchant: str, subsidiary: str | None, message: str, **changes: Any) -> None:
    engine = store_engine()
    connection = update_connection(
        engine, pick_connection(engine, merchant, subsidiary).partition_key, **changes
    )
    click.echo(f"{connection.partition_key}: {message}")


@connections.command("set-filter")
@click.argument("merchant")
@click.argument("field_id")
@subsidiary_option
@click.option(
    "--no-verify",
    is_flag=True,
    help="Save without asking NetSuite whether the field is a customer checkbox (offline use); "
    "a wrong field then fails the next run (R11).",
)
def set_filter(merchant: str, field_id: str, subsidiary: str | None, no_verify: bool) -> None:
    """Sync only customers whose checkbox FIELD_ID is checked (R9); the next run re-evaluates everything.

    The field is checked live in NetSuite first (it exists, is a checkbox, applies to customers), as the
    next run would check it (R11), so a wrong field is refused here rather than failing that run."""
    _check_field(field_id)
    if not no_verify:
        from resolve_sync.errors import ConfigurationError
        from resolve_sync.netsuite.fields import check_filter_field
        from resolve_sync.sync.clients import client_for
        from resolve_sync.sync.scope import subsidiary_option as subsidiary_flag

        engine = store_engine()
        connection = pick_connection(engine, merchant, subsidiary)
        with client_for(connection, engine) as client:
            check = check_filter_field(client, field_id)
        if not check.valid:
            flag = subsidiary_flag(connection)
            raise ConfigurationError(
                f"{connection.partition_key}: filter field {field_id!r} was not saved: {check.reason}.",
                merchant_id=merchant,
                hint=f"Choose a customer checkbox field (custentity…); to save this one anyway: "
                f"`resolve-sync connections set-filter {merchant} {field_id}{flag} --no-verify`.",
            )
    _change(merchant, subsidiary, f"filter field set to {field_id}", filter_field_id=field_id)


@connections.command("clear-filter")
@click.argument("merchant")
@subsidiary_option
def clear_filter(merchant: str, subsidiary: str | None) -> None:
    """Sync every customer of the subsidiary again; nothing synced before is removed (R10)."""
    _change(merchant, subsidiary, "filter field cleared", filter_field_id=None)


@connections.command("set-subsidiary")
@click.argument("merchant")
@click.argument("subsidiary_id")
@click.option(
    "--current", default=None, help="The subsidiary the connection has now, if the merchant has several."
)
def set_subsidiary(merchant: str, subsidiary_id: str, current: str | None) -> None:
    """Point the connection at SUBSIDIARY_ID (`resolve-sync subsidiaries MERCHANT` lists them)."""
    _change(merchant, current, f"subsidiary set to {subsidiary_id}", subsidiary_id=subsidiary_id)


@connections.command()
@click.argument("merchant")
@subsidiary_option
def enable(merchant: str, subsidiary: str | None) -> None:
    """Include the connection in nightly syncs."""
    _change(merchant, subsidiary, "enabled", enabled=True)


@connections.command()
@click.argument("merchant")
@subsidiary_option
def disable(merchant: str, subsidiary: str | None) -> None:
    """Leave the connection out of nightly syncs."""
    _change(merchant, subsidiary, "disabled", enabled=False)


@connections.command()
@click.argument("merchant")
@subsidiary_option
@click.confirmation_option(prompt="Remove the connection? Resolve records stay; its runs and cursors go.")
def remove(merchant: str, subsidiary: str | None) -> None:
    """Remove a connection (Resolve records synced from it stay)."""
    engine = store_engine()
    key = pick_connection(engine, merchant, subsidiary).partition_key
    remove_connection(engine, key)
    click.echo(f"removed {key}")
