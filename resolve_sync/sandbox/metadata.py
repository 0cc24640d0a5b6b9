"""The REST record metadata catalog for `customer` (JSON Schema), as NetSuite personalises it per role."""

from __future__ import annotations

from typing import Any

from resolve_sync.sandbox.account import SandboxAccount

JSON_TYPES = {"bool": "boolean", "number": "number", "id": "object", "text": "string"}

# Standard customer fields as the REST record API names them (camelCase, unlike SuiteQL).
STANDARD_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "title": "Internal ID"},
    "entityId": {"type": "string", "title": "Customer ID"},
    "companyName": {"type": "string", "title": "Company Name"},
    "email": {"type": "string", "title": "Email", "format": "email"},
    "phone": {"type": "string", "title": "Phone"},
    "isInactive": {"type": "boolean", "title": "Inactive"},
    "isPerson": {"type": "boolean", "title": "Type"},
    "parent": {
        "type": "object",
        "title": "Child Of",
        "$ref": "/services/rest/record/v1/metadata-catalog/customer",
    },
    "subsidiary": {"type": "object", "title": "Primary Subsidiary"},
    "dateCreated": {"type": "string", "title": "Date Created", "format": "date-time"},
    "lastModifiedDate": {"type": "string", "title": "Last Modified Date", "format": "date-time"},
}


def customer_schema(account: SandboxAccount) -> dict[str, Any]:
    properties = dict(STANDARD_PROPERTIES)
    if not account.fixture.oneworld:
        properties.pop("subsidiary")
    for field in account.fixture.records["custom_fields"]:
        scriptid = str(field["scriptid"]).lower()
        applies = [str(a).lower() for a in field.get("applies_to", ["customer"])]
        if not scriptid.startswith("custentity") or "customer" not in applies:
            continue
        kind = str(field["type"]).lower()
        schema: dict[str, Any] = {"title": field.get("label") or scriptid, "x-ns-custom-field": True}
        if kind == "checkbox":
            schema["type"] = "boolean"
        elif kind in ("date", "datetime"):
            schema |= {"type": "string", "format": "date" if kind == "date" else "date-time"}
        elif kind in ("integer",):
            schema["type"] = "integer"
        elif kind in ("decimal", "currency", "percent"):
            schema["type"] = "number"
        elif kind == "select":
            schema["type"] = "object"
        else:
            schema["type"] = "string"
        properties[scriptid] = schema
    return {
        "type": "object",
        "properties": properties,
        "$schema": "https://json-schema.org/draft-06/schema#",
        "title": "customer",
        "x-ns-filterable": sorted(properties),
    }
