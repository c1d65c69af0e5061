"""Crowds: many customers at once, stock changes in many stores at once, judged like a load.

A crowd's customers are Customer001, Customer002 ... (each with a token and a card of their own,
new in every scenario); they all order at the same moment, and every order must be answered
within the time the step gives, or it counts as failed. A confirmed, held or rejected order is an
answer; no answer, or the shop failing (a 5xx, a refused request), is a failure. The step gets the
same charts, percentile table and container usage as a load step, and the thresholds of the load
steps judge it too ("the 99th percentile response time is under 500 ms"), or in the shop's words
below. Stores of a chain are Store 001, Store 002 ...
"""

from behave import given, register_type, then, when
from parse import with_pattern

from crucible.vocabulary.load import checks, runner, thresholds
from crucible.vocabulary.preflight import checked
from crucible.vocabulary.steps import load_steps
from retail import announcements, crowds, wording

register_type(**wording.TYPES)


@with_pattern(r'"[^"]+"(?:, "[^"]+")* and "[^"]+"')
def store_list(text: str) -> list[str]:
    """``"North", "South" and "East"`` -> the three names."""
    return [part.strip().strip('"') for part in text.replace(" and ", ", ").split(", ")]


register_type(StoreList=store_list, Percent=load_steps.percent)


def _crowd(scope, count, seconds, **_):
    """Pre-flight: at least one customer or store, more than 0 seconds."""
    checks.load(scope, count, seconds)


@when('{count:d} customers each order {quantity:d} "{product}" from the "{store}" store within {seconds:Seconds}')
@checked(_crowd)
def step_crowd_orders(context, count, quantity, product, store, seconds):
    """Example: When 50 customers each order 1 "Blue Mug" from the "North" store within 20 seconds"""
    crowds.place_orders(context, [(p, store, [(product, quantity)]) for p in crowds.people(count)], seconds,
                        title=f"{count} customers order {quantity} '{product}' at the '{store}' store")


@when('{count:d} customers each order {quantity:d} "{product}" from one of the {stores:StoreList} stores '
      'within {seconds:Seconds}')
@checked(_crowd)
def step_crowd_orders_stores(context, count, quantity, product, stores, seconds):
    """Example: When 60 customers each order 1 "Blue Mug" from one of the "North", "South" and "East" stores within 20 seconds

    The customers are shared out among the stores in turn.
    """
    crowds.place_orders(context, [(p, stores[n % len(stores)], [(product, quantity)])
                                  for n, p in enumerate(crowds.people(count))], seconds,
                        title=f"{count} customers order {quantity} '{product}' in {len(stores)} stores")


@when('{count:d} customers order {quantity:d} "{product}" each from the "{store}" store, one after another '
      'over {seconds:Seconds}')
@checked(_crowd)
def step_crowd_spread(context, count, quantity, product, store, seconds):
    """Example: When 40 customers order 1 "Blue Mug" each from the "North" store, one after another over 8 seconds

    The orders are spread evenly over the first three fifths of the time; all must be answered within it.
    """
    crowds.place_orders(context, [(p, store, [(product, quantity)]) for p in crowds.people(count)], seconds,
                        spread=True, title=f"{count} customers order '{product}' over {seconds:g} s")


@when('{count:d} customers each place {orders:d} orders for {quantity:d} "{product}" from the "{store}" store '
      'at once, each with one card')
@checked(lambda scope, count, orders, **_: checks.load(scope, count * orders, 30))
def step_crowd_same_card(context, count, orders, quantity, product, store):
    """Example: When 5 customers each place 6 orders for 1 "Blue Mug" from the "North" store at once, each with one card

    All the orders at the same moment; a customer's orders all use the same card. They must all be
    answered within 30 seconds.
    """
    wanted = [(p, store, [(product, quantity)]) for _ in range(orders) for p in crowds.people(count)]
    crowds.place_orders(context, wanted, 30, title=f"{count} customers x {orders} orders with one card each")


@given('{count:d} stores each have {quantity:d} "{product}" in stock')
@checked(lambda scope, count, **_: checks.load(scope, count, 60))
def step_chain_stocked(context, count, quantity, product):
    """Example: Given 200 stores each have 10 "Blue Mug" in stock

    Store 001 to Store 200, set in one burst.
    """
    crowds.change_stock(context, [("PUT", s, product, {"quantity": quantity}) for s in crowds.stores(count)], 60,
                        title=f"stock of '{product}' set in {count} stores")


@when('the {count:d} stores each receive a delivery of {quantity:d} "{product}" at the same moment')
@checked(lambda scope, count, **_: checks.load(scope, count, 60))
def step_chain_deliveries(context, count, quantity, product):
    """Example: When the 200 stores each receive a delivery of 5 "Blue Mug" at the same moment"""
    crowds.change_stock(context, [("POST", s, product, {"quantity": quantity, **crowds.restock_body()})
                                  for s in crowds.stores(count)], 60,
                        title=f"deliveries of '{product}' to {count} stores")


@then("{share:Percent} of the orders are answered within {ms:g} ms")
@checked(checks.share)
def step_orders_within(context, share, ms):
    """Example: Then 95% of the orders are answered within 800 ms

    An order that got no answer, or that the shop failed, counts as not answered.
    """
    thresholds.expect_share_within(runner.latest(context), share, ms, noun="orders")


@then("fewer than {share:Percent} of the orders fail")
@checked(checks.share)
def step_orders_fail(context, share):
    """Example: Then fewer than 1% of the orders fail"""
    thresholds.expect_failures_below(runner.latest(context), share, noun="orders")


@then('no store sells more "{product}" than it had')
def step_no_oversell(context, product):
    """Example: Then no store sells more "Blue Mug" than it had"""
    crowds.expect_no_oversell(context.shop, crowds.crowd(context.shop), product)


@then("every order ends confirmed or rejected with a reason")
def step_all_settled(context):
    """Example: Then every order ends confirmed or rejected with a reason

    Each order is read again from the shop: none may be left pending, held or without an answer.
    """
    crowds.expect_all_settled(context.shop, crowds.crowd(context.shop))


@then("the cards are charged exactly the confirmed orders' totals")
def step_charges_match(context):
    """Example: Then the cards are charged exactly the confirmed orders' totals

    Captured less refunded, per order: the total of a confirmed order, nothing for the others.
    """
    crowds.expect_charges_match(context.shop, crowds.crowd(context.shop))


@then('within {seconds:Seconds} the stock of "{product}" and its published changes balance with the orders')
def step_stock_balances(context, seconds, product):
    """Example: Then within 5 seconds the stock of "Blue Mug" and its published changes balance with the orders

    Each store has what it had less what it confirmed; the stock changes it published add up to the same.
    """
    crowds.expect_stock_balances(context.shop, announcements.recorded(context), crowds.crowd(context.shop), product,
                                 seconds)


@then('each customer has {confirmed:d} orders confirmed and {rejected:d} rejected because "{reason}" ("{detail}")')
def step_each_customer(context, confirmed, rejected, reason, detail):
    """Example: Then each customer has 3 orders confirmed and 3 rejected because "fraud declined" ("velocity")"""
    crowds.expect_each_customer(crowds.crowd(context.shop), confirmed, rejected, reason, detail)


@then('every order is held for review because "{reason}"')
def step_all_held(context, reason):
    """Example: Then every order is held for review because "amount over review threshold\""""
    crowds.expect_all_held(crowds.crowd(context.shop), reason)


@then("within {seconds:Seconds} every order is announced exactly once")
def step_announced_once(context, seconds):
    """Example: Then within 20 seconds every order is announced exactly once

    Its "order placed" event and the event of its outcome ("order confirmed", "order rejected" ...),
    each published once (a repeated delivery of the same event counts once). An order the shop never
    made (no answer) has nothing to announce: the failure threshold counts it.
    """
    crowds.expect_announced_once(announcements.recorded(context), crowds.crowd(context.shop), seconds)


@then('within {seconds:Seconds} the chain shows the true stock of "{product}" in every store')
def step_chain_true(context, seconds, product):
    """Example: Then within 10 seconds the chain shows the true stock of "Blue Mug" in every store"""
    crowds.expect_chain_total(context.shop, product, seconds)


@then('every stock change of "{product}" is published exactly once')
def step_changes_once(context, product):
    """Example: Then every stock change of "Blue Mug" is published exactly once

    Per store, versions 1, 2 ... each published once: none lost, none twice.
    """
    crowds.expect_changes_published_once(context.shop, announcements.recorded(context), product, 10)


