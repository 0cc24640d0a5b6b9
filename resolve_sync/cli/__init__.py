"""The `resolve-sync` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from resolve_sync.cli import db_commands, sandbox_commands, secrets_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Keep each merchant's Resolve customers and invoices in step with NetSuite."""


cli.add_command(db_commands.db)
cli.add_command(secrets_commands.secrets)
cli.add_command(sandbox_commands.sandbox)


def main() -> None:
    cli()
