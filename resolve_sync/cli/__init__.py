"""The `resolve-sync` command line: one click group, one module per command family.

Start-up is part of the interface: a person runs dozens of these commands, so `--help` and the commands
that do not run a sync must answer at once. The group therefore knows its commands by name and short help
only, and imports a command's module (and with it the store, httpx, dagster, pandas or the sandbox) when
that command is invoked. `resolve_sync_tests/cli/test_startup.py` checks that `--help` imports neither
dagster nor pandas; `make bench` reports the start-up time (`resolve_sync/bench/startup.py`).

`main` is the one error boundary: see `resolve_sync.cli.boundary`.
"""

from __future__ import annotations

import importlib

import click

# name → (module, attribute, short help shown by `resolve-sync --help` without importing the module)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "connections": (
        "resolve_sync.cli.connections_commands",
        "connections",
        "Add, inspect and change merchant connections.",
    ),
    "subsidiaries": (
        "resolve_sync.cli.netsuite_commands",
        "subsidiaries",
        "List the account's subsidiaries, live from NetSuite.",
    ),
    "accounts": (
        "resolve_sync.cli.netsuite_commands",
        "accounts",
        "The subsidiary's chart of accounts, live (never stored).",
    ),
    "bookkeeping": (
        "resolve_sync.cli.netsuite_commands",
        "bookkeeping",
        "Accounts used for auto bookkeeping.",
    ),
    "sync": ("resolve_sync.cli.sync_commands", "sync", "Sync one connection now."),
    "status": (
        "resolve_sync.cli.sync_commands",
        "status",
        "Each connection's last run; per-record outcomes with reasons.",
    ),
    "duplicates": (
        "resolve_sync.cli.review_commands",
        "duplicates",
        "Customers that would be duplicates in Resolve, and their resolutions.",
    ),
    "drift": ("resolve_sync.cli.drift_commands", "drift", "Financed invoices NetSuite changed."),
    "explain": (
        "resolve_sync.cli.explain_commands",
        "explain",
        "Why a NetSuite record is, or is not, in Resolve.",
    ),
    "db": ("resolve_sync.cli.db_commands", "db", "The Resolve store's schema (migrations)."),
    "secrets": ("resolve_sync.cli.secrets_commands", "secrets", "Encryption keys for stored credentials."),
    "sandbox": ("resolve_sync.cli.sandbox_commands", "sandbox", "The NetSuite sandbox (an emulator)."),
    "demo": ("resolve_sync.cli.demo_commands", "demo", "Run the whole sync end to end on demo data."),
    "dev": ("resolve_sync.cli.demo_commands", "dev", "Serve the demo sandbox and the Dagster UI."),
    "bench": ("resolve_sync.bench.runner", "bench", "Run the performance suite."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when invoked, not when the group is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Keep each merchant's Resolve customers and invoices in step with NetSuite.

    Exit codes: 0 ok, 1 a run failed, 2 usage or configuration, 3 store, 4 data (e.g. duplicates),
    5 NetSuite or the Dagster webserver, 6 another run holds the connection, 70 unexpected (the
    traceback is written to a file), 130 interrupted.
    """


def main() -> None:
    from resolve_sync.cli.boundary import run

    run(cli)
