"""The sandbox fixture: one JSON object describing one NetSuite account (format documented in README.md).

Loading validates the shape up front so a broken fixture fails with a message that names the record and
the field, before the server starts.
"""

from __future__ import annotations

import datetime as dt
import json
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
DATE_FORMATS = ("M/D/YYYY", "D/M/YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "DD.MM.YYYY", "D.M.YYYY")


class FixtureError(ValueError):
    """A fixture that cannot be served; the message names the record and the field to fix."""


@dataclass
class Fixture:
    account_id: str
    timezone: str = "America/Los_Angeles"
    date_format: str = "M/D/YYYY"
    concurrency_limit: int = 5
    admin_token: str = "sandbox-admin"
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
    fixture = Fixture(
        account_id=str(raw["account_id"]),
        timezone=raw.get("timezone", "America/Los_Angeles"),
        date_format=raw.get("date_format", "M/D/YYYY"),
        concurrency_limit=int(raw.get("concurrency_limit", 5)),
        admin_token=str(raw.get("admin_token", "sandbox-admin")),
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


def validate_record(kind: str, record: Any, *, where: str) -> None:
    if not isinstance(record, dict):
        raise FixtureError(f"{where} must be a JSON object.")
    missing = [name for name in REQUIRED_FIELDS[kind] if record.get(name) in (None, "")]
    if missing:
        raise FixtureError(f"{where} is missing {', '.join(repr(m) for m in missing)}.")
    for key in ("id", "entity", "subsidiary", "parent"):
        value = record.get(key)
        if value is not None and key in record and kind != "custom_fields" and not _is_int(value):
            raise FixtureError(f"{where}.{key} must be a NetSuite internal id (an integer), got {value!r}.")


def _is_int(value: Any) -> bool:
    try:
        int(str(value))
    except ValueError:
        return False
    return True


def to_local_timestamp(value: Any, zone: ZoneInfo, *, where: str) -> str | None:
    """An ISO date or datetime (in the account's zone, or with an offset) as 'YYYY-MM-DD HH:MM:SS' local."""
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FixtureError(f"{where}: {value!r} is not an ISO date or datetime.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone).replace(tzinfo=None)
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def to_flag(value: Any) -> str:
    """NetSuite's 'T'/'F' for any JSON truthy spelling."""
    if isinstance(value, str):
        return "T" if value.strip().upper() in ("T", "TRUE", "Y", "YES", "1") else "F"
    return "T" if value else "F"
