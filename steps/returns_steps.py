"""Returns: a customer brings back items of their latest order to a store, and is refunded.

The store named is the one that receives the items (it need not be the one that sold them);
the refund goes back to the card the order was paid with.
"""

from behave import given, register_type, then, when

from crucible.stack import faults
from crucible.vocabulary.load import checks
from crucible.vocabulary.preflight import checked
from retail import outcomes, wording

register_type(**wording.TYPES)


@when('{who:Who} returns {quantity:d} "{product}" to the "{store}" store')
def step_returns(context, who, quantity, product, store):
    """Example: When Alice returns 2 "Blue Mug" to the "North" store"""
    context.shop.return_items(context.shop.person(who), store, [(product, quantity)])


@when('{who:Who} returns to the "{store}" store:')
def step_returns_items(context, who, store):
    """Example: When Alice returns to the "North" store:
        | product    | quantity |
        | Blue Mug   | 1        |
        | Red Kettle | 1        |
    """
    context.shop.return_items(context.shop.person(who), store, wording.items(context.table))


@when('{whose:Whose} return of {quantity:d} "{product}" to the "{store}" store reaches the shop twice')
def step_return_twice(context, whose, quantity, product, store):
    """Example: When Alice's return of 1 "Blue Mug" to the "North" store reaches the shop twice

    The same return sent again (a retry after a lost answer), as one request twice.
    """
    context.shop.return_items(context.shop.person(whose), store, [(product, quantity)], sends=2)


@when('{whose:Whose} return of {quantity:d} "{product}" to the "{store}" store reaches the shop twice at the same '
      'moment')
@checked(lambda scope, **_: checks.link(scope, "orders", "payments"))
def step_return_twice_at_once(context, whose, quantity, product, store):
    """Example: When Alice's return of 2 "Blue Mug" to the "North" store reaches the shop twice at the same moment

    The same return sent twice at once (a client that retries without waiting for the first answer),
    and both copies reach the refund together: the shop's two calls to payments are held until both
    wait, then let go at the same moment, so the race happens whatever the machine's load (tag the
    scenario @disruptive: the shop's link to payments goes through a proxy). Each copy must be answered
    alike: a refused copy is the answer kept.
    """
    race = faults.for_scenario(context)
    race.gather_link("orders", "payments", 2, context.settings["faults.gather_timeout"])
    context.shop.return_items(context.shop.person(whose), store, [(product, quantity)], sends=2, at_once=True)
    race.expect_gathered("orders", "payments", 2)


@given('{who:Who} has returned {quantity:d} "{product}" to the "{store}" store')
def step_has_returned(context, who, quantity, product, store):
    """Example: Given Alice has returned 1 "Blue Mug" to the "North" store

    The return must be accepted: otherwise the step fails, saying why it was not.
    """
    ret = context.shop.return_items(context.shop.person(who), store, [(product, quantity)])
    outcomes.expect_return_accepted(ret, context.shop.price(product).times(quantity))


@then("{whose:Whose} return is accepted with a refund of {amount:Money}")
def step_return_accepted(context, whose, amount):
    """Example: Then her return is accepted with a refund of 25.00 EUR"""
    outcomes.expect_return_accepted(context.shop.return_of(whose), amount)


@then('{whose:Whose} return is refused because "{reason}"')
def step_return_refused(context, whose, reason):
    """Example: Then her return is refused because "already returned\""""
    outcomes.expect_return_refused(context.shop.return_of(whose), reason)


@then("{whose:Whose} card is refunded {amount:Money} exactly once")
def step_refunded_once(context, whose, amount):
    """Example: Then her card is refunded 25.00 EUR exactly once

    The order's payment shows exactly one refund, of this amount, and no more refunded.
    """
    order = context.shop.order_of(whose)
    outcomes.expect_refunded_once(order, context.shop.payments(order), amount)
