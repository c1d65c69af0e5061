"""Outages: the message broker or a service of the shop goes down, and comes back.

Services are named as in the system's description: orders, inventory, payments, fraud. A
service taken down in a scenario is brought back when the scenario ends, whatever happened.
"""

from behave import given, when

from crucible.stack import faults
from crucible.vocabulary.messaging import broker_service


@given("the message broker is down")
def step_broker_down(context):
    """Example: Given the message broker is down"""
    faults.take_down(context, broker_service(context.stack, context.settings))


@when("the message broker comes back")
def step_broker_back(context):
    """Example: When the message broker comes back

    Waits until the broker accepts connections again.
    """
    faults.bring_back(context.stack, broker_service(context.stack, context.settings))


@when("the {service:w} service restarts")
def step_service_restarts(context, service):
    """Example: When the orders service restarts

    Stops the service and starts it again, waiting until it is ready.
    """
    faults.restart(context.stack, service)
