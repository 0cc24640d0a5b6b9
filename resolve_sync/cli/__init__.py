"""The `resolve-sync` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from resolve_sync.bench import runner as bench_runner
from resolve_sync.cli import (
    connections_commands,
    db_commands,
    demo_commands,
    explain_commands,
    netsuite_commands,
    review_commands,
    sandbox_commands,
    secrets_commands,
    sync_commands,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Keep each merchant's Resolve customers and invoices in step with NetSuite."""


for command in (
    db_commands.db,
    secrets_commands.secrets,
    sandbox_commands.sandbox,
    connections_commands.connections,
    netsuite_commands.subsidiaries,
    netsuite_commands.accounts,
    netsuite_commands.bookkeeping,
    sync_commands.sync,
    sync_commands.status,
    review_commands.duplicates,
    review_commands.drift,
    explain_commands.explain,
    demo_commands.demo,
    demo_commands.dev,
    bench_runner.bench,
):
    cli.add_command(command)


def main() -> None:
    cli()
