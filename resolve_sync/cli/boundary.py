"""The CLI's one error boundary: what a person sees when a command fails.

Every expected failure is one or two lines on stderr: what went wrong (with the merchant or partition it
concerns), then the command that fixes it, runnable as printed; the exit code says what kind of failure
it was (the table is in README.md, "Exit codes"). Expected failures are `ResolveSyncError`s (each knows
its `exit_code`), click's usage errors, and the two outside failures an operator meets first: a store that
cannot be reached, written or read (SQLAlchemy's `OperationalError`/`ProgrammingError`), and a Dagster
webserver that is not running (`httpx.ConnectError`). Anything else is a bug: the full traceback goes to a
file in the state folder, the message says where, and the exit code is 70 (EX_SOFTWARE).

SQLAlchemy and httpx are not imported here: an exception of theirs can only exist once they are loaded, so
the boundary looks their classes up in `sys.modules` and `--help` stays as light as click.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shlex
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from resolve_sync.errors import ResolveSyncError, StoreError

UNEXPECTED = 70  # EX_SOFTWARE
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EBADF, errno.EDQUOT}  # writing stdout failed, not the command
INTERRUPTED = 130
STORE = StoreError.exit_code
REMOTE = 5
PROG = "resolve-sync"


def run(cli: click.Command, argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name=PROG, standalone_mode=False)
        if sys.stdout is not None:  # None: started with stdout closed (`>&-`); click then prints nothing
            sys.stdout.flush()  # a reader that went away (`| head`) is noticed here, not at exit
    except BrokenPipeError:
        _reader_gone()
    except OSError as error:
        if error.errno not in OUTPUT_ERRNOS:
            _unexpected(error)
        # /dev/full, a full disk or a broken terminal: whatever the command did is done; say so
        _fail(
            f"error: the output could not be written ({error.strerror}); what the command did is done.",
            "fix: free some space or redirect the output elsewhere, then run the command again to see it "
            "(a change it made is not made twice: `resolve-sync status` shows the state).",
            code=1,
        )
    except SystemExit:
        # click turns a broken pipe (EPIPE) into exit 1 after swapping stdout for its flush-pacifying wrapper
        if type(sys.stdout).__name__ == "_PacifyFlushWrapper":
            _reader_gone()
        raise
    except click.exceptions.Abort as error:
        if isinstance(error.__context__, EOFError):  # a prompt's input ended: a script, not Ctrl-C
            _fail(
                "error: the command asked a question but its input ended before an answer.",
                f"fix: give the answer as an option instead (see `{shlex.join([PROG, *args[:2]])} --help`), "
                "or run it on a terminal.",
                code=click.UsageError.exit_code,
            )
        click.echo("Aborted.", err=True)
        sys.exit(INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(INTERRUPTED)
    except click.UsageError as error:  # a wrong command, option or value: exit 2, as click does
        command = error.ctx.command_path if error.ctx else PROG
        _fail(f"error: {error.format_message()}", f"fix: see `{command} --help`", code=error.exit_code)
    except click.ClickException as error:
        _fail(f"error: {error.format_message()}", code=error.exit_code)
    except ResolveSyncError as error:
        _fail(*explain(error, args), code=error.exit_code)
    except Exception as error:  # the boundary: everything else is classified or written to a file
        known = outside_failure(error)
        if known is not None:
            lines, exit_code = known
            _fail(*lines, code=exit_code)
        _unexpected(error)
    sys.exit(code if isinstance(code, int) else 0)


def _unexpected(error: BaseException) -> NoReturn:
    path = write_traceback(error)
    _fail(
        f"error: unexpected {type(error).__name__}: {_first_line(error)}",
        f"The full traceback is in {path}; please report it with the command you ran.",
        code=UNEXPECTED,
    )


def _reader_gone() -> NoReturn:
    """`resolve-sync status | head`: the reader had enough. Not an error (exit 0, nothing on stderr), as
    with `git log | head`; stdout goes to /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def _fail(*lines: str, code: int) -> NoReturn:
    for line in lines:
        if line:
            click.echo(line, err=True)
    sys.exit(code)


def explain(error: ResolveSyncError, args: Sequence[str]) -> tuple[str, str]:
    """The error's message, and a second line with the fix when the message does not already carry one."""
    message = error.message
    several = re.search(r"has \d+ connections \(([^)]*)\); pass --subsidiary", message)
    if several:
        # "pass --subsidiary" is not a command: name the one to run, with each choice spelled out
        keys = [k.strip() for k in several.group(1).split(",")]
        subsidiaries = [k.partition("|")[2] for k in keys]
        commands = [shlex.join([PROG, *args, "--subsidiary", s]) for s in subsidiaries if s != "default"]
        message = message[: several.end() - len("; pass --subsidiary")] + "."
        return f"error: {message}", "fix: name one, e.g. " + (commands[0] if commands else "--subsidiary")
    hint = error.hint if error.hint and error.hint not in message else ""
    return f"error: {message}", f"fix: {hint}" if hint else ""


def outside_failure(error: BaseException) -> tuple[tuple[str, str], int] | None:
    """A store or webserver failure in plain words, or None when the error is not one of them."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is not None and isinstance(error, sqlalchemy_exc.DBAPIError):
        return store_failure(error), STORE
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(error, httpx.ConnectError):
        url = str(error.request.url) if _has_request(error) else "the server"
        return (
            f"error: cannot connect to {url} ({_first_line(error)}).",
            "fix: start the Dagster webserver with `make dev` (or `resolve-sync dev`) in another terminal, "
            "or add --local to run the sync in this process.",
        ), REMOTE
    return None


def store_failure(error: BaseException) -> tuple[str, str]:
    """SQLAlchemy's error → what is wrong with the store and how to fix it."""
    from resolve_sync import settings
    from resolve_sync.validation import scrub

    detail = scrub(
        str(getattr(error, "orig", None) or error).strip().splitlines()[0], settings.database_url()
    )
    lowered = detail.lower()
    where = _store_location()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        sqlite_file = _sqlite_file()
        return (
            f"error: the Resolve store ({where}) is read-only: {detail}.",
            f"fix: make it writable (`chmod u+w {shlex.quote(str(sqlite_file))} "
            f"{shlex.quote(str(sqlite_file.parent))}`)"
            if sqlite_file
            else f"fix: point {settings.DATABASE_URL_ENV} at a writable database (no mode=ro, not a "
            "read-only replica), or grant its user write access.",
        )
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return (
            f"error: the Resolve store ({where}) has no resolve_sync schema, or an older one: {detail}.",
            "fix: resolve-sync db upgrade",
        )
    variable = settings.DATABASE_URL_ENV
    sqlite_file = _sqlite_file()
    if "not a database" in lowered or "malformed" in lowered:
        return (
            f"error: the Resolve store ({where}) is not a SQLite database: {detail}.",
            f"fix: point {variable} at the store's database file, or move "
            f"{shlex.quote(str(sqlite_file or where))} away so a new local store is created.",
        )
    if sqlite_file is not None and not sqlite_file.parent.is_dir():
        return (
            f"error: the Resolve store ({where}) cannot be opened: its folder does not exist.",
            f"fix: `mkdir -p {shlex.quote(str(sqlite_file.parent))}`, or point {variable} at an existing store.",
        )
    if "authentication failed" in lowered or ("role" in lowered and "does not exist" in lowered):
        return (
            f"error: the Resolve store ({where}) refused the user: {detail}.",
            f"fix: correct the user or password in {variable} (or grant that role access on the server).",
        )
    if "database" in lowered and "does not exist" in lowered:
        return (
            f"error: the Resolve store ({where}) names a database the server does not have: {detail}.",
            f"fix: create it (`createdb NAME`) and run `resolve-sync db upgrade`, or correct {variable}.",
        )
    return (
        f"error: the Resolve store ({where}) cannot be reached: {detail}.",
        f"fix: start the database server, or point {variable} at a reachable database; "
        "`resolve-sync db current` checks it.",
    )


def _store_location() -> str:
    from resolve_sync import settings
    from resolve_sync.validation import redact_url

    return redact_url(settings.database_url())


def _sqlite_file() -> Path | None:
    from resolve_sync import settings

    url = settings.database_url()
    if not url.startswith("sqlite:///") or "?" in url:  # a URI with options (mode=ro …) names no plain file
        return None
    return Path(url.removeprefix("sqlite:///"))


def _has_request(error: BaseException) -> bool:
    try:
        return error.request is not None  # type: ignore[attr-defined]
    except RuntimeError:  # httpx raises when the error was built without a request
        return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def write_traceback(error: BaseException) -> Path:
    """The full traceback in `<state dir>/errors/`, named by time; falls back to the temp folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = f"{PROG} {shlex.join(sys.argv[1:])}\n\n" + "".join(
        traceback.format_exception(type(error), error, error.__traceback__)
    )
    try:
        from resolve_sync import settings

        folder = settings.state_dir() / "errors"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        import tempfile

        folder = Path(tempfile.gettempdir())
    path = folder / f"traceback-{stamp}-{os.getpid()}.txt"
    path.write_text(text)
    return path
