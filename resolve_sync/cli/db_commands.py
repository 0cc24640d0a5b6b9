"""`resolve-sync db`: create and inspect the store's schema."""

from __future__ import annotations

import contextlib
import os

import click

from resolve_sync import settings


def _target_url(url: str | None) -> str:
    if url:  # `--url` is RESOLVE_SYNC_DATABASE_URL given on the line: an error must name this store
        os.environ[settings.DATABASE_URL_ENV] = url
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
    if _already_current(_target_url(url)):  # the usual case, answered without loading alembic
        return
    from resolve_sync.store import migrations
    from resolve_sync.store.database import create_store_engine, shown_url

    engine = create_store_engine(_target_url(url))
    before = migrations.current_revision(engine)
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    where = shown_url(engine)
    if before == after:
        click.echo(f"{where}: already at {after}")
    else:
        click.echo(f"{where}: upgraded {before or '(empty)'} -> {after}")


def _already_current(target: str) -> bool:
    from resolve_sync.errors import StoreError
    from resolve_sync.store.reads import open_driver, schema_revision
    from resolve_sync.store.schema_version import HEAD
    from resolve_sync.validation import redact_url

    reads = open_driver(target)
    if reads is None:
        return False
    try:
        current = schema_revision(reads) == HEAD
    except StoreError:
        current = False  # not a database, or the server refused: alembic's path says what is wrong
    finally:
        reads.close()
    if current:
        click.echo(f"{redact_url(target)}: already at {HEAD}")
    return current


@db.command()
@click.option(
    "--url", envvar=settings.DATABASE_URL_ENV, help="Database URL (default: the local SQLite store)."
)
def current(url: str | None) -> None:
    """Print the store's schema revision and whether it is the latest."""
    from resolve_sync.errors import StoreError
    from resolve_sync.store.reads import open_driver, schema_revision
    from resolve_sync.store.schema_version import HEAD

    reads = open_driver(_target_url(url))
    revision, known = None, False
    if reads is not None:  # the usual case, answered without loading SQLAlchemy or alembic
        with contextlib.suppress(StoreError):
            revision, known = schema_revision(reads), True
        reads.close()
    if not known:  # a new SQLite file, not a database, no server, an unusual URL: SQLAlchemy says what
        from resolve_sync.store import migrations
        from resolve_sync.store.database import create_store_engine

        revision = migrations.current_revision(create_store_engine(_target_url(url)))
    state = "latest" if revision == HEAD else f"behind, latest is {HEAD}; run `resolve-sync db upgrade`"
    click.echo(f"{revision or '(empty)'} ({state})")
