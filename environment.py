"""behave hooks: a short list of fixtures; everything else lives in crucible/."""

from behave import use_fixture

from crucible.fixtures import crucible_stack, feature_scope, scenario_scope, step_finished


def before_all(context):
    use_fixture(crucible_stack, context)


def before_feature(context, feature):
    use_fixture(feature_scope, context, feature)


def before_scenario(context, scenario):
    use_fixture(scenario_scope, context, scenario)


def after_step(context, step):
    step_finished(context, step)
