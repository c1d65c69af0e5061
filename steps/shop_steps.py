"""Steps in the shop's business language: stores, stock and orders."""

from behave import given, then, when

from crucible import shop


@given('the "{store}" store has {quantity:d} "{product}" in stock')
def step_store_has_stock(context, store, quantity, product):
    """Example: Given the "North" store has 5 "Blue Mug" in stock"""
    context.shop.set_stock(store, product, quantity)


@when('{person} orders {quantity:d} "{product}" from the "{store}" store')
def step_person_orders(context, person, quantity, product, store):
    """Example: When Alice orders 2 "Blue Mug" from the "North" store"""
    context.shop.place_order(person, store, [(product, quantity)])


@then("{pronoun:w} order is confirmed")
def step_order_confirmed(context, pronoun):
    """Example: Then her order is confirmed"""
    shop.expect_confirmed(context.shop.last_order())


@then('{pronoun:w} order is rejected because "{reason}"')
def step_order_rejected(context, pronoun, reason):
    """Example: Then his order is rejected because "not enough stock\""""
    shop.expect_rejected(context.shop.last_order(), reason)


@then('the "{store}" store has {quantity:d} "{product}" left')
def step_store_has_left(context, store, quantity, product):
    """Example: Then the "North" store has 3 "Blue Mug" left"""
    shop.expect_stock(context.shop.stock(store, product), quantity, store, product)
