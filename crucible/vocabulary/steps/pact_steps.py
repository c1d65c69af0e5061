"""Pacts: consumer-driven contracts, written by the consumer in Gherkin and verified against the real provider.

A consumer scenario is one interaction of the pact `pacts/<consumer>-<provider>.json`; its name is the
interaction's description. It names the provider state it assumes, what the consumer sends and what
it relies on in the answer (a table of fields with a match each: `exactly`, `like this`, `each like`,
`any UUID`, `any datetime`, `any integer`, `matching <regex>` ...; or JSON with markers such as
`"@uuid@"` and `{"@each like": {...}}`). The scenario exercises the interaction against Pact's mock
server and fails when the committed pact file differs (`crucible pacts` rewrites the files). Values
that go into a pact must not change between runs: no `{uid}` or `{now}` in consumer scenarios.

A provider's verification replays the committed pacts against its running container, setting each
provider state up with the scenario of that name in `pacts/states/<provider>.feature`.
"""

from behave import given, then, when

from crucible.vocabulary.contracts import expectations, pacts, verification
from crucible.vocabulary.variables import table_pairs, templated


@given('"{consumer}" is a consumer of "{provider}"')
@templated
def step_consumer_of(context, consumer, provider):
    """Example: Given "orders" is a consumer of "inventory"

    Starts the interaction the scenario describes; its name becomes the interaction's description.
    """
    pacts.start(context, consumer, provider)


@given('"{consumer}" consumes messages from "{provider}"')
@templated
def step_consumes_messages(context, consumer, provider):
    """Example: Given "availability" consumes messages from "inventory" """
    pacts.start(context, consumer, provider, messages=True)


@given('the provider state "{state}"')
@templated
def step_provider_state(context, state):
    """Example: Given the provider state "no reservation exists" """
    pacts.expectation(context).given(state, {})


@given('the provider state "{state}" with:')
@templated
def step_provider_state_with(context, state):
    """Example: Given the provider state "a store has stock of a product" with:
        | name     | value    |
        | store    | north    |
        | quantity | 5        |

    Parameters are JSON when they read as JSON (`5`), else text; the provider's state scenario gets them as
    variables.
    """
    params = {name: expectations.cell(value) for name, value in table_pairs(context, "state parameters").items()}
    pacts.expectation(context).given(state, params)


@given('the provider state gives "{name}" like "{example}"')
@templated
def step_state_gives(context, name, example):
    """Example: Given the provider state gives "reservation_id" like "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"

    The consumer writes `{reservation_id}` where it sends that value; verification puts the provider's own in.
    """
    pacts.expectation(context).provides(name, example)
    context.variables.remember(name, example)


@given('the consumer sends the header "{name}" as "{value}"')
@templated
def step_consumer_header(context, name, value):
    """Example: Given the consumer sends the header "Idempotency-Key" as "order-1" """
    pacts.expectation(context).headers[name] = value


@when('the consumer sends a {method:w} request to "{path}"')
@templated
def step_consumer_sends(context, method, path):
    """Example: When the consumer sends a POST request to "/reservations/{reservation_id}/confirm" """
    pacts.expectation(context).sends(method, path)


@when('the consumer sends a {method:w} request to "{path}" with JSON:')
@templated
def step_consumer_sends_json(context, method, path):
    """Example: When the consumer sends a POST request to "/reservations" with JSON:
        {"order_id": "order-1", "store": "north", "items": [{"sku": "blue-mug", "quantity": 2}]}
    """
    pacts.expectation(context).sends(method, path, expectations.json_body(context))


@when('the consumer sends a {method:w} request to "{path}" with query parameters:')
@templated
def step_consumer_sends_query(context, method, path):
    """Example: When the consumer sends a GET request to "/payments" with query parameters:
        | name     | value   |
        | order_id | order-1 |
    """
    pacts.expectation(context).sends(method, path, query=table_pairs(context, "query parameters"))


@then("the provider answers {status:d}")
@templated
def step_provider_answers(context, status):
    """Example: Then the provider answers 204"""
    pacts.answered(context, status)


@then("the provider answers {status:d} with:")
@templated
def step_provider_answers_table(context, status):
    """Example: Then the provider answers 201 with:
        | field  | example                              | match    |
        | id     | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID |
        | status | reserved                             | exactly  |
    """
    pacts.answered(context, status, expectations.table_body(context))


@then("the provider answers {status:d} with JSON:")
@templated
def step_provider_answers_json(context, status):
    """Example: Then the provider answers 201 with JSON:
        {"id": "@uuid@", "status": "reserved", "items": {"@each like": {"sku": "blue-mug", "quantity": 2}}}
    """
    pacts.answered(context, status, expectations.json_body(context))


@when('the provider publishes a "{name}" message')
@templated
def step_provider_publishes(context, name):
    """Example: When the provider publishes a "stock.changed" message

    The message's routing key; verification takes the message the provider really published with it.
    """
    pacts.expectation(context).message = name


@then("the consumer receives it with:")
@templated
def step_consumer_receives(context):
    """Example: Then the consumer receives it with:
        | field         | example  | match     |
        | data.sku      | blue-mug | like this |
        | data.quantity | 5        | like this |
    """
    pacts.received(context, expectations.table_body(context))


@then("the consumer receives it with JSON:")
@templated
def step_consumer_receives_json(context):
    """Example: Then the consumer receives it with JSON:
        {"type": "stock.changed", "data": {"sku": "blue-mug", "quantity": {"@like": 5}}}
    """
    pacts.received(context, expectations.json_body(context))


@when('the pacts of "{provider}"\'s consumers are verified against it')
@templated
def step_verify_provider(context, provider):
    """Example: When the pacts of "inventory"'s consumers are verified against it

    Replays every committed pact that names the provider against its running container, with the
    scenario's standing headers (e.g. its token); each interaction's provider state is set up first.
    """
    verification.verify(context, provider)


@then("every interaction its consumers rely on is honoured")
@templated
def step_interactions_honoured(context):
    """Example: Then every interaction its consumers rely on is honoured"""
    verification.expect_honoured(context)

