"""Crowds: many customers ordering at once, stock changing in many stores at once, and what must hold after.

A crowd's requests are sent by Crucible's load generator (``crucible.vocabulary.load``): every
customer is a client of their own, with their own token and card, and every order is kept as the
platform answered it (confirmed, held, rejected with a reason, or no answer), so the checks
below judge the whole crowd: nothing oversold, every order settled, money and stock balanced,
every event published exactly once.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter, defaultdict

from crucible.errors import TestDataError
from crucible.vocabulary import polling
from crucible.vocabulary.load import runner, stats
from crucible.vocabulary.load.generator import Sample
from retail.announcements import EventLog
from retail.money import format_cents
from retail.shop import Items, Order, Shop

log = logging.getLogger(__name__)

ORDER_ANSWERS = frozenset({201, 202, 422})  # confirmed, held, rejected: answers; anything else is a failure
SHOWN = 5


def people(count: int, prefix: str = "Customer") -> list[str]:
    """``count`` distinct customers: Customer001, Customer002 ..."""
    if count < 1:
        raise TestDataError(f"A crowd has at least 1 customer, not {count}.")
    return [f"{prefix}{n:03d}" for n in range(1, count + 1)]


def stores(count: int) -> list[str]:
    """``count`` distinct stores: Store 001, Store 002 ..."""
    if count < 1:
        raise TestDataError(f"A chain has at least 1 store, not {count}.")
    return [f"Store {n:03d}" for n in range(1, count + 1)]


def _answer(sample: Sample) -> dict:
    """A crowd request's JSON answer, or what happened instead."""
    if sample.body:
        try:
            body = json.loads(sample.body)
            if isinstance(body, dict):
                return body
        except ValueError:
            pass
    return {"error": sample.error or f"HTTP {sample.status} without a JSON body"}


def place_orders(context, wanted: list[tuple[str, str, Items]], seconds: float, *, spread: bool = False,
                 title: str) -> list[Order]:
    """Every (person, store, items) order placed at once (or ``spread`` evenly over the time); all answered
    within ``seconds``, else they count as failed. Returns the orders in the order they were wanted."""
    shop: Shop = context.shop
    requests = [(person, shop.order_request(person, store, items)) for person, store, items in wanted]
    gap = seconds * 0.6 / len(requests) if spread else 0.0
    calls = [runner.json_call("place an order", "POST", "/orders", headers, body, ORDER_ANSWERS, n * gap)
             for n, (_, (headers, body)) in enumerate(requests)]
    result = runner.run_load(context, "orders", iter(calls), len(calls), seconds, title=title,
                             finish_within=True, keep_bodies=True)
    orders = [shop.record_order(person, body, sample.status or 0, _answer(sample), sample.request_id)
              for (person, (_, body)), sample in zip(requests, runner.samples_by_call(context, result))]
    shop.crowd = orders
    return orders


def change_stock(context, changes: list[tuple[str, str, str, dict]], seconds: float, *, title: str) -> None:
    """Stock calls (method, store, product, body) to many stores at once; every one must be answered 200."""
    shop: Shop = context.shop
    headers = shop.staff_headers()
    calls = [runner.json_call(f"{method} stock", method, shop.stock_path(store, product)
                              + ("/restock" if method == "POST" else ""), headers, body, frozenset({200}))
             for method, store, product, body in changes]
    result = runner.run_load(context, "inventory", iter(calls), min(len(calls), 50), seconds, title=title,
                             finish_within=True)
    failed = [s for s in result.samples if s.failed]
    assert not failed, (f"expected every store to take its stock change, but {len(failed)} of {len(calls)} did "
                        f"not ({', '.join(f'{k} x{n}' for k, n in Counter(s.error for s in failed).items())}); "
                        f"first: {stats.worst(failed, SHOWN)}")
    for method, store, product, body in changes:
        before = shop.stocked.get((store, product), 0) if method == "POST" else 0
        shop.stocked[store, product] = before + body["quantity"]


def crowd(shop: Shop) -> list[Order]:
    """The latest crowd's orders, or a TestDataError saying a crowd must order first."""
    orders = getattr(shop, "crowd", None)
    if not orders:
        raise TestDataError("No crowd has ordered in this scenario: a step such as 'When 50 customers each order "
                            "1 \"Blue Mug\" from the \"North\" store within 20 seconds' must come first.")
    return orders


def _some(lines: list[str]) -> str:
    return "; ".join(lines[:SHOWN]) + (f"; ... ({len(lines) - SHOWN} more)" if len(lines) > SHOWN else "")


def _confirmed_quantity(orders: list[Order], store_id: str, sku: str) -> int:
    return sum(item["quantity"] for o in orders if o.status == "confirmed" and o.asked.get("store") == store_id
               for item in o.asked.get("items", []) if item["sku"] == sku)


def expect_no_oversell(shop: Shop, orders: list[Order], product: str) -> None:
    """No store confirmed more of a product than it had in stock."""
    sku = shop.names.sku(product)
    oversold = [f"the '{store}' store confirmed {sold} while it had {had}"
                for (store, name), had in sorted(shop.stocked.items()) if name == product
                for sold in [_confirmed_quantity(orders, shop.names.store(store), sku)] if sold > had]
    assert not oversold, f"expected no store to sell more '{product}' than it had, but {_some(oversold)}"


def expect_all_settled(shop: Shop, orders: list[Order]) -> None:
    """Every order ended confirmed, or rejected with a reason (as the orders service keeps it now)."""
    unsettled = []
    for order in orders:
        if order.id:
            shop.refresh(order)
        if order.status == "confirmed" or (order.status == "rejected" and order.body.get("reason")):
            continue
        unsettled.append(f"{order.person}'s order is {order.outcome()} (HTTP {order.http_status}, request id "
                         f"{order.request_id})")
    assert not unsettled, (f"expected every order to end confirmed or rejected with a reason, but "
                           f"{len(unsettled)} of {len(orders)} did not: {_some(unsettled)}")


def expect_charges_match(shop: Shop, orders: list[Order]) -> None:
    """The money kept from the cards equals the confirmed orders' totals; nothing is kept for the others."""
    wrong, kept_total, confirmed_total = [], 0, 0
    currency = "EUR"
    for order in orders:
        kept = sum((p.get("captured_cents") or 0) - (p.get("refunded_cents") or 0) for p in shop.payments(order))
        due = order.body.get("total_cents", 0) if order.status == "confirmed" else 0
        currency = order.body.get("currency") or currency
        kept_total, confirmed_total = kept_total + kept, confirmed_total + due
        if kept != due:
            wrong.append(f"{order.person}'s {order.status} order: {format_cents(kept, currency)} kept, "
                         f"{format_cents(due, currency)} due")
    assert not wrong, (f"expected the cards to be charged exactly the confirmed orders' "
                       f"{format_cents(confirmed_total, currency)}, but {format_cents(kept_total, currency)} was "
                       f"kept; {_some(wrong)}")


def expect_stock_balances(shop: Shop, events: EventLog, orders: list[Order], product: str, timeout: float) -> None:
    """Each store has what it had less what was confirmed, and its published stock changes add up to it."""
    sku = shop.names.sku(product)
    truth = {store: had - _confirmed_quantity(orders, shop.names.store(store), sku)
             for (store, name), had in shop.stocked.items() if name == product}
    wrong = [f"the '{store}' store has {shop.stock(store, product)}, but had {shop.stocked[store, product]} and "
             f"confirmed {shop.stocked[store, product] - left}" for store, left in sorted(truth.items())
             if shop.stock(store, product) != left]
    assert not wrong, f"expected the stock of '{product}' to balance with the confirmed orders, but {_some(wrong)}"

    def published(found) -> None:
        moved = defaultdict(int)
        for event in found:
            data = event.body.get("data") or {}
            if event.routing_key == "stock.changed" and data.get("sku") == sku and data.get("cause") != "set":
                moved[data.get("store")] += data.get("delta") or 0
        off = [f"the '{store}' store's published changes add up to {moved[shop.names.store(store)]:+d}, but its "
               f"stock moved by {left - shop.stocked[store, product]:+d}" for store, left in sorted(truth.items())
               if moved[shop.names.store(store)] != left - shop.stocked[store, product]]
        assert not off, f"expected the published stock changes of '{product}' to balance, but {_some(off)}"
    polling.eventually(events.drain, published, timeout, interval=0.2, describe=lambda found: f"{len(found)} events")


def expect_each_customer(orders: list[Order], confirmed: int, rejected: int, reason: str, detail: str) -> None:
    """Each customer of the crowd had this many orders confirmed and this many rejected for the reason."""
    by_person: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_person[order.person].append(order)
    wrong = []
    for person, theirs in sorted(by_person.items()):
        outcomes = Counter(o.outcome() for o in theirs)
        ok = sum(1 for o in theirs if o.status == "confirmed")
        refused = sum(1 for o in theirs if o.status == "rejected" and o.reason == reason
                      and detail in [part.strip() for part in o.detail.split(",")])
        if (ok, refused) != (confirmed, rejected):
            wrong.append(f"{person}: " + ", ".join(f"{n} {what}" for what, n in outcomes.most_common()))
    assert not wrong, (f"expected each customer to have {confirmed} orders confirmed and {rejected} rejected because "
                       f"\"{reason}\" (\"{detail}\"), but {_some(wrong)}")


def expect_all_held(orders: list[Order], reason: str) -> None:
    """Every order of the crowd is held for a fraud review for the reason."""
    wrong = [f"{o.person}'s order is {o.outcome()}" for o in orders if not (o.status == "held" and reason in o.detail)]
    assert not wrong, (f"expected every order to be held for review because \"{reason}\", but {len(wrong)} of "
                       f"{len(orders)} were not: {_some(wrong)}")


def expect_announced_once(events: EventLog, orders: list[Order], timeout: float) -> None:
    """Every order's 'order placed' event and the event of its outcome are published exactly once each."""
    def check(found) -> None:
        seen = Counter()
        for event in found:
            data = event.body.get("data") or {}
            seen[data.get("order_id"), event.routing_key] += 1
        wrong = []
        made = [order for order in orders if order.id]  # one never made is counted by the failure threshold
        assert made, f"expected orders to be announced, but none of the {len(orders)} orders was made"
        for order in made:
            for key in ("order.placed", f"order.{order.status}"):
                if seen[order.id, key] != 1:
                    wrong.append(f"{order.person}'s '{key.replace('.', ' ')}' {seen[order.id, key]} times")
        assert not wrong, (f"expected every order to be announced exactly once, but {len(wrong)} announcements of "
                           f"{len(orders)} orders were not: {_some(wrong)}")
    polling.eventually(events.drain, check, timeout, interval=0.5, describe=lambda found: f"{len(found)} events")


def expect_chain_total(shop: Shop, product: str, timeout: float) -> None:
    """Chain-wide availability shows every store's true stock of the product, and their total."""
    truth = {shop.names.store(store): had for (store, name), had in shop.stocked.items() if name == product}

    def check(found: dict | None) -> None:
        assert found is not None, f"expected the chain to show {sum(truth.values())} '{product}', but it knows none"
        shown = found.get("stores") or {}
        off = [f"{store} shows {shown.get(store, 0)} (true {had})" for store, had in sorted(truth.items())
               if shown.get(store, 0) != had]
        assert found.get("total") == sum(truth.values()) and not off, (
            f"expected the chain to show {sum(truth.values())} '{product}' across {len(truth)} stores, but it shows "
            f"{found.get('total')}; {len(off)} stores differ: {_some(off)}")
    polling.eventually(lambda: shop.availability(product), check, timeout, interval=0.25,
                       describe=lambda found: f"total {(found or {}).get('total')}")


def expect_changes_published_once(shop: Shop, events: EventLog, product: str, timeout: float) -> None:
    """Every store's stock changes of the product were published once each: versions 1..n, none twice."""
    sku = shop.names.sku(product)
    store_ids = {shop.names.store(store) for (store, name) in shop.stocked if name == product}

    def check(found) -> None:
        versions: dict[str, Counter] = defaultdict(Counter)
        for event in found:
            data = event.body.get("data") or {}
            if event.routing_key == "stock.changed" and data.get("sku") == sku:
                versions[data.get("store")][data.get("version")] += 1
        wrong = []
        for store in sorted(store_ids):
            seen = versions[store]
            top = max(seen, default=0)
            lost = [v for v in range(1, top + 1) if not seen[v]]
            twice = [v for v, n in seen.items() if n > 1]
            if not seen or lost or twice:
                wrong.append(f"{store}: " + (f"missing version(s) {lost} " if lost else "")
                             + (f"version(s) {twice} published more than once" if twice else "")
                             + ("no change published" if not seen else ""))
        assert not wrong, (f"expected every stock change of '{product}' in the {len(store_ids)} stores to be "
                           f"published exactly once, but {len(wrong)} stores differ: {_some(wrong)}")
    polling.eventually(events.drain, check, timeout, interval=0.5, describe=lambda found: f"{len(found)} events")


def restock_body() -> dict:
    """A delivery's reference, unique so that the delivery is applied once."""
    return {"cause": "restock", "reference": f"delivery-{uuid.uuid4()}"}
