"""Security: who may do what, hostile input, another subject's data, where secrets go, what is exposed.

The checks read each service's OpenAPI document (where `[services.NAME] openapi` says, as the contract
checks do): each operation lists the roles that may call it in `x-roles`; `security: []` makes it public.
Tokens are signed as `[auth]` says (`auth.scheme = "jwt"`). Each check attaches its whole table to
the report and fails naming every call that disagrees. An unknown service, or one the settings give
no document, stops the run before anything starts; so do an operation the document does not have and
a role it never names when the document is a file (a document the service serves is read when the
stack is up, and each scenario checks the same before its first step).
"""

from behave import then

from crucible.vocabulary.preflight import checked
from crucible.vocabulary.security import checks, contract
from crucible.vocabulary.variables import templated


@then('every "{service}" operation admits only the roles its contract names')
@checked(contract.vet)
@templated
def step_every_operation_roles(context, service):
    """Example: Then every "orders" operation admits only the roles its contract names

    Every operation is called as every role (the settings' and the contract's) and with five broken
    tokens (none, expired, signed with another key, `alg: none`, a tampered claim). A role in
    `x-roles` must get past the role check (any answer but 401/403), any other role 403, every
    broken token 401. Requests carry made-up ids and no body, so nothing changes.
    """
    checks.who_may_do_what(context, service)


@then('the "{service}" operation "{operation}" admits only the roles its contract names')
@checked(contract.vet)
@templated
def step_operation_roles(context, service, operation):
    """Example: Then the "fraud" operation "POST /blocklist" admits only the roles its contract names

    The operation is its method and path as the document writes them, a path parameter in double braces
    (`"GET /orders/{{order_id}}"`, as single braces name a variable), or its operationId.
    """
    checks.who_may_do_what(context, service, operation=operation)


@then('every "{service}" operation refuses the role "{role}" unless its contract names it')
@checked(contract.vet)
@templated
def step_role_refused(context, service, role):
    """Example: Then every "inventory" operation refuses the role "customer" unless its contract names it

    The role must be one the contract names somewhere (a role it never mentions is a typo, not a test).
    """
    checks.who_may_do_what(context, service, role=role)


@then('every "{service}" operation handles hostile input harmlessly')
@checked(contract.vet)
@templated
def step_hostile_input(context, service):
    """Example: Then every "inventory" operation handles hostile input harmlessly

    Each string field (path, query and body) gets SQL injection, header injection, a path traversal,
    a 20,000-character string, a NUL byte and, in bodies, the wrong JSON types. No answer may be a
    5xx or show a stack trace or SQL; no injected header may come back; nothing of a refused request
    may be found in the service's database afterwards.
    """
    checks.hostile_input(context, service)


@then('the "{service}" operation "{operation}" handles hostile input harmlessly')
@checked(contract.vet)
@templated
def step_operation_hostile_input(context, service, operation):
    """Example: Then the "orders" operation "POST /orders" handles hostile input harmlessly

    The operation is named as in the step above: `"GET /orders/{{order_id}}"` or its operationId.
    """
    checks.hostile_input(context, service, operation=operation)


@then('the "{service}" service answers "{request}" as if "{name}" did not exist')
@checked(contract.vet)
@templated
def step_as_if_missing(context, service, request, name):
    """Example: Then the "orders" service answers "GET /orders/{order_id}" as if "order_id" did not exist

    Sent as the scenario's current caller, once with the remembered id and once with a made-up id of
    the same shape: neither may succeed, and both answers must be the same (status and body).
    """
    checks.as_if_missing(context, service, request, name)


@then("no card number or token appears where it does not belong")
@templated
def step_data_flow_audit(context):
    """Example: Then no card number or token appears where it does not belong

    Searches every answer the steps received since the stack came up, every event published on the
    settings' exchange, every service's whole log and every column of each service's database for
    full card numbers, JWTs, bearer tokens, passwords and the compose file's secret values
    (`security.audit_allow` names places that may hold them). The audit, with the stack's published
    ports, is attached to the report.
    """
    checks.data_flow_audit(context)


@then("every published port of the stack is on loopback only")
@templated
def step_exposure(context):
    """Example: Then every published port of the stack is on loopback only"""
    checks.exposure(context)
