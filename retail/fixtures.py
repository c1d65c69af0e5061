"""The retail platform's scenario scope: unique names for people, stores and products, and the shop."""

from behave import fixture

from retail.shop import Names, Shop


@fixture
def shop_scope(context, scenario):
    """Each scenario's people, stores and products behind unique ids, and the shop they act in."""
    context.names = Names(context.uid)
    context.shop = Shop(context.http, context.names, tokens=context.auth.token)
    yield
