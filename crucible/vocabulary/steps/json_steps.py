r"""JSON: check the last response's body as a whole or at a JSON path, and remember values from it.

Expected JSON is written as JSON. Any string in it may be a *marker* matching a kind of value:
`"@any@"`, `"@string@"`, `"@number@"`, `"@integer@"`, `"@boolean@"`, `"@array@"`, `"@object@"`,
`"@null@"`, `"@notnull@"`, `"@uuid@"`, `"@datetime@"` (ISO-8601 date-time), `"@date@"`
(ISO-8601 date) and `"@regex(^A.*)@"` (a string in which the regular expression finds a match;
in JSON a backslash is written twice: `"@regex(^\\d+$)@"`).

"matches" ignores object fields the expected JSON does not list; "is" does not. Arrays match
item by item and must have the same length; "contains" finds items anywhere in an array.
Paths are JSONPath: `$.items[0].sku`, `$.items[*].sku` (all values, as an array); `$.` may be
left out. A failure names the JSON path, the expected and the actual value, e.g.
`$.items[0].quantity: expected 2 but was 3`.
"""

from behave import register_type, step, then
from hamcrest import has_length

from crucible.vocabulary.matchers import at_json_path, contains_json, equals_json, marker, matches_json, value_at
from crucible.vocabulary.variables import docstring_json, json_kind, json_literal, literal_json, templated

register_type(JSON=json_literal, Kind=json_kind)


@then("the response JSON matches:")
@templated
def step_json_matches(context):
    """Example: Then the response JSON matches:
        {"id": "@uuid@", "status": "confirmed", "items": [{"sku": "{sku}", "quantity": 2}]}

    Fields the response has and the docstring does not list are ignored.
    """
    context.rest.expect_json(matches_json(docstring_json(context)))


@then("the response JSON is:")
@templated
def step_json_is(context):
    """Example: Then the response JSON is:
        {"store": "{store}", "sku": "{sku}", "quantity": 5}

    Every field must be listed: an extra field fails.
    """
    context.rest.expect_json(equals_json(docstring_json(context)))


@then('the response JSON at "{path}" matches:')
@templated
def step_json_at_matches(context, path):
    """Example: Then the response JSON at "$.items[0]" matches:
        {"sku": "{sku}", "quantity": 2}
    """
    context.rest.expect_json(at_json_path(path, matches_json(docstring_json(context))))


# Registered before the `is {value:JSON}` form, which would otherwise be found ambiguous.
@then('the response JSON at "{path}" is {kind:Kind}')
@templated
def step_json_at_kind(context, path, kind):
    """Example: Then the response JSON at "$.id" is a uuid

    Kinds: a string, a number, an integer, a boolean, an array, an object, a uuid, a datetime, a date.
    """
    context.rest.expect_json(at_json_path(path, marker(f"@{kind}@")))


@then('the response JSON at "{path}" is {value:JSON}')
@templated
def step_json_at_is(context, path, value):
    """Example: Then the response JSON at "$.status" is "confirmed"

    The value is written as JSON (`"text"`, `5`, `true`, `null`, `{"a": 1}`) and may be a marker.
    """
    context.rest.expect_json(at_json_path(path, equals_json(literal_json(value, context))))


@then('the response JSON at "{path}" contains:')
@templated
def step_json_at_contains_doc(context, path):
    """Example: Then the response JSON at "$.items" contains:
        [{"sku": "{sku}", "quantity": 2}]

    An array must have an item matching each item given, in any order; an object the fields given.
    """
    context.rest.expect_json(at_json_path(path, contains_json(docstring_json(context))))


@then('the response JSON at "{path}" contains {value:JSON}')
@templated
def step_json_at_contains(context, path, value):
    """Example: Then the response JSON at "$.reason" contains "stock"

    A string must contain the text; an array must have an item matching the value.
    """
    context.rest.expect_json(at_json_path(path, contains_json(literal_json(value, context))))


@then('the response JSON at "{path}" has {count:d} items')
@then('the response JSON at "{path}" has {count:d} item')
@templated
def step_json_at_length(context, path, count):
    """Example: Then the response JSON at "$.items" has 1 item

    Counts the items of an array, the fields of an object or the characters of a string.
    """
    context.rest.expect_json(at_json_path(path, has_length(count)))


@step('I remember the response JSON at "{path}" as "{name}"')
@templated
def step_remember_json(context, path, name):
    """Example: When I remember the response JSON at "$.id" as "order_id" """
    context.variables.remember(name, value_at(context.rest.json(), path))
