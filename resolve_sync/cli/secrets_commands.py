"""`resolve-sync secrets`: keys for the credentials stored with each connection."""

from __future__ import annotations

import click


@click.group()
def secrets() -> None:
    """Encryption keys for stored NetSuite credentials."""


@secrets.command("generate-key")
def generate_key_command() -> None:
    """Print a new key for RESOLVE_SYNC_SECRET_KEY (put it first in the list to start a rotation)."""
    from resolve_sync.store.secrets import generate_key

    click.echo(generate_key())


@secrets.command()
def rotate() -> None:
    """Re-encrypt every connection's credentials with the newest key in RESOLVE_SYNC_SECRET_KEY."""
    from resolve_sync.store.connections import rotate_credentials
    from resolve_sync.store.reads import open_writes
    from resolve_sync.store.secrets import SecretBox

    count = rotate_credentials(open_writes(), SecretBox.from_environment())
    click.echo(f"re-encrypted the credentials of {count} connection(s) with the newest key")
