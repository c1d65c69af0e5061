"""Privacy: a customer reaches only their own orders, returns and payments, and learns nothing of anyone else's.

"Learns nothing" means the shop gives the same answer as for something that does not exist: the
same request is asked again about a made-up order, payment or customer, and the two answers must
be the same.
"""

from behave import register_type, then, when

from retail import outcomes, wording

register_type(**wording.TYPES)


@when("{person:Person} looks up {whose:Whose} return")
def step_look_up_return(context, person, whose):
    """Example: When Alice looks up Bob's return

    A return is seen through its order: she asks for the order it belongs to.
    """
    context.shop.look_up(person, context.shop.return_of(whose).order, what="return")


@when('{person:Person} tries to return {whose:Whose} "{product}" to the "{store}" store')
def step_try_return(context, person, whose, product, store):
    """Example: When Alice tries to return Bob's "Blue Mug" to the "North" store"""
    context.shop.try_return(person, context.shop.order_of(whose), store, product, 1)


@when("{person:Person} looks up the payment for {whose:Whose} order")
def step_look_up_payment(context, person, whose):
    """Example: When Alice looks up the payment for Bob's order"""
    context.shop.look_up_payment(person, context.shop.order_of(whose))


@when("{person:Person} asks for {other:Person}'s list of orders")
def step_ask_for_list(context, person, other):
    """Example: When Alice asks for Bob's list of orders"""
    context.shop.list_orders_of(person, other)


@then("{who:Who} learns nothing about it: the shop answers as if it did not exist")
def step_learns_nothing(context, who):
    """Example: Then she learns nothing about it: the shop answers as if it did not exist

    The same request about a made-up id of the same shape gets the same status and body, and neither
    is a success.
    """
    outcomes.expect_learns_nothing(context.shop.last_answer, context.shop.person(who))
