"""Outages: the shop's systems go down, crash, slow down or lose each other, and the shop copes.

Systems are named as in the shop's description: the orders, inventory, payments and fraud
systems, the message broker and the shop's database. Whatever a scenario breaks is repaired
when it ends (whatever happened), and every system must be ready again before the next
scenario; tag such scenarios @disruptive. "into the rush" means during the scenario's crowd step.
"""

from behave import given, register_type, when
from parse import with_pattern

from crucible.stack import faults
from crucible.vocabulary import preflight
from crucible.vocabulary.load import checks, runner
from crucible.vocabulary.messaging import broker_service
from crucible.vocabulary.preflight import checked
from retail import wording

register_type(**wording.TYPES)
DATABASE = "postgres"


@with_pattern(r"orders|inventory|payments|fraud")
def system(text: str) -> str:
    """``payments`` -> the payments service."""
    return text


register_type(System=system)


@given("the message broker is down")
def step_broker_down(context):
    """Example: Given the message broker is down"""
    faults.for_scenario(context).stop(broker_service(context.stack, context.settings))


@when("the message broker comes back")
def step_broker_back(context):
    """Example: When the message broker comes back

    Waits until the broker accepts connections again.
    """
    faults.for_scenario(context).bring_back(broker_service(context.stack, context.settings))


@given("the message broker restarts {seconds:Seconds} into the rush")
def step_broker_restarts_during(context, seconds):
    """Example: Given the message broker restarts 1 second into the rush"""
    broker, scenario_faults = broker_service(context.stack, context.settings), faults.for_scenario(context)
    runner.plan_during_load(context, seconds, "the message broker restarts", lambda: scenario_faults.restart(broker))


@when("the {service:w} service restarts")
def step_service_restarts(context, service):
    """Example: When the orders service restarts

    Stops the service and starts it again, waiting until it is ready.
    """
    faults.for_scenario(context).restart(service)


@given("the {service:System} system is down")
@checked(lambda scope, service: preflight.service(scope, service))
def step_system_down(context, service):
    """Example: Given the payments system is down"""
    faults.for_scenario(context).stop(service)


@given("the {service:System} system has crashed")
@checked(lambda scope, service: preflight.service(scope, service))
def step_system_crashed(context, service):
    """Example: Given the payments system has crashed

    Its processes were killed at once, without a chance to finish what they were doing.
    """
    faults.for_scenario(context).kill(service)


@given("the fraud check answers {seconds:Seconds} late")
def step_fraud_late(context, seconds):
    """Example: Given the fraud check answers 8 seconds late

    Every answer of the fraud system to the payments system is held that long.
    """
    faults.for_scenario(context).slow_link("payments", "fraud", seconds * 1000)


@given("the {client:System} system cannot reach the {server:System} system")
@checked(lambda scope, client, server: checks.link(scope, client, server))
def step_partition(context, client, server):
    """Example: Given the orders system cannot reach the inventory system

    Every connection the first opens to the second is dropped; both keep serving everyone else.
    """
    faults.for_scenario(context).cut_link(client, server)


@given("the shop's database has restarted")
def step_database_restarted(context):
    """Example: Given the shop's database has restarted

    The database is stopped and started again; then every system must be ready again.
    """
    faults.for_scenario(context).restart_shared(DATABASE)
