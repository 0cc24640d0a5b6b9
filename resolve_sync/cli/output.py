"""Human-readable tables by default, JSON for scripts; the options and value types commands share."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

import click


def emit(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool, empty: str = "(none)"
) -> None:
    """A table (every value in full: nothing is cut) or one JSON array."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    if not rows:
        click.echo(empty)
        return
    widths = {c: max(len(c), *(len(_text(r.get(c))) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(_text(row.get(c)).ljust(widths[c]) for c in columns).rstrip())


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return timestamp(value) or ""
    return "" if value is None else str(value)


def timestamp(value: dt.datetime | None) -> str | None:
    """A time as a person reads it: to the second, in UTC, no microseconds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat(sep=" ") + " UTC"


class SubsidiaryId(click.ParamType):
    """A NetSuite internal id: ASCII digits only (`str.isdigit` also accepts '²' and other digit signs)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if text == "default" or (text.isascii() and text.isdigit() and int(text) > 0):
            return text
        self.fail(
            f"{value!r} is not a subsidiary id: use the NetSuite internal id, a positive whole number "
            "(`resolve-sync subsidiaries MERCHANT` lists them).",
            param,
            ctx,
        )


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
subsidiary_option = click.option(
    "--subsidiary",
    "subsidiary",
    type=SubsidiaryId(),
    default=None,
    help="The connection's subsidiary id (needed when the merchant has several).",
)


def check_field_id(field_id: str) -> None:
    """A filter field id NetSuite could have (custentity…), or a usage error naming what is wrong."""
    from resolve_sync.netsuite.queries import InvalidQueryParameter, checked_field_id

    try:
        checked_field_id(field_id)
    except InvalidQueryParameter as error:
        raise click.BadParameter(str(error)) from None


def interactive() -> bool:
    """A person at a terminal can answer a question (stdin may also be a pipe, a file or closed: `<&-`)."""
    return can_prompt() and sys.stdin.isatty()


def can_prompt() -> bool:
    """A prompt can read an answer at all: from a terminal or piped in (`printf '2\n' | …`); not when stdin
    was closed (`<&-`). An input that ends before the answer is the boundary's usage error."""
    return sys.stdin is not None and not sys.stdin.closed
