"""Oracle/SuiteQL functions the sandbox runs inside SQLite as user-defined functions.

Timestamps are stored as 'YYYY-MM-DD HH:MM:SS' text in the account's time zone, as NetSuite keeps them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import sqlite3
from typing import Any

STORED = "%Y-%m-%d %H:%M:%S"

# Oracle datetime format elements -> strftime, longest first so HH24 wins over HH.
_ORACLE_TOKENS = [
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("MONTH", "%B"),
    ("MON", "%b"),
    ("DAY", "%A"),
    ("DY", "%a"),
    ("YY", "%y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("TZH", "+00"),
    ("TZM", "00"),
]
_TOKEN_RE = re.compile("|".join(re.escape(t) for t, _ in _ORACLE_TOKENS) + r'|"[^"]*"|.', re.IGNORECASE)


class SuiteQLFunctionError(ValueError):
    """A function argument NetSuite would refuse (bad format or value)."""


@functools.lru_cache(maxsize=256)
def oracle_to_strftime(fmt: str) -> str:
    """Translate an Oracle format model ('YYYY-MM-DD"T"HH24:MI:SS') into a strftime pattern."""
    mapping = {token: code for token, code in _ORACLE_TOKENS}
    out = []
    for match in _TOKEN_RE.finditer(fmt):
        piece = match.group(0)
        if piece.startswith('"'):
            out.append(piece[1:-1].replace("%", "%%"))
        elif piece.upper() in mapping:
            out.append(mapping[piece.upper()])
        elif piece.upper() in ("DS", "TS"):
            out.append("%m/%d/%Y" if piece.upper() == "DS" else "%I:%M:%S %p")
        else:
            out.append(piece.replace("%", "%%"))
    return "".join(out)


def parse_stored(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    text = str(value)
    try:
        return (
            dt.datetime.strptime(text[:19], STORED)
            if len(text) >= 19
            else dt.datetime.strptime(text, "%Y-%m-%d")
        )
    except ValueError:
        return None


FAST_FORMATS = {"YYYY-MM-DD HH24:MI:SS": 19, "YYYY-MM-DD": 10}


def to_char(value: Any, fmt: str | None = None) -> str | None:
    if value is None:
        return None
    if fmt in FAST_FORMATS and isinstance(value, str) and len(value) >= 19 and value[10] == " ":
        return value[: FAST_FORMATS[fmt]]  # the stored form already is this format
    moment = parse_stored(value)
    if moment is None:
        return str(value)  # TO_CHAR of a number or text is its text
    return moment.strftime(oracle_to_strftime(fmt or "DD-MON-YY"))


def strptime_to_stored(value: Any, python_format: str | None = None) -> str | None:
    """TO_DATE / TO_TIMESTAMP (sqlglot has already turned the Oracle format into a strftime one)."""
    if value is None:
        return None
    text = str(value)
    if python_format is None:
        moment = parse_stored(text)
        if moment is None:
            raise SuiteQLFunctionError(f"Invalid date value: {text}")
        return moment.strftime(STORED)
    try:
        return dt.datetime.strptime(text, python_format).strftime(STORED)
    except ValueError:
        raise SuiteQLFunctionError(f"Date value '{text}' does not match the format") from None


def add_months(value: Any, months: Any) -> str | None:
    moment = parse_stored(value)
    if moment is None or months is None:
        return None
    total = moment.month - 1 + int(months)
    year, month = moment.year + total // 12, total % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    # Oracle: the last day of a month maps to the last day of the target month.
    day = (
        last_day
        if moment.day == calendar.monthrange(moment.year, moment.month)[1]
        else min(moment.day, last_day)
    )
    return moment.replace(year=year, month=month, day=day).strftime(STORED)


def trunc(value: Any, fmt: str | None = None) -> Any:
    moment = parse_stored(value)
    if moment is None:
        return int(float(value)) if value is not None else None
    return moment.replace(hour=0, minute=0, second=0).strftime(STORED)


def register(connection: sqlite3.Connection, account: Any) -> None:
    """Install the functions on one connection; `account` supplies the clock and zone."""

    def sys_extract_utc(value: Any) -> str | None:
        moment = parse_stored(value)
        if moment is None:
            return None
        return moment.replace(tzinfo=account.zone).astimezone(dt.UTC).strftime(STORED)

    def sysdate() -> str:
        return account.clock.now_local().strftime(STORED)

    connection.create_function("ns_to_char", 1, to_char, deterministic=True)
    connection.create_function("ns_to_char", 2, to_char, deterministic=True)
    connection.create_function("ns_strptime", 1, strptime_to_stored, deterministic=True)
    connection.create_function("ns_strptime", 2, strptime_to_stored, deterministic=True)
    connection.create_function("ns_add_months", 2, add_months, deterministic=True)
    connection.create_function("ns_trunc", 1, trunc, deterministic=True)
    connection.create_function("ns_trunc", 2, trunc, deterministic=True)
    connection.create_function("ns_sys_extract_utc", 1, sys_extract_utc, deterministic=True)
    connection.create_function("ns_sysdate", 0, sysdate)
