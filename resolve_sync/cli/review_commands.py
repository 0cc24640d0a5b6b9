"""`resolve-sync duplicates` (R12): customers that would be duplicates in Resolve, and their resolutions.

`list` reads over the bare driver (`store.reads`), so it answers at once; the commands that record a
resolution load SQLAlchemy.
"""

from __future__ import annotations

import json

import click

from resolve_sync.cli.output import emit, json_option, subsidiary_option
from resolve_sync.kinds import Resolution


@click.group()
def duplicates() -> None:
    """Customers that would be duplicates in Resolve, and how an operator resolves them."""


@duplicates.command("list")
@click.argument("merchant")
@subsidiary_option
@json_option
def list_duplicates(merchant: str, subsidiary: str | None, as_json: bool) -> None:
    """Unresolved pairs among the customers staged by the last run, and the resolutions recorded.

    Without --subsidiary, every connection of MERCHANT is listed (resolutions are the merchant's)."""
    from resolve_sync.store.connection_records import list_connections, pick_connection
    from resolve_sync.store.reads import open_reads
    from resolve_sync.store.resolution_records import list_resolutions
    from resolve_sync.sync.duplicates import duplicate_pairs

    reads = open_reads()
    if subsidiary is not None:
        connections = [pick_connection(reads, merchant, subsidiary)]
    else:
        connections = [c for c in list_connections(reads) if c.merchant_id == merchant] or [
            pick_connection(reads, merchant)  # raises the usual "no such connection" error
        ]
    rows = [
        {
            "connection": connection.partition_key,
            "left": p.keys[0],
            "right": p.keys[1],
            "matched_on": p.matched_on,
            "left_name": p.left.name,
            "right_name": p.right.name,
        }
        for connection in connections
        for p in duplicate_pairs(reads, connection)
    ]
    resolved = list_resolutions(reads, merchant)
    if as_json:  # one document: what blocks the next run, and what operators decided before
        document = {
            "unresolved": rows,
            "resolved": [
                {
                    "left": r.left_key,
                    "right": r.right_key,
                    "resolution": str(r.resolution),
                    "by": r.resolved_by,
                }
                for r in resolved
            ],
        }
        click.echo(json.dumps(document, indent=2, default=str))
        return
    emit(
        rows,
        ("connection", "left", "right", "matched_on", "left_name", "right_name"),
        as_json=False,
        empty="no unresolved duplicates",
    )
    if resolved:
        click.echo(f"\n{len(resolved)} resolved pair(s):")
        for r in resolved:
            click.echo(f"  {r.left_key} {r.right_key}: {r.resolution} by {r.resolved_by}")


def _resolve(merchant: str, left: str, right: str, resolution: Resolution) -> None:
    from resolve_sync.store.duplicate_resolutions import record_resolution
    from resolve_sync.store.reads import open_writes

    pair = record_resolution(open_writes(), merchant, left, right, resolution)
    click.echo(f"{merchant}: {pair[0]} and {pair[1]} marked {resolution}; the next sync applies it")


@duplicates.command()
@click.argument("merchant")
@click.argument("netsuite_key")
@click.argument("resolve_key")
def link(merchant: str, netsuite_key: str, resolve_key: str) -> None:
    """NETSUITE_KEY (netsuite:<id>) is the existing Resolve customer RESOLVE_KEY (resolve:<id>): link them.

    The Resolve customer must be MERCHANT's and not stand for another NetSuite customer already."""
    _resolve(merchant, netsuite_key, resolve_key, Resolution.LINKED)


@duplicates.command()
@click.argument("merchant")
@click.argument("left")
@click.argument("right")
def distinct(merchant: str, left: str, right: str) -> None:
    """LEFT and RIGHT are different customers: sync both."""
    _resolve(merchant, left, right, Resolution.DISTINCT)


@duplicates.command()
@click.argument("merchant")
@click.argument("netsuite_key")
@click.argument("resolve_key")
def unlink(merchant: str, netsuite_key: str, resolve_key: str) -> None:
    """Undo `link`: the next run's duplicate check judges the pair again (records synced stay)."""
    from resolve_sync.store.duplicate_resolutions import forget_resolution
    from resolve_sync.store.reads import open_writes

    forget_resolution(open_writes(), merchant, netsuite_key, resolve_key, resolution=Resolution.LINKED)
    click.echo(f"{merchant}: link of {netsuite_key} and {resolve_key} removed")


@duplicates.command()
@click.argument("merchant")
@click.argument("left")
@click.argument("right")
def forget(merchant: str, left: str, right: str) -> None:
    """Remove any resolution (linked or distinct) of LEFT and RIGHT; the next run judges them again."""
    from resolve_sync.store.duplicate_resolutions import forget_resolution
    from resolve_sync.store.reads import open_writes

    was = forget_resolution(open_writes(), merchant, left, right)
    click.echo(f"{merchant}: resolution of {left} and {right} ({was}) removed")
