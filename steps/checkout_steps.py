"""Ordering and paying: people order from a store and pay by card; orders are confirmed, held or rejected.

Each person is a customer of their own and pays with a card of their own, new in every
scenario. "her order" is the latest order of the person the scenario last acted for;
"Alice's order" is Alice's latest. A rejection reads like the platform's: a reason and, in
brackets, its detail, e.g. "payment declined" ("card declined"), "fraud declined" ("velocity").
"""

from behave import given, register_type, then, when

from retail import cards, outcomes, wording

register_type(**wording.TYPES)


@when('{person:Person} orders {quantity:d} "{product}" from the "{store}" store')
def step_person_orders(context, person, quantity, product, store):
    """Example: When Alice orders 2 "Blue Mug" from the "North" store"""
    context.shop.place_order(person, store, [(product, quantity)])


@when('{person:Person} orders from the "{store}" store:')
def step_person_orders_items(context, person, store):
    """Example: When Alice orders from the "North" store:
        | product    | quantity |
        | Blue Mug   | 2        |
        | Red Kettle | 1        |
    """
    context.shop.place_order(person, store, wording.items(context.table))


@given('{person:Person} has bought {quantity:d} "{product}" from the "{store}" store')
def step_person_has_bought(context, person, quantity, product, store):
    """Example: Given Alice has bought 2 "Blue Mug" from the "North" store

    The order must be confirmed: otherwise the step fails, saying why it was not.
    """
    outcomes.expect_state(context.shop.place_order(person, store, [(product, quantity)]), "confirmed")


@given('{person:Person} has bought from the "{store}" store:')
def step_person_has_bought_items(context, person, store):
    """Example: Given Alice has bought from the "North" store:
        | product    | quantity |
        | Blue Mug   | 2        |
        | Red Kettle | 1        |
    """
    outcomes.expect_state(context.shop.place_order(person, store, wording.items(context.table)), "confirmed")


@given('{people:People} have each bought {quantity:d} "{product}" from the "{store}" store')
def step_people_have_bought(context, people, quantity, product, store):
    """Example: Given Alice, Bob and Carol have each bought 1 "Blue Mug" from the "North" store

    One order each, with their own card; every order must be confirmed.
    """
    for person in people:
        outcomes.expect_state(context.shop.place_order(person, store, [(product, quantity)]), "confirmed")


@given('{person:Person} has already bought {quantity:d} "{product}" from the "{store}" store {times:d} times')
def step_person_has_bought_times(context, person, quantity, product, store, times):
    """Example: Given Alice has already bought 1 "Blue Mug" from the "North" store 3 times

    Each time with the same card; every order must be confirmed.
    """
    for _ in range(times):
        outcomes.expect_state(context.shop.place_order(person, store, [(product, quantity)]), "confirmed")


@given("{whose:Whose} card is declined by the bank")
def step_card_declined(context, whose):
    """Example: Given Alice's card is declined by the bank"""
    context.shop.issue_card(context.shop.person(whose), ending=cards.DECLINED)


@given("{whose:Whose} card has insufficient funds")
def step_card_no_funds(context, whose):
    """Example: Given Alice's card has insufficient funds"""
    context.shop.issue_card(context.shop.person(whose), ending=cards.INSUFFICIENT_FUNDS)


@then("{whose:Whose} order is {state:OrderState}")
def step_order_state(context, whose, state):
    """Example: Then her order is confirmed

    States: confirmed, held for review, partially returned, returned.
    """
    outcomes.expect_state(context.shop.order_of(whose), state)


@then("{whose:Whose} order is still {state:OrderState}")
def step_order_still(context, whose, state):
    """Example: Then her order is still confirmed

    Reads the order again from the shop, as its customer sees it now.
    """
    outcomes.expect_state(context.shop.refresh(context.shop.order_of(whose)), state)


@then('{whose:Whose} order is rejected because "{reason}"')
def step_order_rejected(context, whose, reason):
    """Example: Then his order is rejected because "not enough stock\""""
    outcomes.expect_rejected(context.shop.order_of(whose), reason)


@then('{whose:Whose} order is rejected because "{reason}" ("{detail}")')
def step_order_rejected_detail(context, whose, reason, detail):
    """Example: Then her order is rejected because "payment declined" ("card declined")"""
    outcomes.expect_rejected(context.shop.order_of(whose), reason, detail)


@then('{whose:Whose} order is held for review because "{reason}"')
def step_order_held(context, whose, reason):
    """Example: Then her order is held for review because "amount over review threshold\""""
    outcomes.expect_held(context.shop.order_of(whose), reason)


@then("{whose:Whose} card is charged {amount:Money}")
def step_card_charged(context, whose, amount):
    """Example: Then her card is charged 25.00 EUR

    Exactly one payment of the order was captured, for exactly this amount.
    """
    order = context.shop.order_of(whose)
    outcomes.expect_charged(order, context.shop.payments(order), amount)


@then("nothing is charged to {whose:Whose} card")
def step_nothing_charged(context, whose):
    """Example: Then nothing is charged to her card

    No payment of the order was captured; for a rejected order, none is left authorised either.
    """
    order = context.shop.order_of(whose)
    outcomes.expect_nothing_charged(order, context.shop.payments(order))


@when("{person:Person} looks up {whose:Whose} order")
def step_look_up(context, person, whose):
    """Example: When Alice looks up Bob's order"""
    context.shop.look_up(person, context.shop.order_of(whose))


@when("{person:Person} lists {pronoun:w} orders")
def step_list_orders(context, person, pronoun):
    """Example: When Alice lists her orders"""
    context.shop.list_orders(person)


@then("{who:Who} is told there is no such order")
def step_no_such_order(context, who):
    """Example: Then she is told there is no such order"""
    outcomes.expect_not_found(context.shop.last_answer, context.shop.person(who))


@then("{who:Who} sees only {pronoun:w} own orders")
def step_sees_own_orders(context, who, pronoun):
    """Example: Then she sees only her own orders

    Every order listed is hers, and every order she placed in the scenario is listed.
    """
    person = context.shop.person(who)
    outcomes.expect_only_own_orders(context.shop.last_answer, person, context.names.customer(person),
                                    [o.id for o in context.shop.orders.get(person, []) if o.id])


@then("{who:Who} is refused because only store staff may do that")
def step_refused_staff_only(context, who):
    """Example: Then she is refused because only store staff may do that"""
    outcomes.expect_forbidden(context.shop.last_answer, context.shop.person(who))


@given('a new test card number is remembered as "{name}"')
def step_remember_card(context, name):
    """Example: Given a new test card number is remembered as "card"

    For the generic steps: a Luhn-valid card number no other scenario uses (so fraud's velocity
    rule never counts another scenario's payments), usable as {card} in later steps.
    """
    context.variables.remember(name, cards.card_number())


@then("{who:Who} is answered within {seconds:Seconds}")
def step_answered_within(context, who, seconds):
    """Example: Then she is answered within 7 seconds

    Her latest order's answer took at most that long, whatever it was.
    """
    outcomes.expect_answered_within(context.shop.order_of(who), seconds)
