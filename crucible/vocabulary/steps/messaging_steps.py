"""Messages: listen for domain events before an action, then expect one within a bound.

`I listen for "stock.changed" events` binds an exclusive, auto-deleted queue to the topic
exchange the settings name (`[broker] exchange = "NAME"`; a step may name another) with that
binding key (`stock.*` and `#` work as in AMQP). An expected event is found by its routing key,
its AMQP `type` property or the `type` field of its JSON body; each event received satisfies one
expectation at most. The broker is the settings' `[broker] service`, else the one service of the
stack whose image names rabbitmq or that publishes 5672, on its published AMQP port, with the
user and password of its compose environment (`RABBITMQ_DEFAULT_USER`/`RABBITMQ_DEFAULT_PASS`
as the official image reads them, or `RABBITMQ_USER`/`RABBITMQ_PASS`; else `guest`/`guest`).
Every event received is attached to the report.
"""

from behave import given, step, then, when

from crucible.vocabulary import messaging
from crucible.vocabulary.matchers import matches_json, value_at
from crucible.vocabulary.preflight import checked
from crucible.vocabulary.settings_check import uses_broker
from crucible.vocabulary.variables import docstring_json, templated


@given('I listen for "{key}" events')
@checked(uses_broker)
@templated
def step_listen(context, key):
    """Example: Given I listen for "stock.changed" events"""
    messaging.for_scenario(context).listen(key)


@given('I listen for "{key}" events on the "{exchange}" exchange')
@checked(uses_broker)
@templated
def step_listen_on(context, key, exchange):
    """Example: Given I listen for "order.*" events on the "audit.events" exchange"""
    messaging.for_scenario(context).listen(key, exchange)


@when('I publish a "{key}" event with:')
@checked(uses_broker)
@templated
def step_publish(context, key):
    """Example: When I publish a "stock.received" event with:
        {"store": "{store}", "sku": "{sku}", "quantity": 4}

    Published as JSON to the default exchange with the scenario's correlation id.
    """
    messaging.for_scenario(context).publish(key, docstring_json(context))


@then('within {seconds:g} seconds a "{name}" event arrives matching:')
@templated
def step_event_matching(context, seconds, name):
    """Example: Then within 5 seconds a "stock.changed" event arrives matching:
        {"store": "{store}", "sku": "{sku}", "quantity": 3}

    Fields the event has and the docstring does not list are ignored; markers work as in the JSON steps.
    """
    messaging.for_scenario(context).expect(name, matches_json(docstring_json(context)), seconds)


@then('within {seconds:g} seconds a "{name}" event arrives')
@templated
def step_event_arrives(context, seconds, name):
    """Example: Then within 5 seconds a "order.confirmed" event arrives"""
    messaging.for_scenario(context).expect(name, None, seconds)


@then('no "{name}" event arrives within {seconds:g} seconds')
@templated
def step_no_event(context, name, seconds):
    """Example: Then no "order.confirmed" event arrives within 2 seconds"""
    messaging.for_scenario(context).expect_none(name, seconds)


@step('I remember the event JSON at "{path}" as "{name}"')
@templated
def step_remember_event(context, path, name):
    """Example: When I remember the event JSON at "$.reservation_id" as "reservation_id"

    Takes the value from the event the latest expectation found.
    """
    context.variables.remember(name, value_at(messaging.last_event(context).body, path))
