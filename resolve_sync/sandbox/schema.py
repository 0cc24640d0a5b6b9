"""The SuiteQL tables the sandbox serves, with their columns as SuiteQL names them.

Column kinds drive both storage (SQLite type) and rendering (NetSuite returns every value as a string,
booleans as "T"/"F", and datetime columns date-only in the user's date format unless wrapped in TO_CHAR).
Where the reference notes mark a fact as uncertain ([U]), the choice made here is noted beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "text", "bool", "number", "date", "datetime"]

SQLITE_TYPES: dict[Kind, str] = {
    "id": "INTEGER",
    "text": "TEXT",
    "bool": "TEXT",
    "number": "REAL",
    "date": "TEXT",
    "datetime": "TEXT",
}

CUSTOM_FIELD_KINDS: dict[str, Kind] = {
    "checkbox": "bool",
    "text": "text",
    "textarea": "text",
    "email": "text",
    "url": "text",
    "phone": "text",
    "date": "date",
    "datetime": "datetime",
    "integer": "number",
    "decimal": "number",
    "currency": "number",
    "percent": "number",
    "select": "id",
}

# NetSuite's labels for custom field value types as the `customfield` table shows them ([U]: seen as
# mixed-case labels such as "Date" in one integration; "Check Box" is the UI's name for a checkbox).
CUSTOM_FIELD_VALUE_TYPES = {
    "checkbox": "Check Box",
    "text": "Free-Form Text",
    "textarea": "Text Area",
    "email": "Email Address",
    "url": "Hyperlink",
    "phone": "Phone Number",
    "date": "Date",
    "datetime": "Date/Time",
    "integer": "Integer Number",
    "decimal": "Decimal Number",
    "currency": "Currency",
    "percent": "Percent",
    "select": "List/Record",
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, Kind]
    # Columns whose BUILTIN.DF display value is a lookup into another table: column -> (table, column).
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    indexes: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)


def build_tables(*, oneworld: bool, customer_custom_fields: dict[str, Kind]) -> dict[str, Table]:
    """The account's schema. Without OneWorld there is no subsidiary table and no subsidiary columns."""
    customer_columns: dict[str, Kind] = {
        "id": "id",
        "entityid": "text",
        "companyname": "text",
        "altname": "text",
        "email": "text",
        "phone": "text",
        "isperson": "bool",
        "isinactive": "bool",
        "parent": "id",
        "terms": "id",
        "currency": "id",
        "datecreated": "datetime",
        "lastmodifieddate": "datetime",
    }
    if oneworld:
        customer_columns["subsidiary"] = "id"
    customer_columns.update(customer_custom_fields)
    subsidiary_ref = {"subsidiary": ("subsidiary", "name")} if oneworld else {}
    tables = [
        Table(
            "customer",
            customer_columns,
            references={
                "parent": ("customer", "entityid"),
                "currency": ("currency", "name"),
                **subsidiary_ref,
            },
            indexes=("lastmodifieddate", "parent", "email"),
        ),
        Table(
            "transaction",
            {
                "id": "id",
                "tranid": "text",
                "type": "text",
                "trandate": "date",
                "duedate": "date",
                "entity": "id",
                "status": "text",
                "currency": "id",
                "exchangerate": "number",
                "foreigntotal": "number",
                "foreignamountunpaid": "number",
                "foreignamountpaid": "number",
                "memo": "text",
                "terms": "id",
                "createddate": "datetime",
                "lastmodifieddate": "datetime",
            },
            references={"entity": ("customer", "entityid"), "currency": ("currency", "name")},
            indexes=("lastmodifieddate", "entity", "trandate"),
        ),
        Table(
            # The sandbox stores only main lines ([U]: enough for header-level reads; item lines are not
            # part of this product). `id` is unique per transaction only, as in NetSuite; `uniquekey` is global.
            "transactionline",
            {
                "id": "id",
                "uniquekey": "id",
                "transaction": "id",
                "mainline": "bool",
                "linesequencenumber": "id",
                "entity": "id",
                "foreignamount": "number",
                "memo": "text",
                **({"subsidiary": "id"} if oneworld else {}),
            },
            references={"entity": ("customer", "entityid"), **subsidiary_ref},
            indexes=("transaction",) + (("subsidiary",) if oneworld else ()),
        ),
        Table(
            "account",
            {
                "id": "id",
                "acctnumber": "text",
                "accountsearchdisplayname": "text",
                "fullname": "text",
                "accttype": "text",
                "description": "text",
                "isinactive": "bool",
                "parent": "id",
                "currency": "id",
                # Multi-valued (a comma list) in NetSuite: filtering on it is refused; join accountsubsidiarymap.
                **({"subsidiary": "text"} if oneworld else {}),
            },
            references={"parent": ("account", "fullname"), "currency": ("currency", "name")},
        ),
        Table(
            "currency",
            {"id": "id", "name": "text", "symbol": "text", "isbasecurrency": "bool", "isinactive": "bool"},
        ),
        Table(
            "customfield",
            {
                "id": "id",
                "scriptid": "text",
                "name": "text",
                "fieldtype": "text",
                "fieldvaluetype": "text",
                "appliestocustomer": "bool",
                "appliestovendor": "bool",
                "appliestocontact": "bool",
                "isinactive": "bool",
            },
        ),
        Table(
            "deletedrecord",
            {
                "recordid": "id",
                "recordtypeid": "text",
                "type": "text",
                "name": "text",
                "deleteddate": "datetime",
                "context": "text",
                "iscustomlist": "bool",
                "iscustomrecord": "bool",
            },
            indexes=("deleteddate",),
        ),
    ]
    if oneworld:
        tables += [
            Table(
                "subsidiary",
                {
                    "id": "id",
                    "name": "text",
                    "fullname": "text",
                    "legalname": "text",
                    "parent": "id",
                    "isinactive": "bool",
                    "iselimination": "bool",
                    "currency": "id",
                },
                references={"parent": ("subsidiary", "name"), "currency": ("currency", "name")},
            ),
            Table(
                "customersubsidiaryrelationship",
                {"id": "id", "entity": "id", "subsidiary": "id", "isprimarysub": "bool"},
                references={"entity": ("customer", "entityid"), "subsidiary": ("subsidiary", "name")},
                indexes=("entity", "subsidiary"),
            ),
            Table(
                "accountsubsidiarymap",
                {"account": "id", "subsidiary": "id"},
                references={"account": ("account", "fullname"), "subsidiary": ("subsidiary", "name")},
                indexes=("subsidiary",),
            ),
        ]
    return {table.name: table for table in tables}


# Invoice status letters and their labels (BUILTIN.DF). [U] 'V' for voided is not on an Oracle page.
INVOICE_STATUS_LABELS = {
    "A": "Open",
    "B": "Paid In Full",
    "D": "Pending Approval",
    "E": "Rejected",
    "V": "Voided",
}
