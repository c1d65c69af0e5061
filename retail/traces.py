"""Where one order went: the services' JSON log lines that carry its request id, and where a card number leaked."""

from __future__ import annotations

import json
import re
from typing import Callable

from retail import cards
from crucible.vocabulary import polling
from crucible.vocabulary.messaging import Event
from retail.announcements import EventLog, key_of
from retail.shop import Order


def log_lines(text: str) -> list[dict]:
    """The JSON objects among a service's log lines (other lines are skipped)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


def expect_traced(logs: dict[str, str], request_id: str, services: list[str], person: str) -> None:
    """Each of ``services`` has a JSON log line whose ``request_id`` is the order's request id."""
    missing = []
    for service in services:
        lines = log_lines(logs.get(service, ""))
        if not any(line.get("request_id") == request_id for line in lines):
            missing.append(f"the {service} service ({len(lines)} JSON log lines since the scenario began, "
                           f"none with request id {request_id})")
    assert not missing, (f"expected every service to log {person}'s order under its request id {request_id}, "
                         f"but it is missing from " + "; ".join(missing))


def expect_traced_within(logs: Callable[[], dict[str, str]], order: Order, services: list[str],
                         seconds: float) -> None:
    """Within ``seconds``, each service has logged the order's request id (logs are read again and again)."""
    polling.eventually(logs, lambda found: expect_traced(found, order.request_id, services, order.person), seconds,
                       describe=lambda found: ", ".join(f"{name}: {len(log_lines(text))} JSON lines"
                                                        for name, text in sorted(found.items())))


def masked(text: str, number: str) -> str:
    """Text with a card number replaced by its last four digits, for messages."""
    digits = re.sub(r"\D", "", number)
    return re.sub(r"[ -]?".join(digits), f"<card ending {digits[-4:]}>", text)


def expect_no_card(number: str, places: dict[str, str], person: str, where: str) -> None:
    """``number`` appears in none of ``places`` (name -> text); the failure shows each place, masked."""
    leaks = [f"{name}: ...{masked(excerpt, number)}..." for name, text in places.items()
             for excerpt in cards.occurrences(number, text)[:2]]
    assert not leaks, (f"expected {person}'s full card number (ending {cards.last4(number)}) to appear in no "
                       f"{where}, but it appears {len(leaks)} time(s):\n  " + "\n  ".join(leaks[:6]))


def order_data(event: Event) -> dict:
    """The ``data`` of an event's envelope (empty if the event has none)."""
    body = event.body if isinstance(event.body, dict) else {}
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def about(order: Order) -> Callable[[Event], bool]:
    """A test: the event is about this order."""
    return lambda event: bool(order.id) and order_data(event).get("order_id") == order.id


def event_about(order: Order, key: str) -> Callable[[Event], bool]:
    """A test: the event has this routing key and is about this order."""
    return lambda event: event.routing_key == key and about(order)(event)


def expect_order_events(events: EventLog, order: Order, names: list[str], seconds: float) -> list[Event]:
    """One event for each name (``order confirmed``), each about this order, all published within ``seconds``."""
    wanted = [(name, event_about(order, key_of(name))) for name in names]
    return events.expect_each(wanted, seconds, about=f" for {order.person}'s order")


def expect_complete(event: Event, order: Order, customer: str) -> None:
    """An order event names the order, the customer, the store, each item with its unit price, and the total."""
    data = order_data(event)
    asked = order.asked
    wanted_items = sorted((i["sku"], i["quantity"], i["unit_price_cents"]) for i in asked.get("items", []))
    shown_items = sorted((i.get("sku"), i.get("quantity"), i.get("unit_price_cents")) for i in data.get("items") or [])
    total = sum(quantity * price for _, quantity, price in wanted_items)
    problems = [f"{name} is {data.get(key)!r} instead of {wanted!r}" for name, key, wanted in (
        ("the order id", "order_id", order.id), ("the customer", "customer", customer),
        ("the store", "store", asked.get("store")), ("the total", "total_cents", total),
        ("the currency", "currency", asked.get("currency"))) if data.get(key) != wanted]
    if shown_items != wanted_items:
        problems.append(f"the items (sku, quantity, unit price in cents) are {shown_items} instead of {wanted_items}")
    assert not problems, (f"expected the '{event.routing_key}' event to describe {order.person}'s order in full, "
                          f"but " + "; ".join(problems))


def expect_last4_only(event: Event, order: Order) -> None:
    """An event shows the order's card only as its last four digits."""
    data = order_data(event)
    card_fields = sorted(key for key in data if "card" in key or key in ("number", "pan"))
    assert data.get("card_last4") == cards.last4(order.card), (
        f"expected the '{event.routing_key}' event to show {order.person}'s card as its last 4 digits "
        f"{cards.last4(order.card)}, but it shows {data.get('card_last4')!r} (card fields: {', '.join(card_fields) or 'none'})")
    expect_no_card(order.card, {f"the '{event.routing_key}' event": json.dumps(event.body)}, order.person, "event")
    assert card_fields == ["card_last4"], (
        f"expected the '{event.routing_key}' event to carry no card detail but the last 4 digits, "
        f"but it has the fields {', '.join(card_fields)}")


def expect_request_id(events: list[Event], order: Order) -> None:
    """Every event about the order carries the request id of the request that placed it."""
    mine = [e for e in events if about(order)(e)]
    assert mine, f"expected events about {order.person}'s order, but none was published"
    wrong = [f"{e.routing_key} (request id {e.body.get('request_id')!r}, header {e.headers.get('x-request-id')!r})"
             for e in mine if e.body.get("request_id") != order.request_id
             or e.headers.get("x-request-id") != order.request_id]
    assert not wrong, (f"expected every event about {order.person}'s order to carry its request id "
                       f"{order.request_id}, but these do not: " + "; ".join(wrong))
