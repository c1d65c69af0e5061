"""Hooks of the reliability test project: the real fixtures, plus a switch to make a hook fail."""

from behave import use_fixture

from crucible.fixtures import crucible_stack, feature_scope, scenario_scope, step_finished


def _maybe_fail(context, hook):
    if context.config.userdata.get("fail_in") == hook:
        raise RuntimeError(f"deliberate failure in {hook}")


def before_all(context):
    use_fixture(crucible_stack, context)
    _maybe_fail(context, "before_all")


def before_feature(context, feature):
    use_fixture(feature_scope, context, feature)


def before_scenario(context, scenario):
    use_fixture(scenario_scope, context, scenario)
    _maybe_fail(context, "before_scenario")


def after_scenario(context, scenario):
    _maybe_fail(context, "after_scenario")


def after_step(context, step):
    step_finished(context, step)
