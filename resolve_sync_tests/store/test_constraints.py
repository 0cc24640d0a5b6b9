"""The database itself refuses rows that would corrupt a merchant's data, whatever code writes them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from resolve_sync.store.models import (
    NetSuiteCustomerLink,
    NetSuiteInvoiceLink,
    ResolveCustomer,
    ResolveInvoice,
    utcnow,
)


def _customer(engine: Engine, customer_id: str, merchant_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(ResolveCustomer),
            {
                "id": customer_id,
                "merchant_id": merchant_id,
                "business_name": f"{customer_id} Inc",
                "archived": False,
                "source": "NETSUITE",
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
                "updated_by": "test",
            },
        )


def _customer_link(engine: Engine, merchant_id: str, netsuite_id: str, customer_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(NetSuiteCustomerLink),
            {
                "merchant_id": merchant_id,
                "netsuite_account_id": "1234567",
                "netsuite_id": netsuite_id,
                "resolve_customer_id": customer_id,
                "synced_values": {},
                "synced_at": utcnow(),
            },
        )


def _invoice(engine: Engine, invoice_id: str, merchant_id: str, customer_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(ResolveInvoice),
            {
                "id": invoice_id,
                "merchant_id": merchant_id,
                "customer_id": customer_id,
                "number": "INV-1",
                "amount_due": 100,
                "amount_balance": 100,
                "fully_paid": False,
                "voided": False,
                "advanced": False,
                "archived": False,
                "source": "NETSUITE",
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
                "updated_by": "test",
            },
        )


def test_link_cannot_point_at_another_merchants_customer(store: Engine) -> None:
    _customer(store, "cus_b1", "globex")
    with pytest.raises(IntegrityError):
        _customer_link(store, "acme", "101", "cus_b1")


def test_invoice_cannot_belong_to_another_merchants_customer(store: Engine) -> None:
    _customer(store, "cus_b1", "globex")
    with pytest.raises(IntegrityError):
        _invoice(store, "inv_a1", "acme", "cus_b1")


def test_a_netsuite_record_is_linked_once_per_merchant_and_account(store: Engine) -> None:
    _customer(store, "cus_a1", "acme")
    _customer(store, "cus_a2", "acme")
    _customer_link(store, "acme", "101", "cus_a1")
    with pytest.raises(IntegrityError):
        _customer_link(store, "acme", "101", "cus_a2")


def test_a_resolve_customer_is_linked_to_one_netsuite_customer(store: Engine) -> None:
    _customer(store, "cus_a1", "acme")
    _customer_link(store, "acme", "101", "cus_a1")
    with pytest.raises(IntegrityError):
        _customer_link(store, "acme", "102", "cus_a1")


def test_same_netsuite_id_may_exist_for_two_merchants(store: Engine) -> None:
    _customer(store, "cus_a1", "acme")
    _customer(store, "cus_b1", "globex")
    _customer_link(store, "acme", "101", "cus_a1")
    _customer_link(store, "globex", "101", "cus_b1")


def test_invoice_link_cannot_cross_merchants(store: Engine) -> None:
    _customer(store, "cus_b1", "globex")
    _invoice(store, "inv_b1", "globex", "cus_b1")
    with pytest.raises(IntegrityError), store.begin() as connection:
        connection.execute(
            insert(NetSuiteInvoiceLink),
            {
                "merchant_id": "acme",
                "netsuite_account_id": "1234567",
                "netsuite_id": "9001",
                "resolve_invoice_id": "inv_b1",
                "synced_values": {},
                "synced_at": utcnow(),
            },
        )


def test_resolve_rows_require_a_merchant(store: Engine) -> None:
    with pytest.raises(IntegrityError):
        _customer(store, "cus_x", None)  # type: ignore[arg-type]
