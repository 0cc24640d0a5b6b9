"""The sandbox fixture: one JSON object describing one NetSuite account (format documented in README.md).

Loading validates the shape up front so a broken fixture fails with a message that names the record and
the field, before the server starts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RECORD_LISTS = (
    "subsidiaries",
    "custom_fields",
    "customers",
    "customer_subsidiaries",
    "invoices",
    "accounts",
)
REQUIRED_FIELDS = {
    "subsidiaries": ("id", "name"),
    "custom_fields": ("scriptid", "type"),
    "customers": ("id", "entityid"),
    "customer_subsidiaries": ("entity", "subsidiary"),
    "invoices": ("id", "tranid", "trandate", "entity", "foreigntotal"),
    "accounts": ("id", "acctnumber", "accttype"),
}
ADMIN_TOKEN_MIN_LENGTH = 16
ADMIN_TOKEN_MAX_LENGTH = 256
# NetSuite internal ids are 32-bit integers ([U] negative ones exist for system records, e.g. -5).
MAX_INTERNAL_ID = 2**31 - 1
# Any finite number: real NetSuite caps currency amounts far lower [U], but the sandbox must be able to serve
# the values the sync's per-record guard refuses (1e308 needs more digits than any money column has).
MAX_AMOUNT = sys.float_info.max
FIRST_YEAR, LAST_YEAR = 1900, 9998  # datetimes outside this range cannot be shifted between zones safely
DATE_FORMATS = ("M/D/YYYY", "D/M/YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "DD.MM.YYYY", "D.M.YYYY")


class FixtureError(ValueError):
    """A fixture that cannot be served; the message names the record and the field to fix."""


@dataclass
class Fixture:
    account_id: str
    admin_token: str  # no default: a well-known token would open the admin API to anyone
    timezone: str = "America/Los_Angeles"
    date_format: str = "M/D/YYYY"
    concurrency_limit: int = 5
    oneworld: bool = True
    credentials: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"tba": [], "oauth2_m2m": []}
    )
    denied_tables: list[str] = field(default_factory=list)
    latency: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    oauth2_token_ttl_seconds: int = 3600

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_fixture(path: str | Path) -> Fixture:
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FixtureError(f"Fixture {path} does not exist.") from None
    except json.JSONDecodeError as exc:
        raise FixtureError(f"Fixture {path} is not valid JSON: {exc}") from None
    return parse_fixture(raw)


def parse_fixture(raw: Any) -> Fixture:
    if not isinstance(raw, dict):
        raise FixtureError("A fixture is one JSON object describing one NetSuite account.")
    if not raw.get("account_id"):
        raise FixtureError("The fixture is missing 'account_id' (e.g. \"1234567_SB1\").")
    admin_token = check_admin_token(raw.get("admin_token"))
    try:
        fixture = Fixture(
            account_id=str(raw["account_id"]),
            admin_token=admin_token,
            timezone=str(raw.get("timezone", "America/Los_Angeles")),
            date_format=str(raw.get("date_format", "M/D/YYYY")),
            concurrency_limit=int(raw.get("concurrency_limit", 5)),
            oneworld=bool(raw.get("oneworld", True)),
            credentials={
                "tba": list((raw.get("credentials") or {}).get("tba", [])),
                "oauth2_m2m": list((raw.get("credentials") or {}).get("oauth2_m2m", [])),
            },
            denied_tables=[str(t).lower() for t in raw.get("denied_tables", [])],
            latency=dict(raw.get("latency") or {}),
            faults=dict(raw.get("faults") or {}),
            oauth2_token_ttl_seconds=int(raw.get("oauth2_token_ttl_seconds", 3600)),
            records={name: list(raw.get(name) or []) for name in RECORD_LISTS},
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise FixtureError(f"The fixture's account settings are malformed: {exc}") from None
    _check_settings(fixture)
    try:
        fixture.zone  # noqa: B018 - validates the IANA name
    except (ZoneInfoNotFoundError, ValueError):
        raise FixtureError(f"Fixture timezone {fixture.timezone!r} is not an IANA time zone name.") from None
    if fixture.date_format not in DATE_FORMATS:
        raise FixtureError(
            f"Fixture date_format {fixture.date_format!r} is not one of {', '.join(DATE_FORMATS)}."
        )
    if fixture.concurrency_limit < 1:
        raise FixtureError("Fixture concurrency_limit must be at least 1.")
    for name in RECORD_LISTS:
        for index, record in enumerate(fixture.records[name]):
            validate_record(name, record, where=f"{name}[{index}]")
    return fixture


def check_admin_token(token: Any) -> str:
    """The admin API's token: required, of a length nobody guesses, and sendable as an HTTP header."""
    fix = (
        f"Set 'admin_token' to a random string of at least {ADMIN_TOKEN_MIN_LENGTH} characters, "
        "e.g. the output of: python -c 'import secrets; print(secrets.token_hex(16))'."
    )
    if token is None:
        raise FixtureError(f"The fixture has no 'admin_token' (it guards /_sandbox/). {fix}")
    if not isinstance(token, str):
        raise FixtureError(f"The fixture's 'admin_token' must be a string. {fix}")
    if len(token) < ADMIN_TOKEN_MIN_LENGTH:
        raise FixtureError(
            f"The fixture's 'admin_token' is {len(token)} characters, under {ADMIN_TOKEN_MIN_LENGTH}. {fix}"
        )
    if len(token) > ADMIN_TOKEN_MAX_LENGTH or not (token.isascii() and token.isprintable()):
        raise FixtureError(
            f"The fixture's 'admin_token' must be at most {ADMIN_TOKEN_MAX_LENGTH} printable ASCII "
            f"characters (it is sent as an HTTP header). {fix}"
        )
    return token


def _check_settings(fixture: Fixture) -> None:
    from resolve_sync.sandbox.checks import PayloadError
    from resolve_sync.sandbox.faults import FaultPlan, Latency

    try:
        Latency.from_config(fixture.latency, "latency")
        FaultPlan.from_config(fixture.faults, "faults")
    except PayloadError as error:
        raise FixtureError(f"Fixture {error}") from None


# Fields the sandbox stores as given; each must be a JSON scalar (a nested value cannot be a column).
_ID_FIELDS = ("id", "entity", "subsidiary", "parent", "terms")
_SCALAR_FIELDS = (
    "name", "fullname", "legalname", "entityid", "companyname", "altname", "email", "phone", "tranid",
    "status", "memo", "label", "scriptid", "type", "acctnumber", "accttype", "accountsearchdisplayname",
    "description", "currency", "isinactive", "iselimination", "isperson", "isprimarysub",
)  # fmt: skip
_NUMBER_FIELDS = ("foreigntotal", "foreignamountunpaid", "exchangerate")
_TIMESTAMP_FIELDS = ("trandate", "duedate", "datecreated", "createddate", "lastmodifieddate")
_MAX_TEXT = 100_000
_ID_TEXT = re.compile(r"-?[0-9]{1,10}")


def validate_record(kind: str, record: Any, *, where: str) -> None:
    """Shape and types of one record, strict enough that storing it cannot fail halfway."""
    if not isinstance(record, dict):
        raise FixtureError(f"{where} must be a JSON object.")
    missing = [name for name in REQUIRED_FIELDS[kind] if record.get(name) in (None, "")]
    if missing:
        raise FixtureError(f"{where} is missing {', '.join(repr(m) for m in missing)}.")
    id_fields = ("id",) if kind == "custom_fields" else _ID_FIELDS
    for key in id_fields:
        value = record.get(key)
        if value is not None and value != "" and not _is_internal_id(value):
            raise FixtureError(
                f"{where}.{key} must be a NetSuite internal id (an integer up to {MAX_INTERNAL_ID}), "
                f"got {_shown(value)}."
            )
    for key in _SCALAR_FIELDS:
        value = record.get(key)
        if isinstance(value, dict | list) or (isinstance(value, str) and len(value) > _MAX_TEXT):
            raise FixtureError(f"{where}.{key} must be a string or number, got {_shown(value)}.")
        if isinstance(value, int | float) and not isinstance(value, bool) and not _finite(value):
            raise FixtureError(f"{where}.{key} must be a finite number, got {_shown(value)}.")
    for key in _NUMBER_FIELDS:
        value = record.get(key)
        if value not in (None, "") and not _is_amount(value):
            raise FixtureError(
                f"{where}.{key} must be a number between -{MAX_AMOUNT:g} and {MAX_AMOUNT:g}, got {_shown(value)}."
            )
    for key in _TIMESTAMP_FIELDS:
        if key in record:
            to_local_timestamp(record[key], dt.UTC, where=f"{where}.{key}")
    custom = record.get("custom")
    if custom is not None:
        if not isinstance(custom, dict):
            raise FixtureError(
                f"{where}.custom must be an object of field id to value, got {_shown(custom)}."
            )
        for field_id, value in custom.items():
            if isinstance(value, dict | list) or (isinstance(value, str) and len(value) > _MAX_TEXT):
                raise FixtureError(f"{where}.custom.{field_id} must be a string, number or boolean.")
            if isinstance(value, float) and not _finite(value):
                raise FixtureError(f"{where}.custom.{field_id} must be a finite number.")
    for key in ("subsidiaries", "applies_to"):
        value = record.get(key)
        if value is not None and (
            not isinstance(value, list)
            or not all(isinstance(item, str | int) and not isinstance(item, bool) for item in value)
        ):
            raise FixtureError(f"{where}.{key} must be a list of ids or names, got {_shown(value)}.")
    for item in record.get("subsidiaries") or []:
        if not _is_internal_id(item):
            raise FixtureError(f"{where}.subsidiaries: {_shown(item)} is not a NetSuite internal id.")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite(value: float) -> bool:
    """Storable in SQLite: a 64-bit integer, or a float that is not NaN or infinite."""
    return -(2**63) <= value < 2**63 if isinstance(value, int) else math.isfinite(value)


def _is_internal_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not _ID_TEXT.fullmatch(value.strip()):
            return False
        value = int(value)
    return isinstance(value, int) and -MAX_INTERNAL_ID <= value <= MAX_INTERNAL_ID


def _is_amount(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    if isinstance(value, str) and len(value) > 40:
        return False
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return False
    return -MAX_AMOUNT <= number <= MAX_AMOUNT  # False for NaN too


def to_local_timestamp(value: Any, zone: ZoneInfo, *, where: str) -> str | None:
    """An ISO date or datetime (in the account's zone, or with an offset) as 'YYYY-MM-DD HH:MM:SS' local."""
    if value in (None, ""):
        return None
    if not isinstance(value, str | dt.date) or (isinstance(value, str) and len(value) > 64):
        raise FixtureError(f"{where}: {_shown(value)} is not an ISO date or datetime.")
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise ValueError("year out of range")
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(zone).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise FixtureError(
            f"{where}: {_shown(value)} is not an ISO date or datetime between {FIRST_YEAR} and {LAST_YEAR}."
        ) from None
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def to_flag(value: Any) -> str:
    """NetSuite's 'T'/'F' for any JSON truthy spelling."""
    if isinstance(value, str):
        return "T" if value.strip().upper() in ("T", "TRUE", "Y", "YES", "1") else "F"
    return "T" if value else "F"
