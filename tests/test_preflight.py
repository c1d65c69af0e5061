"""Bad input to load and fault steps is refused before anything starts, naming the step and what is wrong."""

import logging
import os
import subprocess
import sys
from pathlib import Path


from crucible import settings
from crucible.stack import session
from crucible.vocabulary import feature_check

ROOT = Path(__file__).resolve().parents[1]

BAD = """Feature: Impossible loads and faults

  Scenario: Nobody rushes
    When 0 customers each order 1 "Blue Mug" from the "North" store within 20 seconds

  Scenario: Time runs backwards
    When 20 clients send GET requests to "inventory" at "/health/live" for -5 seconds

  Scenario: Not a percentage
    When 20 clients send GET requests to "inventory" at "/health/live" for 5 seconds
    Then fewer than 150% of the requests fail

  Scenario: A service the stack does not have
    Given the "shipping" service is killed

  Scenario: A link that does not exist
    Given the calls from "fraud" to "orders" are slowed down by 500 ms
"""


def test_impossible_loads_and_unknown_services_stop_the_run_before_it_starts(tmp_path, caplog):
    feature = tmp_path / "bad.feature"
    feature.write_text(BAD)
    options = settings.load(start=ROOT, environ={})
    with caplog.at_level(logging.ERROR, logger="crucible.preflight"):
        assert feature_check.check([str(feature)], options, session.load_project(options)) == 1
    text = caplog.text
    assert "5 problem(s) in the features; nothing was started" in text
    assert f"{feature}:4: When 0 customers" in text and "at least 1 client, not 0" in text
    assert "more than 0 seconds, not -5" in text
    assert "fewer than 150% of the requests fail" in text and "not 150%" in text
    assert "no service 'shipping' in compose.yaml" in text
    assert "no link from 'fraud' to 'orders'" in text and "payments -> fraud" in text


def test_the_reference_features_pass_the_preflight():
    options = settings.load(start=ROOT, environ={})
    assert feature_check.check([str(ROOT / "features")], options, session.load_project(options)) == 0


SECURITY = """Feature: Security checks that cannot run as written

  Scenario: A misspelt service
    Then every "ordres" operation admits only the roles its contract names

  Scenario: A service without a contract
    Then every "rabbitmq" operation handles hostile input harmlessly

  Scenario: An operation the contract does not have
    Then the "orders" operation "POST /order" admits only the roles its contract names

  Scenario: A role the contract never names
    Then every "orders" operation refuses the role "auditor" unless its contract names it

  Scenario: An operation named as the contract writes it
    Then the "orders" operation "GET /orders/{{order_id}}" handles hostile input harmlessly
"""

CONTRACT = """openapi: 3.0.3
info: {title: orders, version: "1"}
paths:
  /orders:
    post:
      x-roles: [customer]
      responses: {"201": {description: created}}
  /orders/{order_id}:
    get:
      x-roles: [customer, staff]
      parameters: [{name: order_id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: found}}
"""


def test_security_steps_name_a_service_operation_and_role_the_contract_has_before_anything_starts(tmp_path, caplog):
    feature, document = tmp_path / "security.feature", tmp_path / "orders.yaml"
    feature.write_text(SECURITY)
    document.write_text(CONTRACT)
    relative = os.path.relpath(document, ROOT)  # a file is relative to the settings; "/..." is a path served
    options = settings.load(start=ROOT, environ={}, userdata={"services.orders.openapi": relative})
    with caplog.at_level(logging.ERROR, logger="crucible.preflight"):
        assert feature_check.check([str(feature)], options, session.load_project(options)) == 1
    text = caplog.text
    assert "4 problem(s) in the features; nothing was started" in text
    assert f"{feature}:4:" in text and "no service 'ordres' in compose.yaml" in text and "did you mean 'orders'" in text
    assert f"{feature}:7:" in text and "settings give it none" in text and "services.rabbitmq.openapi" in text
    assert f"{feature}:10:" in text and "no operation 'POST /order'; did you mean POST /orders" in text
    assert f"{feature}:13:" in text and "names the role 'auditor'; its roles are: customer, staff" in text
    assert f"{feature}:16:" not in text


LATE_MISTAKE = """Feature: A check written wrongly after a step that sends something

  Scenario: The served contract has no such operation
    When I send a GET request to "inventory" at "/health/live"
    Then the "orders" operation "POST /order" admits only the roles its contract names
"""


def test_inside_behave_a_scenario_is_stopped_before_its_first_step_by_what_its_served_contract_lacks(
        reference_stack, tmp_path):
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "late.feature").write_text(LATE_MISTAKE)
    (tmp_path / "crucible.toml").write_text((ROOT / "crucible.toml").read_text().replace(
        'compose = ["docker/compose.yaml"]', f'compose = ["{ROOT / "docker" / "compose.yaml"}"]'))
    (tmp_path / "environment.py").symlink_to(ROOT / "environment.py")
    (tmp_path / "steps").symlink_to(ROOT / "steps")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRUCIBLE_") or k == "CRUCIBLE_PROJECT"},
           "PYTHONPATH": str(ROOT)}
    behave = subprocess.run([sys.executable, "-m", "behave", "--no-color", "--format=plain", "-D",
                             f"attach={reference_stack.run_id}", "features"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    output = behave.stdout + behave.stderr
    assert behave.returncode != 0, output
    assert "HOOK-ERROR in before_scenario: TestDataError: Nothing was started" in output, output
    assert "has no operation 'POST /order'; did you mean POST /orders" in output
    assert "0 steps passed" in output and "2 untested" in output  # not even the GET was sent
