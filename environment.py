"""behave hooks: a short list of fixtures; everything else lives in crucible/."""

from behave import use_fixture

from crucible.fixtures import crucible_stack, scenario_scope


def before_all(context):
    use_fixture(crucible_stack, context)


def before_scenario(context, scenario):
    use_fixture(scenario_scope, context, scenario)
