"""What a run of one connection covers: the invoice window (R1), the subsidiary (R2), the filter field
(R9, R10, R11) and whether the run reads everything or only what changed (R10, R17).

The decisions are pure functions; `resolve_subsidiary` and `validate_filter_field` only fetch what the
decision needs from NetSuite and call them (importing the NetSuite client's modules then: `explain` uses the
rules here and never talks to NetSuite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from resolve_sync.kinds import RunMode
from resolve_sync.sync.errors import FilterFieldInvalid, SubsidiaryRequired
from resolve_sync.sync.records import CustomerFacts

if TYPE_CHECKING:
    from resolve_sync.netsuite.client import NetSuiteClient
    from resolve_sync.store.connection_records import Connection

INVOICE_LOOKBACK_MONTHS = 12


# -- R1 -----------------------------------------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """Calendar arithmetic that clamps to the month's last day (31 March − 1 month = 28/29 February)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for candidate_day in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def invoice_window_start(as_of: dt.date) -> dt.date:
    """R1: invoices dated 'within the last 12 months of the run's logical date' start here."""
    return months_before(as_of, INVOICE_LOOKBACK_MONTHS)


# -- R2 -----------------------------------------------------------------------------------------------------


def choose_subsidiary(subsidiaries: Sequence[Mapping[str, str]], connection: Connection) -> int | None:
    """R2: several active, non-elimination subsidiaries and none chosen is an error that lists them; a chosen
    one must be among them; one subsidiary, or none (no OneWorld), needs no choice."""
    choices = ", ".join(f"{s['id']} ({s.get('name', '')})" for s in subsidiaries)
    merchant, account = connection.merchant_id, connection.netsuite_account_id
    if connection.subsidiary_id is None:
        if len(subsidiaries) > 1:
            raise SubsidiaryRequired(
                f"Merchant {merchant!r}: NetSuite account {account} has {len(subsidiaries)} subsidiaries; "
                f"choose one with `resolve-sync connections set-subsidiary {merchant} ID`. "
                f"Choices: {choices}.",
                merchant_id=merchant,
            )
        return int(subsidiaries[0]["id"]) if subsidiaries else None
    if str(connection.subsidiary_id) not in {str(s["id"]) for s in subsidiaries}:
        raise SubsidiaryRequired(
            f"Merchant {merchant!r}: subsidiary {connection.subsidiary_id} is not an active, non-elimination "
            f"subsidiary of NetSuite account {account}. Choices: {choices}.",
            merchant_id=merchant,
        )
    return connection.subsidiary_id


def resolve_subsidiary(client: NetSuiteClient, connection: Connection) -> int | None:
    from resolve_sync.netsuite.errors import NetSuiteQueryError
    from resolve_sync.netsuite.queries import ACTIVE_SUBSIDIARIES

    try:
        subsidiaries = client.suiteql_all(ACTIVE_SUBSIDIARIES)
    except NetSuiteQueryError as error:
        if connection.subsidiary_id is None and error.detail and "subsidiary" in error.detail.lower():
            return None  # no OneWorld: there is no subsidiary table
        raise
    return choose_subsidiary(subsidiaries, connection)


# -- R9 ----------------------------------------------------------------------------------------------------


def is_in_filter(customer: CustomerFacts) -> bool:
    """R9: with a filter field, only customers whose box is checked; without one, all."""
    return customer.filter_checked is None or customer.filter_checked


def is_synced(customer: CustomerFacts) -> bool:
    """R1 + R9: returned by the subsidiary's scan and passing the filter."""
    return customer.in_scope and is_in_filter(customer)


# -- R10, R17 ----------------------------------------------------------------------------------------------


def run_mode(
    *,
    full_refresh: bool,
    cursor_filter_ids: Mapping[str, str | None],
    filter_field_id: str | None,
    staged_filter_ids: Iterable[str | None] = (),
) -> RunMode:
    """R10 + R17: incremental unless asked for a full refresh, never synced (a stream has no cursor), or the
    filter field was set, changed or cleared since the cursors were written — then the whole connection is
    re-evaluated. Re-evaluation never deletes: what leaves the scope is kept as it is (see `plan`).

    `staged_filter_ids` are the filter fields of runs since the last success that read NetSuite: a run that
    staged customers under another filter (then was blocked or failed) left their box values stale, so only
    a full read makes staging whole again (R15)."""
    if full_refresh or set(cursor_filter_ids) != {"customers", "invoices"}:
        return RunMode.FULL
    seen = {*cursor_filter_ids.values(), *staged_filter_ids}
    if any(field != filter_field_id for field in seen):
        return RunMode.FULL
    return RunMode.INCREMENTAL


def filter_changes(
    previous: Mapping[str, list],
    current: Mapping[str, str | None],
    synced_under: Mapping[str, str | None] | None = None,
) -> tuple[list[str], dict[str, list]]:
    """R10's trigger: connections whose filter field differs from the last one seen, and the next cursor.

    The cursor keeps a change counter per connection, so a run key of `<key>:filter:<n>` is new for every
    change and A → B → A re-runs (Dagster never repeats a sensor run key). A connection seen for the first
    time (just enabled, say) counts as changed when its filter field differs from the one it was last
    synced under (`synced_under`, for connections synced before): enabled and given another filter between
    two ticks, it would otherwise wait for the nightly run."""
    changed, cursor = [], {}
    synced_under = synced_under or {}
    for key, field_id in current.items():
        seen = previous.get(key)
        if seen is None:
            cursor[key] = [field_id, 0]
            if key in synced_under and synced_under[key] != field_id:
                changed.append(key)
        elif seen[0] != field_id:
            cursor[key] = [field_id, seen[1] + 1]
            changed.append(key)
        else:
            cursor[key] = list(seen)
    return sorted(changed), cursor


# -- R11 ---------------------------------------------------------------------------------------------------


def validate_filter_field(client: NetSuiteClient, connection: Connection) -> None:
    """R11: a set filter field must exist, be a checkbox and apply to customers; else nothing is written."""
    if not connection.filter_field_id:
        return
    from resolve_sync.netsuite.fields import check_filter_field

    check = check_filter_field(client, connection.filter_field_id)
    if not check.valid:
        raise FilterFieldInvalid(
            connection.merchant_id,
            connection.filter_field_id,
            check.reason,
            subsidiary_option=subsidiary_option(connection),
        )


def subsidiary_option(connection: Connection) -> str:
    """The `--subsidiary N` a fix command needs to pick this connection among the merchant's others."""
    return f" --subsidiary {connection.subsidiary_id}" if connection.subsidiary_id is not None else ""
