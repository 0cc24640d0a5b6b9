"""Human-readable tables by default, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click


def emit(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool, empty: str = "(none)"
) -> None:
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    if not rows:
        click.echo(empty)
        return
    widths = {c: max(len(c), *(len(_text(r.get(c))) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(_text(row.get(c)).ljust(widths[c]) for c in columns))


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
subsidiary_option = click.option(
    "--subsidiary",
    "subsidiary",
    default=None,
    help="The connection's subsidiary id (needed when the merchant has several).",
)
