"""Contracts every service of the reference stack keeps, checked against the real running stack.

The behaviours (checkout, fraud, returns, stock, events) are the features' job; this module checks
what holds across services: OpenAPI documents that validate, readiness, JSON errors for bad input
and bad tokens (never a 500, never HTML), and that the whole stack starts and is removed again.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
import requests
from openapi_spec_validator import validate

from crucible.vocabulary import auth
from retail import cards

APIS = ("orders", "inventory", "payments", "fraud")
# One write endpoint per service that takes a JSON body (from docker/README.md).
WRITES = {"orders": "/orders", "inventory": "/transfers", "payments": "/payments", "fraud": "/screenings"}
BAD_BODIES = ["{not json", "[]", '"text"', '{"quantity": "five"}', "{}", '{"items": [{"sku": null}]}']


@pytest.fixture(scope="module")
def reference(reference_stack):
    return reference_stack


def token(reference, role: str) -> dict[str, str]:
    key = reference.project.services["orders"].environment["JWT_SECRET"]
    return {"Authorization": f"Bearer {auth.mint(f'{role}-contract', role, key)}"}


@pytest.mark.parametrize("service", APIS)
def test_each_service_serves_a_valid_openapi_3_document(reference, service):
    response = requests.get(f"{reference.url(service)}/openapi.json", timeout=5)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)
    assert WRITES[service] in document["paths"]


@pytest.mark.parametrize("service", APIS)
def test_readiness_reports_database_and_broker(reference, service):
    body = requests.get(f"{reference.url(service)}/health/ready", timeout=5).json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert any(name.startswith("broker") and state == "ok" for name, state in body["checks"].items())


@pytest.mark.parametrize("service", APIS)
def test_requests_without_a_valid_token_get_401_json(reference, service):
    url = f"{reference.url(service)}{WRITES[service]}"
    for headers in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": f"Bearer {auth.mint('x', 'staff', 'a-wrong-secret-that-is-long-enough-0000')}"}):
        response = requests.post(url, json={}, headers=headers, timeout=5)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]


@pytest.mark.parametrize("service", APIS)
def test_bad_input_gets_a_4xx_json_error_never_a_500(reference, service):
    url = f"{reference.url(service)}{WRITES[service]}"
    headers = {**token(reference, "admin"), "Content-Type": "application/json", "Idempotency-Key": "contract"}
    for body in BAD_BODIES:
        response = requests.post(url, data=body, headers=headers, timeout=5)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), response.text
        assert isinstance(response.json()["error"], str)
    unknown = requests.get(f"{reference.url(service)}/no/such/route", headers=headers, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["error"]


def test_a_customer_is_refused_staff_operations(reference):
    customer = token(reference, "customer")
    inventory = reference.url("inventory")
    restock = requests.post(f"{inventory}/stock/north/mug/restock", json={"quantity": 1}, headers=customer, timeout=5)
    transfer = requests.post(f"{inventory}/transfers", json={"from": "a", "to": "b", "sku": "mug", "quantity": 1},
                             headers=customer, timeout=5)
    block = requests.post(f"{reference.url('fraud')}/blocklist", json={"bin": "400000"}, headers=customer, timeout=5)
    assert [restock.status_code, transfer.status_code, block.status_code] == [403, 403, 403]


def test_the_request_id_is_echoed_or_created(reference):
    url = f"{reference.url('orders')}/health/live"
    assert requests.get(url, headers={"X-Request-ID": "contract-42"}, timeout=5).headers["X-Request-ID"] == "contract-42"
    assert len(requests.get(url, timeout=5).headers["X-Request-ID"]) >= 32


@pytest.mark.parametrize("store", ["berlin/mitte", "50%off", "a%2Fb", "süd west"])
def test_an_id_with_a_slash_or_a_percent_sign_stays_one_path_segment(reference, store):
    staff = token(reference, "staff")
    stock = f"{reference.url('inventory')}/stock/{quote(store, safe='')}-{uuid.uuid4().hex[:6]}/mug%2F1"

    written = requests.put(stock, json={"quantity": 4}, headers=staff, timeout=5)
    read = requests.get(stock, headers=staff, timeout=5)

    assert written.status_code == read.status_code == 200, (written.text, read.text)
    assert read.json()["store"].startswith(f"{store}-") and read.json()["sku"] == "mug/1"
    assert requests.get(f"{reference.url('inventory')}/stock/a/b/c", headers=staff, timeout=5).status_code == 404


def test_a_return_the_receiving_store_cannot_take_is_refused_for_good_and_never_refunded(reference):
    """Restock first: a store that refuses the items (4xx) refuses the return (409, not a retryable 503), no refund."""
    staff, unique = token(reference, "staff"), uuid.uuid4().hex[:8]
    store, full, sku = f"north-{unique}", f"full/{unique}", f"mug-{unique}"
    inventory, orders = reference.url("inventory"), reference.url("orders")
    for where, quantity in ((store, 1), (full, 1_000_000_000)):  # the full store is at inventory's largest level
        stocked = requests.put(f"{inventory}/stock/{quote(where, safe='')}/{sku}", json={"quantity": quantity},
                               headers=staff, timeout=5)
        assert stocked.status_code == 200, stocked.text
    order = requests.post(f"{orders}/orders", headers=staff, timeout=30, json={
        "customer": f"alice-{unique}", "store": store, "card": {"number": cards.card_number()},
        "items": [{"sku": sku, "quantity": 1, "unit_price_cents": 1250}]}).json()
    assert order["status"] == "confirmed", order

    answers = [requests.post(f"{orders}/orders/{order['id']}/returns", json={"store": full, "items": [
        {"sku": sku, "quantity": 1}]}, headers={**staff, "Idempotency-Key": f"r-{unique}"}, timeout=30)
        for _ in range(2)]

    assert [answer.status_code for answer in answers] == [409, 409], [answer.text for answer in answers]
    assert [answer.json()["reason"] for answer in answers] == ["restock refused", "return refused"]
    payments = requests.get(f"{reference.url('payments')}/payments", params={"order_id": order["id"]},
                            headers=staff, timeout=5).json()["payments"]
    assert [(p["refunded_cents"], p["captured_cents"]) for p in payments] == [(0, 1250)]
