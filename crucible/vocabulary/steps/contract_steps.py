"""Contracts: what a service promises in its OpenAPI document, checked beyond the scenarios' own exchanges.

Every exchange any step makes is already checked against the document of the service that answered
(setting `services.NAME.openapi`; a scenario tagged `@no-contract-check` opts out). The step here
goes further: it generates requests from the document (schemathesis) and reports each way the service
breaks it, with the smallest reproducing request as a `curl` line and the service's log lines for it.
"""

from behave import then

from crucible.vocabulary.contracts import generated
from crucible.vocabulary.variables import templated


@then('the "{service}" API keeps its contract under {count:d} generated requests')
@templated
def step_generated_requests(context, service, count):
    """Example: Then the "payments" API keeps its contract under 200 generated requests

    Sends at most that many requests generated from the service's document, with the scenario's
    standing headers (e.g. its token), for at most `contracts.generated_max_time` seconds. Fails on
    a server error, an undocumented status, content type or header, or a body outside the document.
    """
    generated.expect_kept(context, service, count)
