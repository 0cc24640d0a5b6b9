"""Live NetSuite look-ups: subsidiaries (R2) and the chart of accounts for bookkeeping (R4).

The chart of accounts is fetched on demand and printed; it is never stored, cached or logged. Only the
account ids an operator chooses are stored, after they are validated live.
"""

from __future__ import annotations

import click

from resolve_sync.cli.output import emit, json_option, subsidiary_option
from resolve_sync.errors import ConfigurationError

# The store and the NetSuite client are imported inside each command, so `--help` answers at once.


@click.command()
@click.argument("merchant")
@subsidiary_option
@json_option
def subsidiaries(merchant: str, subsidiary: str | None, as_json: bool) -> None:
    """List the account's active, non-elimination subsidiaries (live from NetSuite)."""
    from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES
    from resolve_sync.store.connections import pick_connection
    from resolve_sync.store.database import store_engine
    from resolve_sync.sync.clients import client_for

    engine = store_engine()
    with client_for(pick_connection(engine, merchant, subsidiary), engine) as client:
        rows = client.suiteql_all(ACTIVE_SUBSIDIARIES)
    emit(rows, ("id", "name", "parent"), as_json=as_json)


@click.command()
@click.argument("merchant")
@subsidiary_option
@json_option
def accounts(merchant: str, subsidiary: str | None, as_json: bool) -> None:
    """The subsidiary's chart of accounts, live, to choose accounts for auto bookkeeping (never stored)."""
    from resolve_sync.netsuite.queries import chart_of_accounts
    from resolve_sync.store.connections import pick_connection
    from resolve_sync.store.database import store_engine
    from resolve_sync.sync.clients import client_for

    engine = store_engine()
    connection = pick_connection(engine, merchant, subsidiary)
    with client_for(connection, engine) as client:
        rows = client.suiteql_all(chart_of_accounts(connection.subsidiary_id))
    emit(rows, ("id", "acctnumber", "accountsearchdisplayname", "accttype"), as_json=as_json)


@click.group()
def bookkeeping() -> None:
    """Accounts used for auto bookkeeping (only their ids are stored)."""


@bookkeeping.command("set")
@click.argument("merchant")
@click.option(
    "--account",
    "choices",
    multiple=True,
    required=True,
    metavar="ROLE=ID",
    help="e.g. --account receivable=110 --account fees=610 (repeat).",
)
@subsidiary_option
def set_accounts(merchant: str, choices: tuple[str, ...], subsidiary: str | None) -> None:
    """Store the chosen account ids after checking them live against the subsidiary's chart of accounts."""
    from resolve_sync.netsuite.queries import chart_of_accounts
    from resolve_sync.store.connections import pick_connection, update_connection
    from resolve_sync.store.database import store_engine
    from resolve_sync.sync.clients import client_for
    from resolve_sync.sync.scope import subsidiary_option as subsidiary_flag

    wanted: dict[str, str] = {}
    for choice in choices:
        role, _, account_id = choice.partition("=")
        if not role or not (account_id.isascii() and account_id.isdigit()):
            raise click.BadParameter(f"{choice!r}: use ROLE=ACCOUNT_ID, e.g. receivable=110")
        wanted[role] = account_id
    engine = store_engine()
    connection = pick_connection(engine, merchant, subsidiary)
    with client_for(connection, engine) as client:
        available = {row["id"] for row in client.suiteql_all(chart_of_accounts(connection.subsidiary_id))}
    unknown = {role: i for role, i in wanted.items() if i not in available}
    if unknown:
        raise ConfigurationError(
            f"Merchant {merchant!r}: account(s) {unknown} are not active accounts of subsidiary "
            f"{connection.subsidiary_id}.",
            merchant_id=merchant,
            hint=f"`resolve-sync accounts {merchant}{subsidiary_flag(connection)}` lists the choices.",
        )
    update_connection(
        engine,
        connection.partition_key,
        bookkeeping_account_ids={**connection.bookkeeping_account_ids, **wanted},
    )
    click.echo(
        f"{connection.partition_key}: bookkeeping accounts set ({', '.join(f'{r}={i}' for r, i in wanted.items())})"
    )
