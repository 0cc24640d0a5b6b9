"""`resolve-sync explain`: why a NetSuite record is, or is not, in Resolve.

Read over the bare driver (`store.reads`), so it answers at once; the rules it re-derives are the sync's own.
"""

from __future__ import annotations

import json

import click

from resolve_sync.cli.output import json_option, subsidiary_option
from resolve_sync.errors import ResolveSyncError


@click.command()
@click.argument("merchant")
@click.argument("record")
@subsidiary_option
@json_option
def explain(merchant: str, record: str, subsidiary: str | None, as_json: bool) -> None:
    """What the last runs decided about RECORD (netsuite:ID or resolve:ID) and why: scope, filter field,
    owner and ancestors, archived, frozen, held back, invalid, duplicates, edits and history."""
    from resolve_sync import validation
    from resolve_sync.store.connection_records import list_connections, pick_connection
    from resolve_sync.store.reads import open_reads
    from resolve_sync.sync.explain import explain as explain_record

    if not record.startswith(("netsuite:", "resolve:")) and record.isdecimal() and len(record) <= 10:
        raise click.BadParameter(
            f"{record!r}: give netsuite:<internal id> or resolve:<Resolve id>, e.g. netsuite:{record}",
            param_hint="RECORD",
        )
    record = validation.record_key(record)  # an id NetSuite or Resolve could have, or a usage error
    reads = open_reads()
    if subsidiary is not None:
        connections = [pick_connection(reads, merchant, subsidiary)]
    else:
        connections = [c for c in list_connections(reads) if c.merchant_id == merchant] or [
            pick_connection(reads, merchant)  # raises the usual "no such connection" error
        ]
    try:
        stories = explain_record(reads, connections, record)
    except ResolveSyncError as error:  # until the CLI's error boundary prints every such error this way
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in stories], indent=2, default=str))
        return
    for story in stories:
        where = f"in Resolve as {story.resolve_id}" if story.in_resolve else "not in Resolve"
        click.echo(f"NetSuite {story.record_kind} {story.netsuite_id} ({story.partition_key}): {where}")
        for topic, sentence in story.facts:
            click.echo(f"  {topic + ':':<11} {sentence}")
