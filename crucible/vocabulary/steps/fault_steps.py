"""Faults: services that stop, crash, freeze, restart or fall off the network; links that slow down or drop,
or hold calls and let them go together to make a race happen on purpose.

A service is named as in the compose file. "stopped" is the engine's stop (SIGTERM, then
SIGKILL), "killed" a crash (SIGKILL), "paused" a freeze (its processes get no CPU; calls to it
hang until their timeout), "disconnected from the network" a partition (nothing reaches it, it
reaches nothing). A link is one service's calls to another, as its environment in the compose file
names the other's address (`FRAUD_URL: http://fraud:8000` makes a link from payments to fraud):
its calls pass through a proxy that holds each answer for a latency, or drops the connections, or
holds the next calls until all of them wait and then lets them go on at the same moment; no other
service's calls are touched, and the compose file is not edited.

A race made on purpose: two requests that must not both do something (refund, book, charge) race
only if both are inside the window at once, and on a busy machine two requests sent together
often are not. Holding the calls they make to the next service until both wait there puts both
inside the window every time:

    Given the next 2 calls from "orders" to "payments" are held and let go together
    When I send a POST request to "orders" at "/orders/{order}/returns" 2 times at the same moment with JSON:
      \"\"\"
      {"store": "north-{uid}", "items": [{"sku": "mug-{uid}", "quantity": 2}]}
      \"\"\"
    Then the 2 calls from "orders" to "payments" went on together
    And every response status is 201

The wait is bounded by `faults.gather_timeout` (5 s; keep it below the calling service's own
timeout for those calls): after it the calls held so far go on, and the check step fails.

Whatever a scenario did is undone when it ends, also when it failed: services are started,
resumed and reconnected, links healed and their proxies removed, and every service must pass its
readiness check again before the next scenario starts. Tag such scenarios `@disruptive`, so they
can be run apart (and never alongside other scenarios). A fault "N seconds into the load" happens
during the scenario's next load step, while its requests are under way.
"""

from behave import register_type, step
from parse import with_pattern

from crucible.stack import faults
from crucible.vocabulary.load import checks, runner
from crucible.vocabulary.preflight import checked
from crucible.vocabulary.variables import templated

ACTIONS = {"is stopped": "stop", "is killed": "kill", "is paused": "pause", "restarts": "restart",
           "is disconnected from the network": "disconnect", "comes back": "bring_back"}


@with_pattern("|".join(ACTIONS))
def fault_action(text: str) -> str:
    """``is killed`` -> ``kill``."""
    return ACTIONS[text]


register_type(FaultAction=fault_action)


@step('the "{service}" service is stopped')
@checked(checks.service)
@templated
def step_stopped(context, service):
    """Example: Given the "payments" service is stopped"""
    faults.for_scenario(context).stop(service)


@step('the "{service}" service is killed')
@checked(checks.service)
@templated
def step_killed(context, service):
    """Example: Given the "payments" service is killed"""
    faults.for_scenario(context).kill(service)


@step('the "{service}" service is paused')
@checked(checks.service)
@templated
def step_paused(context, service):
    """Example: Given the "fraud" service is paused

    Frozen: it keeps its connections but answers nothing until it comes back.
    """
    faults.for_scenario(context).pause(service)


@step('the "{service}" service restarts')
@checked(checks.service)
@templated
def step_restarts(context, service):
    """Example: When the "orders" service restarts

    Stops the service and starts it again, waiting until it is ready.
    """
    faults.for_scenario(context).restart(service)


@step('the "{service}" service is disconnected from the network')
@checked(checks.service)
@templated
def step_disconnected(context, service):
    """Example: Given the "inventory" service is disconnected from the network"""
    faults.for_scenario(context).disconnect(service)


@step('the "{service}" service comes back')
@checked(checks.service)
@templated
def step_comes_back(context, service):
    """Example: When the "payments" service comes back

    Started, resumed or reconnected, whichever undoes what was done to it; waits until it is ready.
    """
    faults.for_scenario(context).bring_back(service)


@step('the "{service}" service {action:FaultAction} {seconds:g} seconds into the load')
@checked(checks.service)
@templated
def step_fault_during_load(context, service, action, seconds):
    """Example: Given the "rabbitmq" service restarts 2 seconds into the load

    Also: is stopped, is killed, is paused, is disconnected from the network, comes back.
    """
    scenario_faults = faults.for_scenario(context)
    runner.plan_during_load(context, seconds, f"{service} {action}", lambda: getattr(scenario_faults, action)(service))


@step('the calls from "{client}" to "{server}" are slowed down by {ms:g} ms')
@checked(checks.link)
@templated
def step_link_slow(context, client, server, ms):
    """Example: Given the calls from "payments" to "fraud" are slowed down by 6000 ms

    Each answer of the second service to the first is held that long.
    """
    faults.for_scenario(context).slow_link(client, server, ms)


@step('the calls from "{client}" to "{server}" are dropped')
@checked(checks.link)
@templated
def step_link_dropped(context, client, server):
    """Example: Given the calls from "orders" to "inventory" are dropped

    Every connection the first service opens to the second is cut at once (open ones too).
    """
    faults.for_scenario(context).cut_link(client, server)


@step('the calls from "{client}" to "{server}" are back to normal')
@checked(checks.link)
@templated
def step_link_healed(context, client, server):
    """Example: When the calls from "orders" to "inventory" are back to normal"""
    faults.for_scenario(context).heal_link(client, server)


@step('the next {calls:d} calls from "{client}" to "{server}" are held and let go together')
@checked(checks.gathering)
@templated
def step_link_gathers(context, calls, client, server):
    """Example: Given the next 2 calls from "orders" to "payments" are held and let go together

    Each call waits at the link until all of them wait, then they go on at the same moment: a race
    between them happens on purpose, whatever the machine's load. Once only; the wait is bounded by
    the setting faults.gather_timeout (5 s), then the calls held so far go on.
    """
    faults.for_scenario(context).gather_link(client, server, calls, context.settings["faults.gather_timeout"])


@step('the {calls:d} calls from "{client}" to "{server}" went on together')
@checked(checks.gathering)
@templated
def step_link_gathered(context, calls, client, server):
    """Example: Then the 2 calls from "orders" to "payments" went on together

    Fails when fewer calls came before the bound: the race the scenario set up did not happen.
    """
    faults.for_scenario(context).expect_gathered(client, server, calls)
