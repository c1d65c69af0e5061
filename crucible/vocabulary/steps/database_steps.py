"""Database: a read-only SQL query on a service's own database, its rows compared with a table.

The database is found through the service's `DATABASE_URL` in the compose file; the query runs
in a READ ONLY transaction with a 5 second limit. A cell holds the text of a value (`5`, `true`,
`null` for NULL, ISO-8601 for timestamps) or a marker (`@uuid@`, `@datetime@`, `@regex(...)@`).
Only the columns the table names are compared; rows in order, so say `ORDER BY`.
"""

from behave import then

from crucible.vocabulary import database
from crucible.vocabulary.preflight import checked
from crucible.vocabulary.settings_check import uses_database
from crucible.vocabulary.variables import templated


@then('the "{service}" database query "{sql}" returns:')
@checked(uses_database)
@templated
def step_query_returns(context, service, sql):
    """Example: Then the "inventory" database query "SELECT sku, quantity FROM stock WHERE store = '{store}'" returns:
        | sku   | quantity |
        | {sku} | 3        |
    """
    rows = database.query_service(context.stack, context.settings, service, sql)
    database.expect_rows(rows, context.table.headings, [row.cells for row in context.table.rows], sql)


@then('the "{service}" database query "{sql}" returns no rows')
@checked(uses_database)
@templated
def step_query_returns_nothing(context, service, sql):
    """Example: Then the "orders" database query "SELECT id FROM orders WHERE customer = 'nobody-{uid}'" returns no rows"""
    database.expect_no_rows(database.query_service(context.stack, context.settings, service, sql), sql)
