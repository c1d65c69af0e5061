r"""Variables: name values once, use them as {name} in any later step of the scenario.

Every generic step expands placeholders in its arguments, table cells and docstring before it
runs: `{name}` is a remembered value (strings are inserted as they are, anything else as JSON),
`{uid}` and `{unique}` are the scenario's unique id, `{now}`, `{now+5m}`, `{now-1d}` are the
current time plus or minus seconds (`s`), minutes (`m`), hours (`h`) or days (`d`) as ISO-8601
UTC (`2030-01-31T09:30:00Z`), and `{{name}}` is the literal text `{name}`. Braces around anything
that is not a name (`{"a": 1}`, `\d{3}`) are left alone. A name that is not set stops the step
as broken, naming the variable, the step and the variables that are set.
"""

from behave import given, register_type

from crucible.vocabulary.variables import json_literal, literal_json, table_pairs, templated

register_type(JSON=json_literal)


@given('the variable "{name}" is {value:JSON}')
@templated
def step_set_variable(context, name, value):
    """Example: Given the variable "store" is "north-{uid}"

    The value is written as JSON: `"text"`, `5`, `true`, `null`, `[1, 2]`, `{"a": 1}`.
    """
    context.variables.remember(name, literal_json(value, context))


@given("the variables are:")
@templated
def step_set_variables(context):
    """Example: Given the variables are:
        | name  | value          |
        | store | north-{uid}    |
        | sku   | blue-mug-{uid} |

    Each value is kept as text.
    """
    for name, value in table_pairs(context, "variables").items():
        context.variables.remember(name, value)
