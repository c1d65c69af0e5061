"""Stack: the services of the stack as the engine sees them.

A service is named as in the compose file. "Running" means its container runs and, when it has a
healthcheck, that check passes now.
"""

from behave import then

from crucible.stack import readiness
from crucible.vocabulary.preflight import checked, service_argument
from crucible.vocabulary.variables import templated


@then("every service of the stack is running")
@templated
def step_every_service_running(context):
    """Example: Then every service of the stack is running"""
    readiness.expect_running(context.stack, sorted(context.stack.running))


@then('the "{service}" service is running')
@checked(service_argument)
@templated
def step_service_running(context, service):
    """Example: Then the "orders" service is running"""
    readiness.expect_running(context.stack, [service])
