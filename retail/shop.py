"""The retail platform in business terms: people, stores, stock, prices, orders, returns, reviews.

Each operation is one or two HTTP calls with a token the platform accepts (signed as the
settings' [auth] say): a person orders, looks up and returns with a customer token whose subject
is their unique customer id; store operations (stock, deliveries, transfers, fraud reviews, the blocklist) and the
look-ups behind the checks (payments, fraud decisions) use a staff token. Each person pays with
a card of their own, fresh in every scenario (retail.cards). Products cost 10.00 EUR unless a
feature states a price. Results are kept as records (Order, Return, Answer) that the checks in
retail.outcomes judge; a call the platform refuses is a result too, never an exception here.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

import requests

from retail import cards
from crucible.errors import TestDataError
from crucible.vocabulary.http import HttpClient
from retail.money import Money

log = logging.getLogger(__name__)

DEFAULT_PRICE = Money(1000)
Items = list[tuple[str, int]]


def slug(text: str, keep: str = "") -> str:
    """A lowercase, dash-separated form of a display name (characters in ``keep`` stay as they are)."""
    return re.sub(rf"[^a-z0-9{re.escape(keep)}]+", "-", text.lower()).strip("-")


@dataclass
class Names:
    """Per-scenario unique ids for the people, stores and products a feature names."""

    uid: str

    def store(self, name: str) -> str:
        """The unique store id behind a store's display name ("Berlin/Mitte" keeps its slash: berlin/mitte-<id>)."""
        return f"{slug(name, keep='/')}-{self.uid}"

    def sku(self, product: str) -> str:
        """The unique SKU behind a product's display name."""
        return f"{slug(product)}-{self.uid}"

    def customer(self, person: str) -> str:
        """The unique customer id behind a person's name."""
        return f"{slug(person)}-{self.uid}"

    def staff(self) -> str:
        """The subject of the scenario's store staff member."""
        return f"staff-{self.uid}"


def _json(response: requests.Response) -> dict:
    """A response body as a JSON object (anything else becomes ``{"error": <text>}``)."""
    try:
        body = response.json()
    except ValueError:
        return {"error": response.text[:200] or f"HTTP {response.status_code} with no body"}
    return body if isinstance(body, dict) else {"error": f"unexpected answer {str(body)[:200]}"}


def reason_of(body: dict) -> str:
    """The platform's machine-readable reason in an answer, else its error message."""
    return str(body.get("reason") or body.get("error") or "no reason given")


def _succeeded(response: requests.Response, service: str, doing: str) -> dict:
    """The JSON body of a call that had to succeed; an AssertionError naming what could not be done."""
    assert response.status_code in (200, 201), (
        f"could not {doing}: the {service} service answered {response.status_code} {response.text[:300]}")
    return _json(response)


@dataclass
class Answer:
    """What the platform answered to an operation: its HTTP status and JSON body; for a request about one
    thing (an order, a payment, a customer), its id and how to ask the same about another id."""

    what: str
    http_status: int
    body: dict = field(default_factory=dict)
    asked: str = ""
    about: str = ""
    ask_about: Callable[[str], requests.Response] | None = field(default=None, repr=False)

    @property
    def reason(self) -> str:
        """The platform's machine-readable reason, else its error message."""
        return reason_of(self.body)


@dataclass
class Order:
    """An order as the platform last reported it, and how it was paid."""

    person: str
    http_status: int
    body: dict
    request_id: str
    card: str
    asked: dict = field(default_factory=dict)
    seconds: float | None = None

    @property
    def id(self) -> str | None:
        """The order's id, or None if the platform created no order."""
        return self.body.get("id")

    @property
    def status(self) -> str:
        """The order's state (confirmed, rejected, held ...) or 'not accepted' when no order was made."""
        return str(self.body.get("status") or "not accepted")

    @property
    def reason(self) -> str:
        """Why the order was rejected or held, or the platform's error message."""
        return reason_of(self.body)

    @property
    def detail(self) -> str:
        """The detail of the reason (e.g. 'card declined'), or ''."""
        return str(self.body.get("detail") or "")

    def outcome(self) -> str:
        """The outcome in words, e.g. ``rejected: payment declined (card declined)``."""
        if self.status == "confirmed":
            return "confirmed"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.status}: {self.reason}{detail}"

    def items(self) -> dict[str, dict]:
        """The order's items by SKU."""
        return {item["sku"]: item for item in self.body.get("items") or []}


@dataclass
class Return:
    """A return as the platform answered it."""

    person: str
    order: Order
    http_status: int
    body: dict

    @property
    def accepted(self) -> bool:
        """True if the platform completed the return."""
        return self.http_status == 201 and isinstance(self.body.get("return"), dict)

    @property
    def reason(self) -> str:
        """Why the return was refused, or the platform's error message."""
        return reason_of(self.body)

    @property
    def refund_cents(self) -> int | None:
        """The amount refunded by this return, or None if it was refused."""
        return self.body["return"].get("refund_cents") if self.accepted else None


class Shop:
    """Business operations on the platform for one scenario, with the records they produced."""

    def __init__(self, http: Callable[[str], HttpClient], names: Names,
                 tokens: Callable[[str, str], str] | None = None):
        self.http = http
        self.names = names
        self.mint = tokens
        self.tokens: dict[tuple[str, str], str] = {}
        self.prices: dict[str, Money] = {}
        self.stocked: dict[tuple[str, str], int] = {}
        self.cards: dict[str, str] = {}
        self.orders: dict[str, list[Order]] = {}
        self.returns: dict[str, list[Return]] = {}
        self.answers: list[tuple[str, str]] = []
        self.last_person: str | None = None
        self.last_answer: Answer | None = None

    # --- calls and identities -------------------------------------------------------------

    def _token(self, subject: str, role: str) -> str:
        """A signed token for a subject and role, minted once per scenario."""
        if self.mint is None:
            raise TestDataError("The shop has no way to sign tokens (Shop(tokens=...)).")
        if (subject, role) not in self.tokens:
            self.tokens[subject, role] = self.mint(subject, role)
        return self.tokens[subject, role]

    def _call(self, service: str, method: str, path: str, *, person: str | None = None,
              headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        """One request as a person (customer token) or, without a person, as store staff."""
        response = self.http(service).request(
            method, path, headers={"Authorization": self._authorization(person), **(headers or {})}, **kwargs)
        self.answers.append(_answer(method, path, response))
        return response

    def _authorization(self, person: str | None) -> str:
        """The Authorization header of a person (a customer token) or, without a person, of store staff."""
        token = (self._token(self.names.customer(person), "customer") if person
                 else self._token(self.names.staff(), "staff"))
        return f"Bearer {token}"

    def _at_once(self, service: str, method: str, path: str, times: int, *, person: str,
                 headers: dict[str, str], **kwargs: Any) -> list[requests.Response]:
        """The same request as a person, ``times`` at the same moment; the answers in the order they arrived, each
        exchange recorded as usual."""
        sent = {"Authorization": self._authorization(person), **headers}
        arrived = self.http(service).at_once(method, path, times, headers=sent, **kwargs)
        self.answers += [_answer(method, path, r) for r in arrived]
        return arrived

    def _staff(self, service: str, method: str, path: str, doing: str, **kwargs: Any) -> dict:
        """A store operation that must succeed (set-up and look-ups); its JSON body."""
        return _succeeded(self._call(service, method, path, **kwargs), service, doing)

    # --- people and cards -----------------------------------------------------------------

    def card(self, person: str) -> str:
        """The person's card number (a fresh Luhn-valid one on first use)."""
        if person not in self.cards:
            self.cards[person] = cards.card_number()
        return self.cards[person]

    def issue_card(self, person: str, bin: str | None = None, ending: str | None = None) -> str:
        """Give the person a new card (a BIN and an ending, e.g. ``0002`` for one the issuer declines)."""
        self.cards[person] = cards.card_number(bin=bin, ending=ending)
        return self.cards[person]

    def share_bank(self, people: list[str]) -> str:
        """Give each person a new card, all from one new issuer range (BIN); return the BIN."""
        shared = cards.random_bin()
        for person in people:
            self.issue_card(person, bin=shared)
        return shared

    # --- products, stores and stock -------------------------------------------------------

    def set_price(self, product: str, price: Money) -> None:
        """The price a product is sold at in this scenario."""
        self.prices[product] = price

    def price(self, product: str) -> Money:
        """A product's price (10.00 EUR unless the feature stated one)."""
        return self.prices.get(product, DEFAULT_PRICE)

    def _stock_path(self, store: str, product: str) -> str:
        return f"/stock/{quote(self.names.store(store), safe='')}/{quote(self.names.sku(product), safe='')}"

    def set_stock(self, store: str, product: str, quantity: int, price: Money | None = None) -> None:
        """Set a store's stock of a product (and the product's price, if given)."""
        if price is not None:
            self.set_price(product, price)
        self._staff("inventory", "PUT", self._stock_path(store, product),
                    f"put {quantity} '{product}' in stock at the '{store}' store", json={"quantity": quantity})
        self.stocked[store, product] = quantity

    def deliver(self, store: str, product: str, quantity: int) -> None:
        """A delivery adds stock to a store."""
        self._staff("inventory", "POST", self._stock_path(store, product) + "/restock",
                    f"deliver {quantity} '{product}' to the '{store}' store",
                    json={"quantity": quantity, "cause": "restock", "reference": f"delivery-{uuid.uuid4()}"})
        self.stocked[store, product] = self.stocked.get((store, product), 0) + quantity

    def staff_headers(self) -> dict[str, str]:
        """The headers of a call made by the scenario's store staff (their token)."""
        return {"Authorization": self._authorization(None)}

    def stock_path(self, store: str, product: str) -> str:
        """The inventory path of a store's stock of a product."""
        return self._stock_path(store, product)

    def try_set_stock(self, person: str, store: str, product: str, quantity: int) -> Answer:
        """A person (a customer) tries to change a store's stock."""
        response = self._call("inventory", "PUT", self._stock_path(store, product), person=person,
                              json={"quantity": quantity})
        return self._remember(Answer(f"{person}'s change of the '{store}' store's stock", response.status_code,
                                     _json(response)), person)

    def stock(self, store: str, product: str) -> int:
        """How many of a product a store has to sell (0 if it never had any)."""
        response = self._call("inventory", "GET", self._stock_path(store, product))
        if response.status_code == 404:
            return 0
        return int(_succeeded(response, "inventory", f"read the '{store}' store's stock of '{product}'")["quantity"])

    def transfer(self, source: str, target: str, product: str, quantity: int) -> Answer:
        """Staff move stock from one store to another."""
        response = self._call("inventory", "POST", "/transfers", json={
            "from": self.names.store(source), "to": self.names.store(target),
            "sku": self.names.sku(product), "quantity": quantity})
        return self._remember(Answer(f"the transfer of {quantity} '{product}' from the '{source}' store to "
                                     f"the '{target}' store", response.status_code, _json(response)))

    def put_aside(self, store: str, product: str, quantity: int, seconds: float) -> dict:
        """Reserve stock for a while without ever confirming it (the reservation expires)."""
        return self._staff("inventory", "POST", "/reservations",
                           f"put {quantity} '{product}' aside at the '{store}' store", json={
                               "order_id": f"aside-{uuid.uuid4()}", "store": self.names.store(store),
                               "items": [{"sku": self.names.sku(product), "quantity": quantity}],
                               "ttl_seconds": max(1, round(seconds))})

    def availability(self, product: str) -> dict | None:
        """The chain-wide availability of a product, or None if none is known yet."""
        response = self._call("inventory", "GET", f"/availability/{self.names.sku(product)}")
        if response.status_code == 404:
            return None
        return _succeeded(response, "inventory", f"read the chain-wide availability of '{product}'")

    # --- orders ---------------------------------------------------------------------------

    def order_request(self, person: str, store: str, items: Items) -> tuple[dict[str, str], dict]:
        """The headers (the person's token) and JSON body of a person's order of items from a store."""
        prices = [self.price(product) for product, _ in items]
        currencies = {price.currency for price in prices}
        if len(currencies) > 1:
            raise TestDataError(f"One order is paid in one currency; the products cost {', '.join(map(str, prices))}")
        body = {"store": self.names.store(store), "currency": prices[0].currency if prices else "EUR",
                "items": [{"sku": self.names.sku(product), "quantity": quantity, "unit_price_cents": price.cents}
                          for (product, quantity), price in zip(items, prices)],
                "card": {"number": self.card(person)}}
        return {"Authorization": self._authorization(person)}, body

    def place_order(self, person: str, store: str, items: Items) -> Order:
        """A person orders items from a store, paying with their card."""
        headers, body = self.order_request(person, store, items)
        response = self.http("orders").request("POST", "/orders", headers=headers, json=body)
        self.answers.append((f"POST /orders -> {response.status_code}", response.text))
        order = self.record_order(person, body, response.status_code, _json(response),
                                  response.request.headers.get("X-Request-ID", ""))
        order.seconds = response.elapsed.total_seconds()
        return order

    def record_order(self, person: str, body: dict, status: int, answer: dict, request_id: str) -> Order:
        """Keep an order the platform answered (or did not: ``status`` 0) as the person's latest."""
        asked = {key: value for key, value in body.items() if key != "card"}
        order = Order(person, status, answer, request_id, body["card"]["number"], asked)
        self.orders.setdefault(person, []).append(order)
        self.last_person = person
        log.debug("%s's order: %s", person, order.outcome())
        return order

    def person(self, person: str | None) -> str:
        """The person a step names, or for 'she', 'his' ... the person the scenario last acted for."""
        if person:
            return person
        if self.last_person is None:
            raise TestDataError("A step says 'she', 'he' or 'her' before any person did anything in this scenario.")
        return self.last_person

    def order_of(self, person: str | None = None) -> Order:
        """The person's latest order (the last person's, for 'her order')."""
        person = self.person(person)
        if not self.orders.get(person):
            raise TestDataError(f"{person} has not ordered anything in this scenario.")
        return self.orders[person][-1]

    def refresh(self, order: Order) -> Order:
        """Read the order again as its customer sees it now."""
        response = self._call("orders", "GET", f"/orders/{order.id}", person=order.person)
        order.body = _succeeded(response, "orders", f"read {order.person}'s order {order.id} again")
        return order

    def review(self, order: Order, decision: str) -> Answer:
        """Store staff approve or decline an order held for a fraud review."""
        response = self._call("orders", "POST", f"/orders/{order.id}/review",
                              json={"decision": decision, "note": f"reviewed by {self.names.staff()}"})
        if response.status_code == 200:
            order.body = _json(response)
        return self._remember(Answer(f"the review of {order.person}'s order", response.status_code, _json(response)))

    def _ask(self, person: str, doing: str, about: str, asked: str,
             ask_about: Callable[[str], requests.Response]) -> Answer:
        """A person's request about one thing (``about``, by its id ``asked``), kept with the means to ask the same
        about another id."""
        response = ask_about(asked)
        return self._remember(Answer(f"{person}'s {doing} {about}", response.status_code, _json(response), asked,
                                     about, ask_about), person)

    def look_up(self, person: str, order: Order, what: str = "order") -> Answer:
        """A person asks for an order by its id (``what``: how the feature calls it, e.g. 'return')."""
        return self._ask(person, "look-up of", f"{order.person}'s {what}", self._known(order),
                         lambda order_id: self._call("orders", "GET", f"/orders/{order_id}", person=person))

    def try_return(self, person: str, order: Order, store: str, product: str, quantity: int) -> Answer:
        """A person tries to return items of someone else's order."""
        body = {"store": self.names.store(store), "items": [{"sku": self.names.sku(product), "quantity": quantity}]}
        return self._ask(person, "return of", f"{order.person}'s '{product}'", self._known(order),
                         lambda order_id: self._call("orders", "POST", f"/orders/{order_id}/returns", person=person,
                                                     headers={"Idempotency-Key": f"return-{uuid.uuid4()}"}, json=body))

    def look_up_payment(self, person: str, order: Order) -> Answer:
        """A person asks the payments service for the payment of someone's order."""
        payment_id = order.body.get("payment_id")
        if not payment_id:
            raise TestDataError(f"{order.person}'s order has no payment ({order.outcome()}).")
        return self._ask(person, "look-up of", f"the payment for {order.person}'s order", payment_id,
                         lambda pid: self._call("payments", "GET", f"/payments/{pid}", person=person))

    def list_orders_of(self, person: str, other: str) -> Answer:
        """A person asks for someone else's list of orders."""
        return self._ask(person, "request for", f"{other}'s list of orders", self.names.customer(other),
                         lambda customer: self._call("orders", "GET", "/orders", person=person,
                                                     params={"customer": customer}))

    @staticmethod
    def _known(order: Order) -> str:
        """The id of an order the platform accepted; a TestDataError for one it did not."""
        if not order.id:
            raise TestDataError(f"{order.person}'s order was not accepted ({order.outcome()}): there is nothing to "
                                f"look at.")
        return order.id

    def list_orders(self, person: str) -> Answer:
        """A person lists their orders."""
        response = self._call("orders", "GET", "/orders", person=person)
        return self._remember(Answer(f"{person}'s list of orders", response.status_code, _json(response)), person)

    def _remember(self, answer: Answer, person: str | None = None) -> Answer:
        """Keep an answer as the scenario's latest (and the person as the one acting)."""
        self.last_answer = answer
        if person:
            self.last_person = person
        return answer

    # --- payments and fraud screening -----------------------------------------------------

    def payments(self, order: Order) -> list[dict]:
        """Every payment the payments service holds for an order, with its refunds."""
        if not order.id:
            return []
        found = self._staff("payments", "GET", "/payments", f"look up the payments of {order.person}'s order",
                            params={"order_id": order.id})
        return [self._staff("payments", "GET", f"/payments/{p['id']}", f"look up payment {p['id']}")
                for p in found.get("payments", [])]

    def decisions(self, order: Order) -> list[dict]:
        """Every fraud decision recorded for an order, newest first."""
        if not order.id:
            return []
        return self._staff("fraud", "GET", "/decisions", f"look up the fraud decisions on {order.person}'s order",
                           params={"order_id": order.id}).get("decisions", [])

    def block_card(self, person: str) -> str:
        """Put the person's card on the fraud blocklist; return the entry's id."""
        return self._staff("fraud", "POST", "/blocklist", f"block {person}'s card",
                           json={"card_number": self.card(person)})["id"]

    def block_bank(self, person: str) -> str:
        """Give the person a card from a fresh issuer range and block that whole range; the entry's id."""
        number = self.issue_card(person, bin=cards.random_bin(cards.BLOCKABLE_PREFIX))
        return self._staff("fraud", "POST", "/blocklist", f"block the cards of {person}'s bank",
                           json={"bin": cards.bin_of(number)})["id"]

    def unblock(self, entry_id: str) -> None:
        """Remove a blocklist entry (clean-up; an entry already gone is fine)."""
        response = self._call("fraud", "DELETE", f"/blocklist/{entry_id}")
        if response.status_code not in (200, 404):
            log.warning("could not remove blocklist entry %s: %s %s", entry_id, response.status_code,
                        response.text[:200])

    # --- returns --------------------------------------------------------------------------

    def return_items(self, person: str, store: str, items: Items, sends: int = 1, at_once: bool = False) -> Return:
        """A person returns items of their latest order to a store (the same request ``sends`` times, one after
        another or ``at_once``); the answer kept is the last one (at once: every copy must be answered alike, so
        the first refused copy if any, else the last to arrive)."""
        order = self.order_of(person)
        if not order.id:
            raise TestDataError(f"{person}'s order was not accepted ({order.outcome()}), so nothing can be returned.")
        key = f"return-{uuid.uuid4()}"
        body = {"store": self.names.store(store),
                "items": [{"sku": self.names.sku(product), "quantity": quantity} for product, quantity in items]}
        path, headers = f"/orders/{order.id}/returns", {"Idempotency-Key": key}
        if at_once:
            answers = self._at_once("orders", "POST", path, sends, person=person, headers=headers, json=body)
            response = next((answer for answer in answers if answer.status_code != 201), answers[-1])
        else:
            for _ in range(sends):
                response = self._call("orders", "POST", path, person=person, headers=headers, json=body)
        result = Return(person, order, response.status_code, _json(response))
        if result.accepted and isinstance(result.body.get("order"), dict):
            order.body = result.body["order"]
        self.returns.setdefault(person, []).append(result)
        self.last_person = person
        return result

    def return_of(self, person: str | None = None) -> Return:
        """The person's latest return."""
        person = self.person(person)
        if not self.returns.get(person):
            raise TestDataError(f"{person} has not returned anything in this scenario.")
        return self.returns[person][-1]

    def records(self, order: Order) -> dict[str, str]:
        """Read everything the platform keeps about an order; every answer of the scenario, by request."""
        self.refresh(order)
        self.payments(order)
        self.decisions(order)
        return {f"answer {number} ({title})": text for number, (title, text) in enumerate(self.answers, 1)}


def _answer(method: str, path: str, response: requests.Response) -> tuple[str, str]:
    """An answer as the shop keeps it for a failure's evidence: what was asked and got, and the body."""
    return f"{method} {path} -> {response.status_code}", response.text
