"""`resolve-sync connections`: a merchant's links to NetSuite subsidiaries.

`list` and `show` are what an operator types all day, so they read the store over the bare driver
(`store.reads`) and this module imports nothing heavy; the commands that add or change a connection (and
with them SQLAlchemy, httpx and the NetSuite client) are imported only when one of them is invoked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import click

from resolve_sync import validation
from resolve_sync.cli.output import emit, json_option, subsidiary_option

if TYPE_CHECKING:
    from resolve_sync.store.connection_records import Connection

COLUMNS = (
    "partition_key",
    "netsuite_account_id",
    "auth_kind",
    "subsidiary_id",
    "filter_field_id",
    "enabled",
    "base_url",
)
DETAIL_COLUMNS = (*COLUMNS, "account_timezone", "concurrency_limit", "bookkeeping_account_ids")

# name → (module, attribute, short help): the commands that write, loaded when invoked
WRITERS: dict[str, tuple[str, str, str]] = {
    "add": ("resolve_sync.cli.connection_add_commands", "add", "Add a connection from existing credentials."),
    "connect": (
        "resolve_sync.cli.connect_commands",
        "connect",
        "Connect an account in the browser (Allow access).",
    ),
    "set-filter": (
        "resolve_sync.cli.connection_change_commands",
        "set_filter",
        "Sync only customers whose checkbox field is checked.",
    ),
    "clear-filter": (
        "resolve_sync.cli.connection_change_commands",
        "clear_filter",
        "Sync every customer of the subsidiary again.",
    ),
    "set-subsidiary": (
        "resolve_sync.cli.connection_change_commands",
        "set_subsidiary",
        "Point the connection at another subsidiary.",
    ),
    "enable": ("resolve_sync.cli.connection_change_commands", "enable", "Include it in nightly syncs."),
    "disable": ("resolve_sync.cli.connection_change_commands", "disable", "Leave it out of nightly syncs."),
    "remove": (
        "resolve_sync.cli.connection_change_commands",
        "remove",
        "Remove a connection (Resolve records stay).",
    ),
}


def describe(connection: Connection) -> dict[str, Any]:
    """A connection as printed: never its credentials, and a base URL never with a user or password (one
    stored before base URLs were validated could hold them)."""
    shown = {c: getattr(connection, c) for c in DETAIL_COLUMNS}
    if shown["base_url"] is not None:
        shown["base_url"] = validation.redact_url(shown["base_url"])
    return shown


class _LazyWriters(click.Group):
    """The reading commands are defined here; the writing ones are imported by name when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *WRITERS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in WRITERS:
            module, attribute, _ = WRITERS[cmd_name]
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        shown = {name: command.get_short_help_str(limit=120) for name, command in self.commands.items()}
        shown.update({name: short for name, (_, _, short) in WRITERS.items()})
        with formatter.section("Commands"):
            formatter.write_dl(sorted(shown.items()))


@click.group(cls=_LazyWriters)
def connections() -> None:
    """Add, inspect and change merchant connections (credentials are stored encrypted)."""


@connections.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """Every connection."""
    from resolve_sync.store.connection_records import list_connections
    from resolve_sync.store.reads import open_reads

    emit([describe(c) for c in list_connections(open_reads())], COLUMNS, as_json=as_json)


@connections.command()
@click.argument("merchant")
@subsidiary_option
@json_option
def show(merchant: str, subsidiary: str | None, as_json: bool) -> None:
    """One connection's settings (never its secrets)."""
    from resolve_sync.store.connection_records import pick_connection
    from resolve_sync.store.reads import open_reads

    emit([describe(pick_connection(open_reads(), merchant, subsidiary))], DETAIL_COLUMNS, as_json=as_json)
