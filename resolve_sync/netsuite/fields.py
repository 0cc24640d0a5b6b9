"""Is a filter field id usable (SPEC R11)? It must exist, be a checkbox, and apply to customer records.

Three sources, most specific first: the `customfield` table, the REST metadata catalog, and a probe
query as the last word (a field the role cannot see answers "Unknown identifier" there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolve_sync.netsuite.errors import NetSuitePermissionError, NetSuiteQueryError
from resolve_sync.netsuite.queries import (
    InvalidQueryParameter,
    checked_field_id,
    custom_field_lookup,
    field_probe,
)
from resolve_sync.netsuite.responses import UNKEYED

if TYPE_CHECKING:
    from resolve_sync.netsuite.client import NetSuiteClient

CHECKBOX_TYPES = {"check box", "checkbox"}


@dataclass(frozen=True)
class FieldCheck:
    field_id: str
    valid: bool
    reason: str = ""


def check_filter_field(client: NetSuiteClient, field_id: str) -> FieldCheck:
    try:
        checked_field_id(field_id)
    except InvalidQueryParameter as error:
        return FieldCheck(field_id, False, str(error))
    try:
        rows = client.suiteql_all(custom_field_lookup(field_id), shape=UNKEYED)
    except (NetSuiteQueryError, NetSuitePermissionError):
        rows = None  # customfield not readable by this role: fall back to the catalog
    if rows is not None:
        if not rows:
            return FieldCheck(field_id, False, f"no custom field '{field_id}' exists in NetSuite")
        kind = rows[0].get("fieldvaluetype", "")
        if kind.lower() not in CHECKBOX_TYPES:
            return FieldCheck(
                field_id, False, f"'{field_id}' is a {kind or 'non-checkbox'} field, not a checkbox"
            )
        if rows[0].get("appliestocustomer") != "T":
            return FieldCheck(field_id, False, f"'{field_id}' does not apply to customer records")
    else:
        try:
            properties = client.customer_schema().get("properties", {})
        except (NetSuiteQueryError, NetSuitePermissionError):
            properties = None
        if properties is not None:
            if field_id not in properties:
                return FieldCheck(
                    field_id,
                    False,
                    f"'{field_id}' does not exist on customer records (not in the metadata catalog)",
                )
            if properties[field_id].get("type") != "boolean":
                return FieldCheck(
                    field_id,
                    False,
                    f"'{field_id}' is not a checkbox (type "
                    f"{properties[field_id].get('type')!r} in the metadata catalog)",
                )
    try:
        client.suiteql(field_probe(field_id), limit=1)
    except NetSuiteQueryError as error:
        return FieldCheck(field_id, False, f"NetSuite cannot read '{field_id}' on customers ({error.detail})")
    return FieldCheck(field_id, True)
