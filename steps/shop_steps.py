"""Stores and stock: what each store has, deliveries, transfers, and chain-wide availability.

Store and product names are display names ("North", "Blue Mug"); each scenario gets its own
unique stores and products behind them. A product costs 10.00 EUR unless a step states its
price ("at 12.50 EUR", a price column, or '"Blue Mug" costs 12.50 EUR'). Setting stock,
deliveries and transfers are done by store staff.

The shop's steps (this section up to Outages) take plain words, not {variables}: `{person}` is
a name (Alice); `{whose}` is her, his, their or Alice's; `{who}` is she, he, they or Alice
(her, she ... mean the person the scenario last acted for); `{price}` and `{amount}` are money
such as 12.50 EUR; `{seconds}` is a duration such as 1 second or 2.5 seconds; `{quantity}` is
a whole number.
"""

from behave import given, register_type, then, when

from retail import outcomes, wording
from crucible.vocabulary import polling
from retail.money import Money

register_type(**wording.TYPES)


@given('the "{store}" store has {quantity:d} "{product}" in stock')
def step_store_has_stock(context, store, quantity, product):
    """Example: Given the "North" store has 5 "Blue Mug" in stock"""
    context.shop.set_stock(store, product, quantity)


@given('the "{store}" store has {quantity:d} "{product}" in stock at {price:Money}')
def step_store_has_stock_at(context, store, quantity, product, price):
    """Example: Given the "North" store has 5 "Blue Mug" in stock at 12.50 EUR"""
    context.shop.set_stock(store, product, quantity, price)


@given("the stores have:")
def step_stores_have(context):
    """Example: Given the stores have:
        | store | product  | quantity | price     |
        | North | Blue Mug | 5        | 12.50 EUR |
        | South | Blue Mug | 3        | 12.50 EUR |

    The price column is optional.
    """
    for row in wording.rows(context.table, "store", "product", "quantity", optional=("price",)):
        context.shop.set_stock(row["store"], row["product"], wording.quantity(row["quantity"]),
                               Money.parse(row["price"]) if row.get("price") else None)


@given('"{product}" costs {price:Money}')
def step_product_costs(context, product, price):
    """Example: Given "Blue Mug" costs 12.50 EUR"""
    context.shop.set_price(product, price)


@when('the "{store}" store receives a delivery of {quantity:d} "{product}"')
def step_delivery(context, store, quantity, product):
    """Example: When the "North" store receives a delivery of 4 "Blue Mug\""""
    context.shop.deliver(store, product, quantity)


@when('{quantity:d} "{product}" are moved from the "{source}" store to the "{target}" store')
def step_transfer(context, quantity, product, source, target):
    """Example: When 3 "Blue Mug" are moved from the "North" store to the "South" store"""
    context.shop.transfer(source, target, product, quantity)


@when('{quantity:d} "{product}" are put aside at the "{store}" store for {seconds:Seconds}')
def step_put_aside(context, quantity, product, store, seconds):
    """Example: When 2 "Blue Mug" are put aside at the "North" store for 1 second

    A reservation that nobody confirms: it expires after that time and the stock comes back.
    """
    context.shop.put_aside(store, product, quantity, seconds)


@when('{person:Person} tries to change the "{store}" store\'s stock of "{product}" to {quantity:d}')
def step_try_set_stock(context, person, store, product, quantity):
    """Example: When Alice tries to change the "North" store's stock of "Blue Mug" to 100"""
    context.shop.try_set_stock(person, store, product, quantity)


@then('the "{store}" store has {quantity:d} "{product}" left')
@then('the "{store}" store has {quantity:d} "{product}"')
@then('the "{store}" store still has {quantity:d} "{product}"')
def step_store_has(context, store, quantity, product):
    """Example: Then the "North" store has 3 "Blue Mug" left"""
    outcomes.expect_stock(context.shop.stock(store, product), quantity, store, product)


@then("the stores have:")
def step_stores_have_now(context):
    """Example: Then the stores have:
        | store | product  | quantity |
        | North | Blue Mug | 2        |
        | South | Blue Mug | 4        |
    """
    for row in wording.rows(context.table, "store", "product", "quantity"):
        outcomes.expect_stock(context.shop.stock(row["store"], row["product"]), wording.quantity(row["quantity"]),
                              row["store"], row["product"])


@then('for {seconds:Seconds} the "{store}" store still has {quantity:d} "{product}"')
def step_store_keeps(context, seconds, store, quantity, product):
    """Example: Then for 2 seconds the "North" store still has 3 "Blue Mug"

    The stock is read again and again for that long; it must have that level every time.
    """
    polling.throughout(lambda: context.shop.stock(store, product),
                       lambda found: outcomes.expect_stock(found, quantity, store, product), seconds)


@then('within {seconds:Seconds} the "{store}" store has {quantity:d} "{product}" again')
def step_store_has_again(context, seconds, store, quantity, product):
    """Example: Then within 3 seconds the "North" store has 5 "Blue Mug" again"""
    polling.eventually(lambda: context.shop.stock(store, product),
                       lambda found: outcomes.expect_stock(found, quantity, store, product), seconds)


@then('the transfer is refused because "{reason}"')
def step_transfer_refused(context, reason):
    """Example: Then the transfer is refused because "not enough stock\""""
    outcomes.expect_refused(context.shop.last_answer, reason)


@then('within {seconds:Seconds} the chain has {quantity:d} "{product}" available')
def step_chain_availability(context, seconds, quantity, product):
    """Example: Then within 1 second the chain has 6 "Blue Mug" available"""
    check = outcomes.availability_check(product, quantity, None, context.names.store)
    polling.eventually(lambda: context.shop.availability(product), check, seconds)


@then('within {seconds:Seconds} the chain has {quantity:d} "{product}" available:')
def step_chain_availability_by_store(context, seconds, quantity, product):
    """Example: Then within 1 second the chain has 6 "Blue Mug" available:
        | store | quantity |
        | North | 3        |
        | South | 3        |
    """
    stores = {row["store"]: wording.quantity(row["quantity"]) for row in wording.rows(context.table, "store", "quantity")}
    check = outcomes.availability_check(product, quantity, stores, context.names.store)
    polling.eventually(lambda: context.shop.availability(product), check, seconds)
