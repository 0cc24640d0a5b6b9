"""`resolve-sync sandbox`: serve a NetSuite sandbox account, generate demo data."""

from __future__ import annotations

import datetime as dt
import sys

import click

from resolve_sync.sandbox.fixture import FixtureError


@click.group()
def sandbox() -> None:
    """The NetSuite sandbox (an emulator of one NetSuite account)."""


@sandbox.command()
@click.argument("fixture", type=click.Path(exists=True, dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, show_default=True, help="0 picks a free port.")
def serve(fixture: str, host: str, port: int) -> None:
    """Serve FIXTURE; the first line of output is the base URL."""
    from resolve_sync.sandbox.server import SandboxServer

    try:
        server = SandboxServer(fixture, host=host, port=port)
    except FixtureError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:  # the port is taken, or the host is not this machine's
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({error.strerror or error}); pick another --port (0 picks a free one)."
        ) from None
    click.echo(server.base_url)
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.account.close()


@sandbox.command()
@click.option("--customers", type=click.IntRange(min=1), required=True)
@click.option("--invoices", type=click.IntRange(min=0), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date the data is generated around (default: today).",
)
@click.option("--timezone", default="America/Los_Angeles", show_default=True)
@click.option("--concurrency-limit", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def generate(
    customers: int,
    invoices: int,
    seed: int,
    as_of: dt.datetime | None,
    timezone: str,
    concurrency_limit: int,
    output: str,
) -> None:
    """Write a realistic, deterministic demo account to OUTPUT."""
    from resolve_sync.sandbox.generate import generate_fixture

    counts = generate_fixture(
        output,
        customers=customers,
        invoices=invoices,
        seed=seed,
        as_of=as_of.date() if as_of else None,
        timezone=timezone,
        concurrency_limit=concurrency_limit,
    )
    click.echo(f"wrote {output}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
