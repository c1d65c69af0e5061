"""behave hooks of the reference suite: Crucible's generic hooks, plus the shop for each scenario."""

from behave import use_fixture

from crucible.hooks import after_step, before_all, before_feature  # noqa: F401
from crucible.hooks import before_scenario as crucible_scenario
from retail.fixtures import shop_scope


def before_scenario(context, scenario):
    crucible_scenario(context, scenario)
    use_fixture(shop_scope, context, scenario)
