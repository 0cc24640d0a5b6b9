"""`resolve-sync connections set-filter|clear-filter|set-subsidiary|enable|disable|remove`: changes to one
connection, each checked where the operator acts rather than at the next run."""

from __future__ import annotations

from typing import Any

import click

from resolve_sync.cli.output import check_field_id, interactive, subsidiary_option


def _change(merchant: str, subsidiary: str | None, message: str, **changes: Any) -> None:
    from resolve_sync.store.connection_changes import update_connection
    from resolve_sync.store.connection_records import pick_connection
    from resolve_sync.store.reads import open_writes

    engine = open_writes()
    current = pick_connection(engine, merchant, subsidiary)
    if all(getattr(current, name) == value for name, value in changes.items()):
        click.echo(f"{current.partition_key}: nothing to change ({message} already)")
        return
    connection = update_connection(engine, current.partition_key, **changes)
    click.echo(f"{connection.partition_key}: {message}")


@click.command("set-filter")
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
    check_field_id(field_id)
    if not no_verify:
        from resolve_sync.errors import ConfigurationError
        from resolve_sync.netsuite.fields import check_filter_field
        from resolve_sync.store.connections import pick_connection
        from resolve_sync.store.database import store_engine
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


@click.command("clear-filter")
@click.argument("merchant")
@subsidiary_option
def clear_filter(merchant: str, subsidiary: str | None) -> None:
    """Sync every customer of the subsidiary again; nothing synced before is removed (R10)."""
    _change(merchant, subsidiary, "filter field cleared", filter_field_id=None)


@click.command("set-subsidiary")
@click.argument("merchant")
@click.argument("subsidiary_id")
@click.option(
    "--subsidiary",
    "--current",
    "current",
    default=None,
    help="The subsidiary the connection has now, if the merchant has several (--current is the old name).",
)
@click.option(
    "--no-verify",
    is_flag=True,
    help="Save without asking NetSuite whether the subsidiary is active (offline use); a wrong one then "
    "fails the next run (R2).",
)
def set_subsidiary(merchant: str, subsidiary_id: str, current: str | None, no_verify: bool) -> None:
    """Point the connection at SUBSIDIARY_ID (`resolve-sync subsidiaries MERCHANT` lists them).

    The subsidiary is checked live first (an active, non-elimination subsidiary of the account, as R2
    requires), and a wrong one is refused with the account's choices."""
    from resolve_sync import validation

    wanted = validation.subsidiary_id(subsidiary_id)
    if not no_verify:
        from resolve_sync.cli.connection_add_commands import choose_subsidiary
        from resolve_sync.store.connections import pick_connection
        from resolve_sync.store.database import store_engine
        from resolve_sync.sync.clients import client_for

        engine = store_engine()
        connection = pick_connection(engine, merchant, current)
        with client_for(connection, engine) as client:
            choose_subsidiary(
                client, merchant, connection.netsuite_account_id, wanted, connection.account_timezone
            )
    _change(merchant, current, f"subsidiary set to {wanted}", subsidiary_id=wanted)


@click.command()
@click.argument("merchant")
@subsidiary_option
def enable(merchant: str, subsidiary: str | None) -> None:
    """Include the connection in nightly syncs."""
    _change(merchant, subsidiary, "enabled", enabled=True)


@click.command()
@click.argument("merchant")
@subsidiary_option
def disable(merchant: str, subsidiary: str | None) -> None:
    """Leave the connection out of nightly syncs."""
    _change(merchant, subsidiary, "disabled", enabled=False)


@click.command()
@click.argument("merchant")
@subsidiary_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed when not on a terminal).")
def remove(merchant: str, subsidiary: str | None, yes: bool) -> None:
    """Remove a connection (Resolve records synced from it stay)."""
    from resolve_sync.store.connection_changes import remove_connection
    from resolve_sync.store.connection_records import pick_connection
    from resolve_sync.store.reads import open_writes
    from resolve_sync.sync.scope import subsidiary_option as subsidiary_flag

    engine = open_writes()
    connection = pick_connection(engine, merchant, subsidiary)  # a wrong name fails before any question
    key = connection.partition_key
    if not yes:
        if not interactive():  # a script or a pipe: there is nobody to answer the question
            raise click.UsageError(
                f"removing {key} asks for confirmation; to remove it from a script: "
                f"`resolve-sync connections remove {merchant}{subsidiary_flag(connection)} --yes`"
            )
        if not click.confirm(f"Remove {key}? Resolve records stay; its runs, cursors and staging go."):
            click.echo(f"kept {key}")
            return
    remove_connection(engine, key)
    click.echo(f"removed {key}")
