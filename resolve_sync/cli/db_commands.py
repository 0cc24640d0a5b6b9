"""`resolve-sync db`: create and inspect the store's schema."""

from __future__ import annotations

import click

from resolve_sync import settings
from resolve_sync.store import migrations
from resolve_sync.store.database import create_store_engine


def _target_url(url: str | None) -> str:
    return url or settings.database_url()


@click.group()
def db() -> None:
    """The Resolve store's schema (alembic migrations)."""


@db.command()
@click.option(
    "--url", envvar=settings.DATABASE_URL_ENV, help="Database URL (default: the local SQLite store)."
)
def upgrade(url: str | None) -> None:
    """Migrate the store to the latest schema; running it again changes nothing."""
    engine = create_store_engine(_target_url(url))
    before = migrations.current_revision(engine)
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{where}: already at {after}")
    else:
        click.echo(f"{where}: upgraded {before or '(empty)'} -> {after}")


@db.command()
@click.option(
    "--url", envvar=settings.DATABASE_URL_ENV, help="Database URL (default: the local SQLite store)."
)
def current(url: str | None) -> None:
    """Print the store's schema revision and whether it is the latest."""
    engine = create_store_engine(_target_url(url))
    revision = migrations.current_revision(engine)
    head = migrations.head_revision(engine)
    state = "latest" if revision == head else f"behind, latest is {head}; run `resolve-sync db upgrade`"
    click.echo(f"{revision or '(empty)'} ({state})")
