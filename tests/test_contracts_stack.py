"""Contracts against a real stack whose payments service was changed on purpose (issue 9's "done means").

The variant is built from a patched copy of docker/ in a temporary folder (the services themselves
carry no defect switches): payments renames `status` to `state` in its capture answer, sends
`captured_cents` as text when voiding, answers 203 to `GET /payments/{id}`, and divides by zero for
amounts over 1000.00. Against it:

* drift: scenarios that never look at those fields fail in *Contract violations*, naming the field;
* pacts: the reference suite's own provider verification fails, naming consumer, interaction and field;
* generated requests find the server error and give the smallest request as a curl line that reproduces it,
  with the service's log lines for it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from variants import patched_docker

from crucible import settings
from crucible.stack import session
from crucible.timings import Timings
from crucible.vocabulary import auth

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 600
FORMATTER = "crucible.report.formatter:CrucibleFormatter"
SECRET = "crucible-dev-secret-not-for-production"

# (what the original payments service says, what the variant says instead): each must match exactly once.
PATCHES = [
    ('''              amount_cents=row["captured_cents"])
    return jsonify(payment_json(row))''',
     '''              amount_cents=row["captured_cents"])
    drifted = payment_json(row)
    drifted["state"] = drifted.pop("status")  # drift: a renamed field
    return jsonify(drifted)'''),
    ('''    log_event(logging.INFO, "payment voided", payment_id=payment_id, order_id=row["order_id"])
    return jsonify(payment_json(row))''',
     '''    log_event(logging.INFO, "payment voided", payment_id=payment_id, order_id=row["order_id"])
    drifted = payment_json(row)
    drifted["captured_cents"] = str(drifted["captured_cents"])  # drift: a changed type
    return jsonify(drifted)'''),
    ('''    return jsonify(payment_json(row, refunds))''',
     '''    return jsonify(payment_json(row, refunds)), 203  # drift: an undocumented status'''),
    ('''    order_id = require(body, "order_id", str)
    amount = require(body, "amount_cents", int, minimum=1, maximum=MAX_CENTS)
''',
     '''    order_id = require(body, "order_id", str)
    amount = require(body, "amount_cents", int, minimum=1, maximum=MAX_CENTS)
    fee_rate = 100_000 // amount  # planted bug: 0 for amounts over 1000.00, so the next line divides by zero
    amount += 0 * (amount // fee_rate)
'''),
]

DRIFT_FEATURE = """\
Feature: Payments, as a team that never looks at the fields the provider changed

  Background:
    Given I am authenticated as "till-{uid}" with the role "staff"
    And the request header "Idempotency-Key" is "pay-{uid}"

  Scenario: An authorised payment can be captured
    Given I send a POST request to "payments" at "/payments" with JSON:
      \"\"\"
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "4111111111111111"}}
      \"\"\"
    And I remember the response JSON at "$.id" as "payment_id"
    When I send a POST request to "payments" at "/payments/{payment_id}/capture"
    Then the response JSON at "$.id" is "{payment_id}"

  Scenario: An authorised payment can be voided
    Given I send a POST request to "payments" at "/payments" with JSON:
      \"\"\"
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "4012888888881881"}}
      \"\"\"
    And I remember the response JSON at "$.id" as "payment_id"
    When I send a POST request to "payments" at "/payments/{payment_id}/void"
    Then the response JSON at "$.id" is "{payment_id}"

  Scenario: A payment can be read back
    Given I send a POST request to "payments" at "/payments" with JSON:
      \"\"\"
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "5555555555554444"}}
      \"\"\"
    And I remember the response JSON at "$.id" as "payment_id"
    When I send a GET request to "payments" at "/payments/{payment_id}"
    Then the response JSON at "$.id" is "{payment_id}"

  Scenario: A payment is authorised
    When I send a POST request to "payments" at "/payments" with JSON:
      \"\"\"
      {"order_id": "order-{uid}", "amount_cents": 2500, "card": {"number": "4242424242424242"}}
      \"\"\"
    Then the response status is 201
"""

GENERATED_FEATURE = """\
Feature: Payments under generated requests

  Scenario: Payments keeps its contract under generated requests
    Given I am authenticated as "qa-{uid}" with the role "staff"
    Then the "payments" API keeps its contract under 150 generated requests
"""


def variant_docker(target: Path) -> Path:
    """A copy of docker/ with the patched payments service; returns its compose file."""
    return patched_docker(target, {"payments/app.py": PATCHES})


@dataclass
class Variant:
    """The running variant stack and the environment that reaches it."""

    compose: Path
    run_id: str
    env: dict[str, str]
    url: str


@pytest.fixture(scope="module")
def variant(engine_available, tmp_path_factory):
    """The reference stack with the patched payments service, under its own project name and image tag."""
    base = os.environ.get("CRUCIBLE_PROJECT") or "crucible"
    names = {"CRUCIBLE_PROJECT": f"{base}-variant", "CRUCIBLE_IMAGE_TAG": f"{base}-variant"}
    compose = variant_docker(tmp_path_factory.mktemp("variant") / "docker")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in names.items():
            patch.setenv(name, value)
        options = settings.load(start=ROOT, environ={**os.environ, "CRUCIBLE_COMPOSE": str(compose)})
        project = session.load_project(options)
        client, _ = session.prepare(project, Timings())
        stack = session.start(client, project, Timings())
    drop = ("CRUCIBLE_RUN_ATTACH", "CRUCIBLE_COMPOSE", "CRUCIBLE_HISTORY", "CRUCIBLE_SETTINGS", "CRUCIBLE_RUN_RETRY")
    env = {**{k: v for k, v in os.environ.items() if k not in drop}, **names, "PYTHONPATH": str(ROOT)}
    try:
        yield Variant(compose, stack.run_id, env, stack.url("payments"))
    finally:
        stack.down()


def team_project(root: Path, compose: Path) -> Path:
    """A project as `crucible init` writes it (generic steps only), pointed at the variant stack."""
    (root / "features").mkdir(parents=True)
    (root / "steps").mkdir()
    (root / "environment.py").write_text("from crucible.hooks import *  # noqa: F401,F403\n")
    (root / "steps" / "crucible_steps.py").write_text("from crucible.vocabulary.steps import *  # noqa: F401,F403\n")
    (root / "features" / "drift.feature").write_text(DRIFT_FEATURE)
    (root / "features" / "generated.feature").write_text(GENERATED_FEATURE)
    (root / "crucible.toml").write_text(f"""\
compose = ["{compose}"]
[auth]
scheme = "jwt"
secret_from = "payments.JWT_SECRET"
[services.payments]
openapi = "/openapi.json"
[contracts]
generated_max_time = 120.0
""")
    return root


def crucible(command: str, cwd: Path, variant: Variant, *args: str) -> subprocess.CompletedProcess:
    """A `crucible` command (``run`` attached to the variant stack, or ``report``) in a project folder."""
    attach = ["-D", f"attach={variant.run_id}"] if command == "run" else []
    return subprocess.run([sys.executable, "-m", "crucible", command, *attach, *args], cwd=cwd, env=variant.env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)


def behave(cwd: Path, variant: Variant, *args: str) -> subprocess.CompletedProcess:
    """behave with Crucible's formatter, attached to the variant stack (no report: the tests read the results)."""
    return subprocess.run([sys.executable, "-m", "behave", "--no-color", "--format", FORMATTER, "--outfile",
                           "reports/allure-results", "--format", "plain", "-D", f"attach={variant.run_id}", *args],
                          cwd=cwd, env=variant.env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)


def results_by_name(results: Path) -> dict[str, dict]:
    return {r["name"]: r for r in (json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-result.json"))}


def failed_step(result: dict) -> dict:
    return next(step for step in result["steps"] if step["status"] == "failed")


@pytest.fixture(scope="module")
def team_run(variant, tmp_path_factory):
    """A team's project, generic steps only, run against the variant: the drift scenarios and generated requests."""
    root = team_project(tmp_path_factory.mktemp("team"), variant.compose)
    proc = behave(root, variant)
    return proc, results_by_name(root / "reports" / "allure-results"), root


@pytest.fixture(scope="module")
def drift(team_run):
    return team_run[0], team_run[1]


def test_a_renamed_field_fails_the_exchange_that_brought_it(drift):
    proc, results = drift
    result = results["An authorised payment can be captured"]

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert result["status"] == "failed" and {"name": "defect", "value": "contract"} in result["labels"]
    step = failed_step(result)
    assert step["name"] == 'When I send a POST request to "payments" at "/payments/{payment_id}/capture"'
    message = result["statusDetails"]["message"]
    assert message.startswith("Contract violation: payments POST /payments/{payment_id}/capture answered 200, "
                              "which its OpenAPI document does not allow:"), message
    assert "$.status: the document says a required field; the service sent nothing (the object has: " in message


def test_a_changed_type_is_named_with_what_the_document_says_and_what_came_back(drift):
    message = drift[1]["An authorised payment can be voided"]["statusDetails"]["message"]

    assert "payments POST /payments/{payment_id}/void answered 200" in message
    assert '$.captured_cents: the document says type integer; the service sent "0"' in message


def test_an_undocumented_status_is_caught(drift):
    result = drift[1]["A payment can be read back"]

    assert {"name": "defect", "value": "contract"} in result["labels"]
    assert "status: the document says one of 200, 401, 403, 404, 503; the service sent 203" in \
        result["statusDetails"]["message"]


def test_what_the_provider_did_not_change_still_passes(drift):
    assert drift[1]["A payment is authorised"]["status"] == "passed"


def test_the_run_reports_coverage_with_the_violations(team_run, variant):
    report = crucible("report", team_run[2], variant)

    assert report.returncode == 0, report.stdout + report.stderr
    assert re.search(r"payments: \d+ of 10 operations and \d+ of \d+ documented responses exercised \(served at "
                     r"/openapi.json\); 3 contract violation\(s\)", report.stderr + report.stdout), report.stderr
    coverage = (team_run[2] / "reports" / "allure-results" / "crucible-contract-coverage-attachment.txt").read_text()
    assert re.search(r"payments POST /payments/\{payment_id\}/capture +200 ", coverage), coverage


def reference_suite(root: Path, compose: Path) -> Path:
    """The reference suite (its features, steps, hooks, pacts and settings) in a folder of its own, pointed at the
    variant stack, with its reports there too."""
    root.mkdir()
    for name in ("environment.py", "steps", "features", "pacts"):
        (root / name).symlink_to(ROOT / name)
    settings_text = (ROOT / "crucible.toml").read_text(encoding="utf-8")
    (root / "crucible.toml").write_text(settings_text.replace('compose = ["docker/compose.yaml"]',
                                                               f'compose = ["{compose}"]'), encoding="utf-8")
    return root


def test_a_provider_change_fails_the_reference_suites_pact_verification(variant, tmp_path):
    root = reference_suite(tmp_path / "suite", variant.compose)
    proc = crucible("run", root, variant, "features/pact/providers.feature")
    found = results_by_name(root / "reports" / "allure-results")
    payments = found["The payments service honours its consumers' pacts -- @1.2 "]
    message = payments["statusDetails"]["message"]

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert {"name": "defect", "value": "contract"} in payments["labels"]
    assert message.startswith("payments does not honour 2 of the 5 interactions its consumers rely on"), message
    assert "consumer orders, interaction 'An authorised payment is captured' (given 'an authorised payment " \
           "exists'):\n      $: Actual map is missing the following keys: status" in message
    # The refund's provider state captures a payment itself: the drifted capture answer stops it, field named.
    assert "consumer orders, interaction 'A captured payment is refunded for a return' (given 'a captured payment " \
           "of 25.00 EUR exists'):" in message
    assert "$.status: the document says a required field" in message
    # The void answer's text captured_cents breaks no consumer: no pact relies on it.
    assert "voided" not in message
    assert found["The inventory service honours its consumers' pacts -- @1.1 "]["status"] == "passed"
    output = proc.stdout + proc.stderr
    assert re.search(r"orders\s+-\s+verified\s+failing \(2 of 5\)", output), output
    assert "consumer orders: cannot deploy (orders->payments failing)" in output


@pytest.fixture(scope="module")
def generated(team_run):
    return team_run[0], team_run[1]["Payments keeps its contract under generated requests"]


def test_generated_requests_find_the_planted_server_error(generated):
    proc, result = generated
    message = result["statusDetails"]["message"]

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert {"name": "defect", "value": "contract"} in result["labels"]
    assert message.startswith("'payments' broke its OpenAPI document under generated requests ("), message
    finding = message.split("\n  POST /payments: ", 1)[1].splitlines()[0]
    assert "Server error" in finding and "(answered 500 " in finding, message


def test_the_smallest_failing_request_is_a_curl_line_that_reproduces_it(generated, variant):
    finding = generated[1]["statusDetails"]["message"].split("\n  POST /payments: ", 1)[1]
    curl = re.search(r"reproduce: (.*)", finding).group(1)
    body = json.loads(re.search(r"--data-raw '(.*)'$", curl).group(1))

    assert curl.startswith(f"curl -X POST {variant.url}/payments "), curl
    assert '"Authorization: Bearer $TOKEN"' in curl and "Bearer ey" not in curl  # no credential in the report
    assert body["amount_cents"] == 100_001, body  # shrunk to the smallest amount that divides by zero
    token = auth.mint("qa", "staff", SECRET)
    replay = subprocess.run(["bash", "-c", curl + " -s -o /dev/null -w '%{http_code}'"], capture_output=True,
                            text=True, timeout=30, env={**os.environ, "TOKEN": token})
    assert replay.stdout == "500", replay


def test_the_finding_carries_the_services_log_lines_for_that_request(generated):
    message = generated[1]["statusDetails"]["message"]
    request_id = re.search(r"log lines with X-Request-ID (crucible-generated-[0-9a-f]{12})", message).group(1)
    after = message.split(request_id, 1)[1]

    assert "ZeroDivisionError" in after, message
    assert f'"request_id": "{request_id}"' in after
