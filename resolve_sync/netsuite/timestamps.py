"""NetSuite timestamps are local to the account's time zone; the store keeps UTC.

SuiteQL renders datetimes date-only unless wrapped in TO_CHAR, so every timestamp is read through
TO_CHAR in this one format and converted here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SUITEQL_FORMAT = "YYYY-MM-DD HH24:MI:SS"
PYTHON_FORMAT = "%Y-%m-%d %H:%M:%S"


def local_to_utc(text: str, timezone: str) -> dt.datetime:
    """An account-local 'YYYY-MM-DD HH:MM:SS' as aware UTC (ambiguous fall-back times take the earlier)."""
    naive = dt.datetime.strptime(text[:19], PYTHON_FORMAT)
    return naive.replace(tzinfo=ZoneInfo(timezone), fold=0).astimezone(dt.UTC)


def utc_to_local(moment: dt.datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime(PYTHON_FORMAT)


def to_timestamp_literal(local: str) -> str:
    """A SuiteQL literal for an account-local timestamp produced by `utc_to_local` (never user input)."""
    dt.datetime.strptime(local, PYTHON_FORMAT)  # refuses anything but the fixed shape
    return f"TO_TIMESTAMP('{local}', '{SUITEQL_FORMAT}')"


def to_date_literal(day: dt.date) -> str:
    return f"TO_DATE('{day.isoformat()}', 'YYYY-MM-DD')"
