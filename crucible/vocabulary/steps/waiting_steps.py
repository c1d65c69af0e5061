"""Waiting: expectations that become true eventually, or stay true for a while, checked again and again.

"within N seconds" repeats the request or query every 0.2 seconds until the expectation holds,
at most N seconds (N up to 300). When it gives up, the failure says how long and how often it
tried, the last failure and the last value seen. "for N seconds" repeats it for N seconds and
fails at the first response that breaks the expectation, saying when. The last response becomes
"the response" for the steps that follow.
"""

from behave import then

from crucible.vocabulary import database
from crucible.vocabulary.matchers import matches_json
from crucible.vocabulary.rest import json_satisfies, status_is
from crucible.vocabulary.preflight import checked, service_argument
from crucible.vocabulary.variables import docstring_json, templated


@then('within {seconds:g} seconds a {method:w} request to "{service}" at "{path}" returns status {status:d}')
@checked(service_argument)
@templated
def step_within_status(context, seconds, method, service, path, status):
    """Example: Then within 5 seconds a GET request to "orders" at "/orders/{order_id}" returns status 200"""
    context.rest.poll(method, service, path, status_is(status), seconds)


@then('within {seconds:g} seconds a {method:w} request to "{service}" at "{path}" returns JSON matching:')
@checked(service_argument)
@templated
def step_within_json(context, seconds, method, service, path):
    """Example: Then within 5 seconds a GET request to "inventory" at "/stock/{store}/{sku}" returns JSON matching:
        {"quantity": 3}

    Fields the response has and the docstring does not list are ignored; markers work as in the JSON steps.
    """
    context.rest.poll(method, service, path, json_satisfies(matches_json(docstring_json(context))), seconds)


@then('for {seconds:g} seconds a {method:w} request to "{service}" at "{path}" keeps returning JSON matching:')
@checked(service_argument)
@templated
def step_for_json(context, seconds, method, service, path):
    """Example: Then for 2 seconds a GET request to "inventory" at "/stock/{store}/{sku}" keeps returning JSON matching:
        {"quantity": 3}

    Every response within that time must match; markers work as in the JSON steps.
    """
    context.rest.hold(method, service, path, json_satisfies(matches_json(docstring_json(context))), seconds)


@then('within {seconds:g} seconds the "{service}" database query "{sql}" returns:')
@checked(service_argument)
@templated
def step_within_query(context, seconds, service, sql):
    """Example: Then within 5 seconds the "inventory" database query "SELECT quantity FROM stock WHERE store = '{store}'" returns:
        | quantity |
        | 3        |
    """
    database.poll_rows(context.stack, context.settings, service, sql, context.table.headings,
                       [row.cells for row in context.table.rows], seconds)
