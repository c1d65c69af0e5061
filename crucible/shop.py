"""The retail platform in business terms: stores, stock, customers and their orders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from hamcrest import assert_that, equal_to

from crucible.http import HttpClient


def slug(text: str) -> str:
    """A lowercase, dash-separated form of a display name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Names:
    """Per-scenario unique ids for the people, stores and products a feature names."""

    uid: str

    def store(self, name: str) -> str:
        """The unique store id behind a store's display name."""
        return f"{slug(name)}-{self.uid}"

    def sku(self, product: str) -> str:
        """The unique SKU behind a product's display name."""
        return f"{slug(product)}-{self.uid}"

    def customer(self, person: str) -> str:
        """The unique customer id behind a person's name."""
        return f"{slug(person)}-{self.uid}"


@dataclass
class Order:
    """An order as the platform reported it."""

    person: str
    http_status: int
    body: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The order's state (confirmed, rejected ...) or 'unknown'."""
        return str(self.body.get("status", "unknown"))

    @property
    def reason(self) -> str:
        """Why the order was rejected, or the platform's error message."""
        return str(self.body.get("reason") or self.body.get("error") or "no reason given")


class Shop:
    """Business operations on the platform, each one or two HTTP calls."""

    def __init__(self, http: Callable[[str], HttpClient], names: Names):
        self.http = http
        self.names = names
        self.orders: dict[str, Order] = {}

    def set_stock(self, store: str, product: str, quantity: int) -> None:
        """Set a store's stock of a product."""
        response = self.http("inventory").put(
            f"/stock/{self.names.store(store)}/{self.names.sku(product)}", json={"quantity": quantity})
        assert_that(response.status_code, equal_to(200),
                    f"could not put {quantity} '{product}' in stock at the '{store}' store: "
                    f"inventory answered {response.status_code} {response.text[:200]}")

    def stock(self, store: str, product: str) -> int:
        """How many of a product a store has."""
        response = self.http("inventory").get(f"/stock/{self.names.store(store)}/{self.names.sku(product)}")
        assert_that(response.status_code, equal_to(200),
                    f"could not read the '{store}' store's stock of '{product}': "
                    f"inventory answered {response.status_code} {response.text[:200]}")
        return int(response.json()["quantity"])

    def place_order(self, person: str, store: str, items: list[tuple[str, int]]) -> Order:
        """A person orders items from a store; the order is remembered under the person's name."""
        body = {
            "customer": self.names.customer(person),
            "store": self.names.store(store),
            "items": [{"sku": self.names.sku(product), "quantity": qty} for product, qty in items],
        }
        response = self.http("orders").post("/orders", json=body)
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": response.text[:200]}
        order = Order(person, response.status_code, payload if isinstance(payload, dict) else {})
        self.orders[person] = order
        return order

    def last_order(self) -> Order:
        """The order placed most recently in this scenario."""
        assert self.orders, "no order was placed in this scenario"
        return list(self.orders.values())[-1]


def expect_confirmed(order: Order) -> None:
    """Fail in business words unless the order was confirmed."""
    assert order.status == "confirmed", (
        f"expected {order.person}'s order to be confirmed, but it was {order.status}: {order.reason} "
        f"(HTTP {order.http_status})")


def expect_rejected(order: Order, reason: str) -> None:
    """Fail in business words unless the order was rejected for the given reason."""
    assert order.status == "rejected", (
        f"expected {order.person}'s order to be rejected because \"{reason}\", "
        f"but it was {order.status} (HTTP {order.http_status})")
    assert order.reason == reason, (
        f"expected {order.person}'s order to be rejected because \"{reason}\", "
        f"but it was rejected because \"{order.reason}\"")


def expect_stock(actual: int, expected: int, store: str, product: str) -> None:
    """Fail in business words unless a store has the expected stock."""
    assert actual == expected, (
        f"expected the '{store}' store to have {expected} '{product}' left, but it has {actual}")
