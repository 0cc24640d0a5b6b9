"""`resolve-sync connections connect`: connect a merchant the way the product does, by a user's "Allow access"
in NetSuite instead of pasted tokens.

The command starts a one-shot callback server on 127.0.0.1 and a free port, prints (and on a desktop opens)
NetSuite's authorization URL, waits for the redirect, completes the exchange (TBA: verifier → access token;
OAuth 2.0: code + PKCE verifier → access and refresh tokens), lists the account's subsidiaries and asks for
one when there are several (R2), and only then stores the connection, credentials encrypted. A timeout, a
"Deny" or an interrupted prompt stores nothing. Run it again for a connection that exists (for instance one
flagged `needs_reconnect`) and it replaces the credentials in place: subsidiary, filter, cursors, links and
history stay.

The integration's own client id and secret (NetSuite's "Consumer Key / Client ID" and "Consumer Secret /
Client Secret") are the deployment's: they are read from RESOLVE_SYNC_NETSUITE_CLIENT_ID/_SECRET and stored
as references to those variables, never as values typed on a command line.
"""

from __future__ import annotations

import sys

import click

from resolve_sync.errors import ResolveSyncError
from resolve_sync.kinds import ConnectMethod

DEFAULT_TIMEOUT_SECONDS = 300.0


@click.command("connect")
@click.argument("merchant")
@click.option(
    "--account", "account_id", required=True, help="NetSuite account id, e.g. 1234567 or 1234567_SB1."
)
@click.option(
    "--method",
    type=click.Choice([m.value for m in ConnectMethod]),
    default=ConnectMethod.OAUTH2.value,
    show_default=True,
    help="oauth2: authorization code with PKCE (Oracle's preferred path); tba: token-based auth.",
)
@click.option(
    "--subsidiary",
    default=None,
    help="The subsidiary to sync, instead of being asked when there are several.",
)
@click.option("--no-browser", is_flag=True, help="Print the authorization URL only; do not open a browser.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1, max=3600),
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for NetSuite's answer.",
)
@click.option("--base-url", default=None, help="A NetSuite sandbox on this machine (loopback URLs only).")
@click.option(
    "--timezone",
    "account_timezone",
    default="America/Los_Angeles",
    show_default=True,
    help="The NetSuite account's time zone (Setup > Company > General Preferences); new connections only.",
)
def connect(
    merchant: str,
    account_id: str,
    method: str,
    subsidiary: str | None,
    no_browser: bool,
    timeout: float,
    base_url: str | None,
    account_timezone: str,
) -> None:
    """Connect MERCHANT's NetSuite account: a user logs in to NetSuite and presses "Allow access"."""
    from resolve_sync.cli import connect_flow
    from resolve_sync.netsuite.authorize import is_loopback_url

    if base_url is not None and not is_loopback_url(base_url):
        raise click.BadParameter(
            "only a sandbox on this machine (http://127.0.0.1:PORT)", param_hint="--base-url"
        )
    try:
        connect_flow.run(
            merchant,
            account_id,
            ConnectMethod(method),
            subsidiary=subsidiary,
            open_browser=not no_browser and connect_flow.desktop_available(),
            timeout=timeout,
            base_url=base_url,
            account_timezone=account_timezone,
        )
    except ResolveSyncError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
