"""`resolve-sync connections add`: a connection from credentials the operator already has (TBA tokens or an
OAuth 2.0 client-credentials certificate), checked against NetSuite before it is stored.

Secrets never come from the command line: files, per-connection environment variables, `--env-prefix`, or
a hidden prompt. (`connections connect` is the browser flow where no token is copied by hand.)
"""

from __future__ import annotations

import getpass
import os
import re
import warnings
from typing import Any

import click

from resolve_sync import validation
from resolve_sync.cli.output import can_prompt, check_field_id, interactive
from resolve_sync.errors import ConfigurationError
from resolve_sync.kinds import AuthKind
from resolve_sync.names import REQUIRED_CREDENTIALS

SECRET_HELP = {
    "consumer_key": "TBA consumer key",
    "consumer_secret": "TBA consumer secret",
    "token_id": "TBA token id",
    "token_secret": "TBA token secret",
    "client_id": "OAuth 2.0 client id",
    "certificate_id": "OAuth 2.0 certificate id",
    "private_key_pem": "OAuth 2.0 private key (PEM)",
}
SECRET_NAMES = tuple(SECRET_HELP)


def _stem(name: str) -> str:
    return "private-key" if name == "private_key_pem" else name.replace("_", "-")


def secret_options(command: Any) -> Any:
    """`--NAME-file PATH` and `--NAME-env VARIABLE` for every credential, and the old `--NAME VALUE` flags
    kept only to refuse them: a value on the command line is visible to every user in `ps`."""
    for name in reversed(SECRET_NAMES):
        stem, what = _stem(name), SECRET_HELP[name]
        command = click.option(
            f"--{stem}-file",
            f"{name}_file",
            type=click.Path(dir_okay=False),
            default=None,
            help=f"Read the {what} from this file.",
        )(command)
        command = click.option(
            f"--{stem}-env",
            f"{name}_env",
            metavar="VARIABLE",
            default=None,
            help=f"Read the {what} from this environment variable.",
        )(command)
        if name != "private_key_pem":
            command = click.option(f"--{stem}", f"{name}_value", hidden=True, default=None)(command)
    return command


@click.command("add")
@click.argument("merchant")
@click.option(
    "--account", "account_id", required=True, help="NetSuite account id, e.g. 1234567 or 1234567_SB1."
)
@click.option(
    "--subsidiary",
    default=None,
    help="Subsidiary internal id; required when the account has several (a terminal offers the choices).",
)
@click.option(
    "--auth",
    "auth_kind",
    # oauth2_code connections are made by `connections connect`, never with pasted tokens.
    type=click.Choice([AuthKind.TBA.value, AuthKind.OAUTH2_M2M.value]),
    default="tba",
    show_default=True,
)
@click.option("--base-url", default=None, help="Override the REST host (https; http only to the sandbox).")
@click.option(
    "--filter-field", default=None, help="Customer checkbox field id (custentity…) that selects customers."
)
@click.option(
    "--timezone",
    "account_timezone",
    required=True,
    help="The account's IANA time zone (Setup > Company > General Preferences), e.g. America/Los_Angeles.",
)
@click.option("--concurrency-limit", type=click.IntRange(min=1, max=1000), default=None)
@click.option(
    "--env-prefix",
    default=None,
    metavar="PREFIX",
    help="Read each credential from PREFIX_CONSUMER_KEY, PREFIX_TOKEN_SECRET, … (e.g. ACME_NS).",
)
@click.option(
    "--secrets-from-env",
    is_flag=True,
    help="Store references to the variables (--…-env or --env-prefix) instead of their values; the "
    "variables must then be set wherever syncs run.",
)
@click.option(
    "--no-verify",
    is_flag=True,
    help="Do not call NetSuite to check the credentials, the subsidiary and the filter field (offline use).",
)
@secret_options
def add(
    merchant: str,
    account_id: str,
    subsidiary: str | None,
    auth_kind: str,
    base_url: str | None,
    filter_field: str | None,
    account_timezone: str,
    concurrency_limit: int | None,
    env_prefix: str | None,
    secrets_from_env: bool,
    no_verify: bool,
    **secret_sources: str | None,
) -> None:
    """Add a connection for MERCHANT.

    Credentials never go on the command line: each comes from a file (--consumer-secret-file PATH), an
    environment variable (--consumer-secret-env NAME, or --env-prefix ACME_NS for all of them), or a
    hidden prompt. --secrets-from-env stores the variables' names instead of the values. Unless
    --no-verify, the credentials are tried on NetSuite, and on an account with several subsidiaries one
    must be chosen (a terminal offers the choices)."""
    # Every value is checked before anything is read, asked, sent or stored.
    validation.merchant_id(merchant)
    account_id = validation.netsuite_account_id(account_id)
    base_url = validation.base_url(base_url) if base_url is not None else None
    account_timezone = validation.time_zone(account_timezone)
    subsidiary_id = validation.subsidiary_id(subsidiary) if subsidiary is not None else None
    if filter_field:
        check_field_id(filter_field)
    if env_prefix is not None and not ENV_NAME_RE.fullmatch(env_prefix):
        raise ConfigurationError(f"--env-prefix {env_prefix!r} is not an environment variable name prefix.")
    kind = AuthKind(auth_kind)
    sources = {name: _source(name, secret_sources, env_prefix) for name in REQUIRED_CREDENTIALS[kind]}
    stored, values = _credentials(kind, sources, secrets_from_env=secrets_from_env, verify=not no_verify)
    if not no_verify:
        subsidiary_id = _verify(
            merchant, account_id, kind, values, base_url, subsidiary_id, filter_field, account_timezone
        )
    from resolve_sync.store.connections import add_connection
    from resolve_sync.store.reads import open_writes
    from resolve_sync.store.secrets import SecretBox

    connection = add_connection(
        open_writes(),
        SecretBox.from_environment(),
        merchant_id=merchant,
        netsuite_account_id=account_id,
        auth_kind=auth_kind,
        credentials=stored,
        subsidiary_id=subsidiary_id,
        base_url=base_url,
        filter_field_id=filter_field,
        account_timezone=account_timezone,
        concurrency_limit=concurrency_limit,
    )
    click.echo(f"added connection {connection.partition_key}" + (" (not verified)" if no_verify else ""))


ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,100}")


def _source(name: str, given: dict[str, str | None], env_prefix: str | None) -> tuple[str, str] | None:
    """Where one credential comes from: ("file", path), ("env", variable), or None (ask for it)."""
    stem = _stem(name)
    if given.get(f"{name}_value") is not None:
        raise ConfigurationError(
            f"--{stem} takes no value on the command line (other users see it in `ps`); use "
            f"--{stem}-file PATH, --{stem}-env VARIABLE, --env-prefix PREFIX, or answer the hidden prompt."
        )
    path, variable = given.get(f"{name}_file"), given.get(f"{name}_env")
    if path and variable:
        raise ConfigurationError(f"Give the {SECRET_HELP[name]} once: --{stem}-file or --{stem}-env.")
    if path:
        return ("file", path)
    if variable is None and env_prefix is not None:
        variable = f"{env_prefix.rstrip('_')}_{name.upper()}"
    if variable is not None:
        if not ENV_NAME_RE.fullmatch(variable):
            raise ConfigurationError(f"--{stem}-env {variable!r} is not an environment variable name.")
        return ("env", variable)
    return None


def _credentials(
    kind: AuthKind,
    sources: dict[str, tuple[str, str] | None],
    *,
    secrets_from_env: bool,
    verify: bool,
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """(what is stored, the values to verify with — None when they are not at hand)."""
    stored: dict[str, Any] = {}
    values: dict[str, str] = {}
    for name, source in sources.items():
        stem = _stem(name)
        if secrets_from_env:
            if source is None or source[0] != "env":
                raise ConfigurationError(
                    f"--secrets-from-env stores variable names: name the {SECRET_HELP[name]}'s with "
                    f"--{stem}-env VARIABLE or all of them with --env-prefix PREFIX."
                )
            stored[name] = {"env": source[1]}
            if source[1] in os.environ:
                values[name] = os.environ[source[1]]
            continue
        if source is None:
            if name == "private_key_pem":
                raise ConfigurationError(
                    f"{kind} needs the private key: --private-key-file PATH or --private-key-env VARIABLE."
                )
            if not can_prompt():  # stdin closed: nobody and nothing can answer
                raise ConfigurationError(
                    f"No {SECRET_HELP[name]} given: use --{stem}-file PATH, --{stem}-env VARIABLE or "
                    "--env-prefix PREFIX (a hidden prompt asks for it only on a terminal)."
                )
            with warnings.catch_warnings():  # piped in: there is no echo to turn off, and no one to see it
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                value = click.prompt(SECRET_HELP[name], hide_input=True, err=True)
        elif source[0] == "file":
            value = _read_secret_file(source[1], f"--{stem}-file")
        else:
            if source[1] not in os.environ:
                raise ConfigurationError(f"--{stem}-env names {source[1]}, which is not set.")
            value = os.environ[source[1]]
        value = value if name == "private_key_pem" else value.strip()
        if not value:
            raise ConfigurationError(f"The {SECRET_HELP[name]} is empty.")
        stored[name] = values[name] = value
    missing = [n for n in sources if n not in values]
    if verify and missing:
        variables = ", ".join(str(stored[n]["env"]) for n in missing)
        raise ConfigurationError(
            f"Cannot verify the connection: {variables} not set in this shell. Set them here too, or add "
            "the connection with --no-verify."
        )
    return stored, (values if not missing else None)


SECRET_FILE_LIMIT = 64 * 1024  # a key or a PEM private key is a few KiB; /dev/zero is not a secret


def _read_secret_file(path: str, option: str) -> str:
    try:
        with open(path, "rb") as file:
            data = file.read(SECRET_FILE_LIMIT + 1)
        if len(data) > SECRET_FILE_LIMIT:
            raise ConfigurationError(
                f"{option} {path}: larger than {SECRET_FILE_LIMIT // 1024} KiB, so not a credential file."
            )
        return data.decode()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ConfigurationError(f"{option} {path}: cannot be read ({reason}).") from None


def _verify(
    merchant: str,
    account_id: str,
    kind: AuthKind,
    credentials: dict[str, str] | None,
    base_url: str | None,
    subsidiary_id: int | None,
    filter_field: str | None,
    account_timezone: str,
) -> int | None:
    """Try the credentials on NetSuite and settle the subsidiary (R2) and the filter field (R11) now, not
    at the first failed run.

    The time zone is taken as given (validated as an IANA name): NetSuite's REST API does not expose the
    company's time zone preference (it is in Setup > Company > General Preferences, readable only from
    SuiteScript's `config` module), so it cannot be read at add time."""
    from resolve_sync.netsuite import build_client
    from resolve_sync.netsuite.fields import check_filter_field

    assert credentials is not None
    with build_client(account_id, kind, credentials, base_url=base_url, timeout=60) as client:
        chosen = choose_subsidiary(client, merchant, account_id, subsidiary_id, account_timezone)
        if filter_field:
            check = check_filter_field(client, filter_field)
            if not check.valid:
                raise ConfigurationError(
                    f"Merchant {merchant!r}: filter field {filter_field!r} is invalid: {check.reason}. "
                    "Give a customer checkbox field, or leave --filter-field out."
                )
    return chosen


def choose_subsidiary(
    client: Any, merchant: str, account_id: str, subsidiary_id: int | None, account_timezone: str
) -> int | None:
    """R2 at add time: one of the account's active, non-elimination subsidiaries; with several and none
    given, a terminal picks from the list, anything else gets the list and the command to run."""
    from resolve_sync.netsuite.errors import NetSuiteQueryError
    from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES

    try:
        rows = list(client.suiteql_all(ACTIVE_SUBSIDIARIES))
    except NetSuiteQueryError as error:
        if error.detail and "subsidiary" in error.detail.lower() and subsidiary_id is None:
            return None  # no OneWorld: there is no subsidiary table, and no choice to make
        raise
    choices = {int(row["id"]): str(row.get("name") or "") for row in rows}
    listed = ", ".join(f"{i} ({name})" for i, name in choices.items())
    if subsidiary_id is not None:
        if subsidiary_id not in choices:
            raise ConfigurationError(
                f"Merchant {merchant!r}: subsidiary {subsidiary_id} is not an active, non-elimination "
                f"subsidiary of NetSuite account {account_id}. Choices: {listed}."
            )
        return subsidiary_id
    if len(choices) <= 1:
        return None
    if interactive():
        click.echo(f"NetSuite account {account_id} has {len(choices)} subsidiaries:", err=True)
        for i, name in choices.items():
            click.echo(f"  {i}  {name}", err=True)
        return int(
            click.prompt(
                "Subsidiary to sync",
                type=click.Choice([str(i) for i in choices]),
                show_choices=False,
                err=True,
            )
        )
    raise ConfigurationError(
        f"Merchant {merchant!r}: NetSuite account {account_id} has {len(choices)} subsidiaries; choose one "
        f"with `resolve-sync connections add {merchant} --account {account_id} --subsidiary ID "
        f"--timezone {account_timezone} …`. Choices: {listed}."
    )
