"""HTTP: call any service of the stack by its compose name, check the status and headers.

The service name is the one in the compose file (`orders`, `inventory`); the path is relative to
the port the settings name (`[services.NAME] port = 15672`), else the service's first published
port in the compose file's order. Every request carries the scenario's `X-Request-ID` and is
attached to the report. The response becomes "the response" that the following `Then` steps and
the JSON steps check. Supported methods: GET, POST, PUT, PATCH, DELETE.
"""

from behave import given, step, then
from hamcrest import contains_string

from crucible.vocabulary.matchers import expected_value
from crucible.vocabulary.preflight import checked, service_argument
from crucible.vocabulary.variables import docstring_json, table_pairs, templated


@given('the request header "{name}" is "{value}"')
@templated
def step_request_header(context, name, value):
    """Example: Given the request header "Authorization" is "Bearer {token}"

    Sent with every following request of the scenario.
    """
    context.rest.set_header(name, value)


@given("the request headers are:")
@templated
def step_request_headers(context):
    """Example: Given the request headers are:
        | name            | value          |
        | Accept-Language | en             |
        | Authorization   | Bearer {token} |

    Sent with every following request of the scenario.
    """
    for name, value in table_pairs(context, "headers").items():
        context.rest.set_header(name, value)


@step('I send a {method:w} request to "{service}" at "{path}"')
@checked(service_argument)
@templated
def step_send(context, method, service, path):
    """Example: When I send a GET request to "inventory" at "/stock/{store}/{sku}" """
    context.rest.send(method, service, path)


@step('I send a {method:w} request to "{service}" at "{path}" with JSON:')
@checked(service_argument)
@templated
def step_send_json(context, method, service, path):
    """Example: When I send a PUT request to "inventory" at "/stock/{store}/{sku}" with JSON:
        {"quantity": 5}
    """
    context.rest.send(method, service, path, body=docstring_json(context))


@step('I send a {method:w} request to "{service}" at "{path}" with the body:')
@checked(service_argument)
@templated
def step_send_raw(context, method, service, path):
    """Example: When I send a POST request to "orders" at "/orders" with the body:
        {"customer": "alice", "items": [
    """
    context.rest.send(method, service, path, raw=context.text)


@step('I send a {method:w} request to "{service}" at "{path}" with query parameters:')
@checked(service_argument)
@templated
def step_send_query(context, method, service, path):
    """Example: When I send a GET request to "orders" at "/orders" with query parameters:
        | name     | value         |
        | customer | alice-{uid}   |
    """
    context.rest.send(method, service, path, params=table_pairs(context, "query parameters"))


@step('I send a {method:w} request to "{service}" at "{path}" {times:d} times at the same moment')
@checked(service_argument)
@templated
def step_send_at_once(context, method, service, path, times):
    """Example: When I send a DELETE request to "orders" at "/orders/{id}" 2 times at the same moment

    Each from its own connection, released together; the last to arrive becomes the response. To be
    sure they race inside the service, hold the calls it makes next (see "the next N calls from ...
    are held and let go together").
    """
    context.rest.send_at_once(method, service, path, times)


@step('I send a {method:w} request to "{service}" at "{path}" {times:d} times at the same moment with JSON:')
@checked(service_argument)
@templated
def step_send_json_at_once(context, method, service, path, times):
    """Example: When I send a POST request to "orders" at "/orders/{id}/returns" 2 times at the same moment with JSON:
        {"store": "north", "items": [{"sku": "mug", "quantity": 1}]}
    """
    context.rest.send_at_once(method, service, path, times, body=docstring_json(context))


@then("the response status is {status:d}")
@templated
def step_status(context, status):
    """Example: Then the response status is 201"""
    context.rest.expect_status(status)


@then("every response status is {status:d}")
@templated
def step_every_status(context, status):
    """Example: Then every response status is 201

    Each response of the requests sent at the same moment.
    """
    context.rest.expect_every_status(status)


@then('the response header "{name}" is "{value}"')
@templated
def step_header_is(context, name, value):
    """Example: Then the response header "Content-Type" is "application/json"

    The value may be a marker, e.g. `"@regex(^crucible-)@"` (see the JSON steps).
    """
    context.rest.expect_header(name, expected_value(value))


@then('the response header "{name}" contains "{text}"')
@templated
def step_header_contains(context, name, text):
    """Example: Then the response header "X-Request-ID" contains "crucible-" """
    context.rest.expect_header(name, contains_string(text))


@step('I remember the response header "{name}" as "{variable}"')
@templated
def step_remember_header(context, name, variable):
    """Example: When I remember the response header "X-Request-ID" as "request_id" """
    context.variables.remember(variable, context.rest.header(name))


@step('I am authenticated as "{subject}" with the role "{role}"')
@templated
def step_authenticated(context, subject, role):
    """Example: Given I am authenticated as "sam-{uid}" with the role "staff"

    Signs a token with the stack's JWT secret, sends it as `Authorization: Bearer ...` with every
    following request, and remembers it as the variable `token`.
    """
    context.variables.remember("token", context.rest.authenticate(subject, role))
