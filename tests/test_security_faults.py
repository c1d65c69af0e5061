"""Planted faults are caught by the security checks, and the same checks pass on the reference stack.

The faults live in a patched copy of docker/ in a temporary folder, built as variant images
(``crucible-faults/<service>:$CRUCIBLE_IMAGE_TAG``, so the reference images are never touched) and
started as a stack of its own. The services themselves carry no switch for any of them:

* fraud lets customers block cards (``POST /blocklist`` admits ``customer``);
* orders shows any customer any order, with its returns (the ownership check is gone);
* inventory logs every caller's Authorization header (a token in the log);
* every service answers 500 to a string field over 10,000 characters (a RuntimeError instead of a 400).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from behave.parser import parse_feature
from variants import patched_docker

from crucible import secrets, settings
from crucible.errors import ServiceNotFound, TestDataError
from crucible.stack import session
from crucible.timings import Timings
from crucible.vocabulary.auth import Auth
from crucible.vocabulary import catalogue, preflight
from crucible.vocabulary.contracts import documents
from crucible.vocabulary.http import HttpClient
from crucible.vocabulary.security import access, hostile
from crucible.vocabulary.security.audit import Audit
from crucible.vocabulary.security.probe import Probe
from retail import outcomes
from retail.shop import Names, Shop

REPO = Path(__file__).resolve().parents[1]

FAULTS = {
    "fraud/app.py": [('@app.post("/blocklist")\n@roles("staff", "admin")',
                      '@app.post("/blocklist")\n@roles("staff", "admin", "customer")')],
    "orders/app.py": [('if row is None or (principal.role == "customer" and row["customer"] != principal.sub):',
                       'if row is None:')],
    "inventory/app.py": [("app = create_app(db, SPEC, readiness_checks=(relay.check, consumer.check))\n",
                          "app = create_app(db, SPEC, readiness_checks=(relay.check, consumer.check))\n\n\n"
                          "@app.before_request\ndef log_caller():\n    from flask import request\n"
                          "    log_event(logging.INFO, \"caller\", authorization=request.headers.get(\"Authorization\"))\n")],
    "common/service.py": [('        if "\\x00" in value or len(value) > 200:',
                           '        if len(value) > 10_000:\n            raise RuntimeError(f"{label} is too long")\n'
                           '        if "\\x00" in value or len(value) > 200:')],
}


def plant(folder: Path) -> Path:
    """The patched copy, its images renamed (crucible-faults/...) so the reference images stay as they are."""
    compose = patched_docker(folder / "docker", FAULTS)
    compose.write_text(compose.read_text(encoding="utf-8").replace("image: crucible/", "image: crucible-faults/"),
                       encoding="utf-8")
    return compose


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, engine_client):
    """A running stack of the patched copy: (stack, settings, project)."""
    compose = plant(tmp_path_factory.mktemp("faults"))
    reference = settings.load(start=REPO)
    options = settings.load(start=REPO, userdata={"compose": str(compose),
                                                  "project": f"{session.load_project(reference).name}-faults"})
    project = session.load_project(options)
    client, _ = session.prepare(project, Timings())
    stack = session.start(client, project, Timings())
    try:
        yield stack, options, project
    finally:
        stack.down()


def probe_of(stack, options, project) -> Probe:
    """The security checks' view of a stack (its OpenAPI documents read as a run reads them)."""
    uid = uuid.uuid4().hex[:8]
    return Probe(stack, options, Auth(options, project), f"crucible-faults-{uid}", uid, documents.load(options, stack))


def reference(reference_stack):
    """(stack, settings, project) of the session's reference stack."""
    options = settings.load(start=REPO)
    return reference_stack, options, reference_stack.project


def shop_on(stack, options, project) -> Shop:
    """The retail vocabulary against a stack, with unrecorded clients."""
    uid = uuid.uuid4().hex[:8]
    return Shop(lambda service: HttpClient(service, stack.url(service)), Names(uid), tokens=Auth(options, project).token)


# --- an operation admitting a role it should not --------------------------------------------

def test_an_operation_that_admits_a_role_it_should_not_is_caught(faulty):
    cells = access.matrix(probe_of(*faulty), "fraud")

    with pytest.raises(AssertionError) as failure:
        access.expect(cells, "fraud")

    assert [cell.problem() for cell in cells if not cell.ok] == [
        "POST /blocklist with customer: answered 400, but the contract says it must be refused with 403"]
    assert "1 of 93 calls disagree" in str(failure.value)


def test_the_reference_fraud_service_admits_only_its_contracts_roles(reference_stack):
    access.expect(access.matrix(probe_of(*reference(reference_stack)), "fraud"), "fraud")


# --- a customer reading another's return ----------------------------------------------------

def bobs_returned_order(stack, options, project) -> Shop:
    """Bob bought two mugs and returned one; Alice then looks up Bob's return."""
    shop = shop_on(stack, options, project)
    shop.set_stock("North", "Blue Mug", 5)
    shop.place_order("Bob", "North", [("Blue Mug", 2)])
    assert shop.return_items("Bob", "North", [("Blue Mug", 1)]).accepted
    shop.look_up("Alice", shop.order_of("Bob"), what="return")
    return shop


def test_a_customer_reading_anothers_return_is_caught(faulty):
    shop = bobs_returned_order(*faulty)

    with pytest.raises(AssertionError, match=r"expected Alice to get nothing of Bob's return, but the answer was 200"):
        outcomes.expect_learns_nothing(shop.last_answer, "Alice")

    assert shop.last_answer.body["returns"][0]["refund_cents"] == 1000  # she did see it


def test_on_the_reference_stack_a_customer_learns_nothing_of_anothers_return(reference_stack):
    shop = bobs_returned_order(*reference(reference_stack))

    outcomes.expect_learns_nothing(shop.last_answer, "Alice")


# --- a service logging a token -------------------------------------------------------------

def audited(stack, options, project) -> Audit:
    """A data-flow audit after one stock look-up (with a token) at inventory."""
    known = secrets.of_project(project, options)
    audit = Audit.start(stack, options, known)
    shop = shop_on(stack, options, project)
    shop.set_stock("North", "Blue Mug", 5)
    assert shop.stock("North", "Blue Mug") == 5
    audit.run(stack, options)
    if audit.tap is not None:
        audit.tap.remove()
    return audit


def test_a_service_that_logs_a_token_is_caught(faulty):
    audit = audited(*faulty)

    with pytest.raises(AssertionError) as failure:
        audit.expect_clean()

    message = str(failure.value)
    assert "a JWT (" in message and "in the log of inventory (line " in message
    assert "eyJ" not in message
    assert [finding.place for finding in audit.found if finding.place != "log of inventory"] == []


def test_on_the_reference_stack_no_service_logs_a_token(reference_stack):
    audited(*reference(reference_stack)).expect_clean()


# --- a 500 on an oversized field ------------------------------------------------------------

def test_a_500_on_an_oversized_field_is_caught(faulty):
    probe = probe_of(*faulty)
    attempts, searched = hostile.sweep(probe, "fraud", [probe.contract("fraud").operation("POST /blocklist")])

    with pytest.raises(AssertionError) as failure:
        hostile.expect(attempts, "fraud")

    wrong = {attempt.describe(): attempt.problems for attempt in attempts if attempt.problems}
    # card_number is checked by a pattern of its own (refused with 400); bin goes through the planted check.
    assert wrong == {"POST /blocklist with very long string in body bin -> 500": ["answered 500"]}
    assert "1 of 20 hostile requests did harm" in str(failure.value)
    assert searched.startswith("the database of 'fraud' was searched")


def test_on_the_reference_stack_oversized_fields_are_refused_with_400(reference_stack):
    probe = probe_of(*reference(reference_stack))
    attempts, _ = hostile.sweep(probe, "fraud", [probe.contract("fraud").operation("POST /blocklist")])

    hostile.expect(attempts, "fraud")
    assert {attempt.status for attempt in attempts if attempt.kind == "very long string"} == {400}


# --- bad input: stopped before anything is sent ---------------------------------------------

def test_an_unknown_service_operation_or_role_stops_before_any_request(reference_stack):
    stack, options, project = reference(reference_stack)
    probe = probe_of(stack, options, project)

    with pytest.raises(ServiceNotFound, match=r"no service 'ordres'"):
        probe.contract("ordres")
    with pytest.raises(TestDataError, match=r"no operation 'POST /order'; did you mean POST /orders"):
        probe.contract("orders").operation("POST /order")
    with pytest.raises(TestDataError, match=r"never|names the role 'auditor'; its roles are: customer, staff, admin, "
                                            r"service"):
        probe.contract("orders").check_role("auditor")

    sent = [line for text in stack.logs().values() for line in text.splitlines() if probe.correlation_id in line]
    assert sent == []


WRONG_LATE = """Feature: A security check written wrongly after a step that sends something
  Scenario: The mistakes are found before the first step
    When I send a GET request to "inventory" at "/health/live"
    Then the "orders" operation "POST /order" admits only the roles its contract names
    And every "orders" operation refuses the role "auditor" unless its contract names it
    And the "orders" operation "GET /orders/{{order_id}}" handles hostile input harmlessly
"""


def test_a_scenario_naming_what_a_served_contract_lacks_is_stopped_before_its_first_step(reference_stack):
    stack, options, project = reference(reference_stack)
    catalogue.load(REPO / "steps")
    scenario = parse_feature(WRONG_LATE).scenarios[0]

    assert preflight.problems(scenario.all_steps, preflight.Scope(project, options)) == []  # not served yet
    with pytest.raises(TestDataError) as stopped:
        preflight.check_scenario(scenario, preflight.Scope(project, options, documents.load(options, stack)))

    message = str(stopped.value)
    assert message.startswith("Nothing was started: ")
    assert "no operation 'POST /order'; did you mean POST /orders" in message
    assert "names the role 'auditor'" in message
    assert "GET /orders/{{order_id}}" not in message  # named as the document writes it: found
