"""behave hooks for a project that uses Crucible's generic vocabulary.

A team's ``environment.py`` is one line, ``from crucible.hooks import *``: the stack comes up before
the first feature, each scenario gets its own id, recorded HTTP clients and variables, and a failed
step gets its evidence attached. A project with fixtures of its own calls these from its hooks.
"""

from behave import use_fixture

from crucible.fixtures import crucible_stack, feature_scope, scenario_scope, step_finished

__all__ = ["before_all", "before_feature", "before_scenario", "after_step"]


def before_all(context):
    """Bring the stack up (removed again after the last feature)."""
    use_fixture(crucible_stack, context)


def before_feature(context, feature):
    """Opt-in retries of failed scenarios."""
    use_fixture(feature_scope, context, feature)


def before_scenario(context, scenario):
    """A fresh scope for each scenario."""
    use_fixture(scenario_scope, context, scenario)


def after_step(context, step):
    """Attach a failed step's evidence; stop the run if the engine is gone."""
    step_finished(context, step)
