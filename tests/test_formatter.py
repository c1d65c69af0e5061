"""Tests of crucible.report.formatter: behave runs a small project of its own through the formatter (no Docker)."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crucible.report import formatter, results as report
from crucible.report.safety import embedded_files
from crucible.errors import StartupError

REPO = Path(__file__).resolve().parents[1]

BEHAVE_INI = """\
[behave]
paths = features
default_format = plain
format = crucible.report.formatter:CrucibleFormatter
outfiles = results
logging_level = WARNING
"""

SETTINGS = """\
[report]
issue_pattern = "https://tracker.example/browse/{}"
tms_pattern = "https://tracker.example/testcase/{}"
"""

ORDERS_FEATURE = """\
@owner:team-checkout @critical
Feature: Placing orders

  @story:Ordering @issue:SHOP-12 @tms:TC-7 @owner:alice @blocker @smoke
  Scenario: A customer orders an item in stock
    Given all is well

  Scenario: An order is confirmed
    Given all is well
    Then the order is confirmed
    And all is well

  Scenario: The stack is down
    Given the stack is down

  Scenario: A quantity that is not a number
    Given a quantity of "lots"

  Scenario: Nobody wrote the step
    Given nobody wrote this step

  Scenario: A step that is not finished
    Given a step that is pending

  @fail_before
  Scenario: Set-up breaks
    Given all is well

  @fail_after
  Scenario: Clean-up breaks
    Given all is well

  @bad_cleanup
  Scenario: A fixture's clean-up breaks
    Given all is well

  Scenario Outline: Orders of <quantity> are fine
    Given all is well

    Examples:
      | quantity |
      | 1        |
      | 2        |
"""

SETUP_FEATURE = """\
@fail_feature
Feature: Stock across stores
  Scenario: Never gets to run
    Given all is well
"""

STEPS = '''\
from behave import given, step
from behave.exception import StepNotImplementedError
from crucible.errors import StartupError


@step("all is well")
def ok(context):
    pass


@step("the order is confirmed")
def confirmed(context):
    raise AssertionError("expected Alice's order to be confirmed, but it was rejected: not enough stock (HTTP 422)")


@given("the stack is down")
def down(context):
    raise StartupError("service 'orders' never became ready within 30s")


@given('a quantity of "{quantity}"')
def quantity(context, quantity):
    int(quantity)


@given("a step that is pending")
def pending(context):
    raise StepNotImplementedError("waiting for the returns API")
'''

ENVIRONMENT = '''\
import os

import allure
from behave import fixture, use_fixture

from crucible.errors import StartupError


@fixture
def breaks_on_cleanup(context):
    yield
    raise RuntimeError("could not delete the customer")


def before_all(context):
    if os.environ.get("FAIL_BEFORE_ALL"):
        raise StartupError("no Docker engine answers")


def before_feature(context, feature):
    if "fail_feature" in feature.tags:
        raise StartupError("database 'inventory' is not reachable")


def before_scenario(context, scenario):
    if "fail_before" in scenario.tags:
        raise StartupError("could not create the scenario's customer")
    if "bad_cleanup" in scenario.tags:
        use_fixture(breaks_on_cleanup, context)


def after_scenario(context, scenario):
    if "fail_after" in scenario.tags:
        raise ValueError("bad customer id")


def after_step(context, step):
    if step.status.has_failed():
        allure.attach("[orders] crucible-1234 rejected", name="correlated lines",
                      attachment_type=allure.attachment_type.TEXT)
'''


def make_project(root: Path, toml: str = SETTINGS) -> Path:
    """Write the small behave project under root and return root."""
    files = {
        "behave.ini": BEHAVE_INI,
        "crucible.toml": toml,
        "features/checkout/placing_orders.feature": ORDERS_FEATURE,
        "features/stock_across_stores/setup.feature": SETUP_FEATURE,
        "features/steps/steps.py": STEPS,
        "features/environment.py": ENVIRONMENT,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def behave(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run behave in root with the repo importable."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "behave", *args], cwd=root, capture_output=True, text=True,
                          timeout=120, env=environ)


def results_by_name(results: Path) -> dict[str, dict]:
    """The result files of a run, by scenario name."""
    found = {}
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["name"]] = data
    return found


def labels(result: dict) -> dict[str, list[str]]:
    """A result's labels as name -> values."""
    out: dict[str, list[str]] = {}
    for label in result["labels"]:
        out.setdefault(label["name"], []).append(label["value"])
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The project after one behave run through the formatter."""
    root = make_project(tmp_path_factory.mktemp("behave-project"))
    proc = behave(root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return root


@pytest.fixture(scope="module")
def results(project) -> dict[str, dict]:
    return results_by_name(project / "results")


def test_every_scenario_has_a_result_with_a_known_status(results):
    assert len(results) == 12
    assert {r["status"] for r in results.values()} <= {"passed", "failed", "broken", "skipped"}
    for result in results.values():
        if result["status"] != "passed":
            assert result["statusDetails"]["message"].strip(), result["name"]


def test_labels_from_the_folder_and_the_short_tags(results):
    passed = results["A customer orders an item in stock"]

    assert passed["status"] == "passed"
    found = labels(passed)
    assert found["epic"] == ["Checkout"]
    assert found["feature"] == ["Placing orders"]
    assert found["story"] == ["Ordering"]
    assert found["owner"] == ["alice"]            # the scenario's tag wins over the feature's
    assert found["severity"] == ["blocker"]       # and so does its severity
    assert found["tag"] == ["smoke"]              # short tags became labels and links, not tags
    assert "defect" not in found
    assert sorted((link["type"], link["name"], link["url"]) for link in passed["links"]) == [
        ("issue", "SHOP-12", "https://tracker.example/browse/SHOP-12"),
        ("tms", "TC-7", "https://tracker.example/testcase/TC-7"),
    ]


def test_default_story_owner_severity_and_epic(results):
    found = labels(results["An order is confirmed"])

    assert found["story"] == ["An order is confirmed"]
    assert found["owner"] == ["team-checkout"]
    assert found["severity"] == ["critical"]
    outline = [r for name, r in results.items() if name.startswith("Orders of")]
    assert len(outline) == 2
    assert {labels(r)["story"][0] for r in outline} == {"Orders of <quantity> are fine"}
    assert labels(results["Never gets to run"])["epic"] == ["Stock across stores"]


def test_a_failed_expectation_is_a_product_defect_in_plain_words(results):
    failed = results["An order is confirmed"]
    message = "expected Alice's order to be confirmed, but it was rejected: not enough stock (HTTP 422)"

    assert failed["status"] == "failed"
    assert failed["statusDetails"]["message"] == message
    assert "Traceback" in failed["statusDetails"]["trace"]
    assert labels(failed)["defect"] == ["product"]
    step = failed["steps"][1]
    assert (step["name"], step["status"], step["statusDetails"]["message"]) == (
        "Then the order is confirmed", "failed", message)
    assert "AssertionError: expected Alice's" in step["statusDetails"]["trace"]
    assert failed["steps"][2]["status"] == "skipped"


def test_evidence_attached_in_after_step_lands_on_the_failed_step(project, results):
    failed = results["An order is confirmed"]
    attached = failed["steps"][1]["attachments"]

    assert [a["name"] for a in attached] == ["correlated lines"]
    assert (project / "results" / attached[0]["source"]).read_text() == "[orders] crucible-1234 rejected"
    assert "attachments" not in failed["steps"][0] or not failed["steps"][0]["attachments"]


@pytest.mark.parametrize("name, message, defect", [
    ("The stack is down", "service 'orders' never became ready within 30s", "environment"),
    ("A quantity that is not a number", "ValueError: invalid literal for int() with base 10: 'lots'", "test"),
    ("Nobody wrote the step", 'Undefined step: no step definition matches "Given nobody wrote this step"', "test"),
    ("A step that is not finished",
     'Step not implemented yet: "Given a step that is pending" (waiting for the returns API)', "test"),
    ("Set-up breaks",
     "Set-up before the scenario failed (before_scenario): could not create the scenario's customer", "environment"),
    ("Clean-up breaks", "Clean-up after the scenario failed (after_scenario): ValueError: bad customer id", "test"),
    ("A fixture's clean-up breaks", "Clean-up after the scenario failed: the console output shows why",
     "environment"),
    ("Never gets to run",
     "Set-up before the feature failed (before_feature): database 'inventory' is not reachable", "environment"),
])
def test_broken_outcomes_say_what_broke_and_whose_problem_it_is(results, name, message, defect):
    result = results[name]

    assert result["status"] == "broken"
    assert result["statusDetails"]["message"] == message
    assert labels(result)["defect"] == [defect]


def test_the_undefined_step_carries_a_snippet(results):
    step = results["Nobody wrote the step"]["steps"][0]

    assert step["status"] == "broken"
    assert "@given(u'nobody wrote this step')" in step["statusDetails"]["trace"]


def test_a_failed_before_all_writes_a_global_error(tmp_path):
    root = make_project(tmp_path)

    proc = behave(root, FAIL_BEFORE_ALL="1")

    assert proc.returncode == 1
    (globals_file,) = (root / "results").glob("*-globals.json")
    errors = json.loads(globals_file.read_text())["errors"]
    assert "before any feature ran" in errors[0]["message"]
    assert not list((root / "results").glob("*-result.json"))


def test_a_pattern_without_a_placeholder_stops_behave_with_a_clear_message(tmp_path):
    root = make_project(tmp_path, SETTINGS.replace("browse/{}", "browse/"))

    proc = behave(root)

    assert proc.returncode != 0
    assert ("ConfigError: crucible.toml key 'report.issue_pattern' = https://tracker.example/browse/: "
            "it must contain {} exactly once") in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_without_a_pattern_the_key_stays_a_tag(tmp_path):
    root = make_project(tmp_path, SETTINGS.replace("tms_pattern", "# tms_pattern"))

    behave(root, "--name", "in stock")

    passed = results_by_name(root / "results")["A customer orders an item in stock"]
    assert [link["type"] for link in passed["links"]] == ["issue"]
    assert "tms:TC-7" in labels(passed)["tag"]


@pytest.mark.parametrize("filename, expected", [
    ("features/checkout/placing_orders.feature", "Checkout"),
    ("features/stock_across_stores/transfers.feature", "Stock across stores"),
    ("features/contracts/orders/openapi.feature", "Contracts"),
    ("features/top_level.feature", None),
])
def test_capability(filename, expected):
    assert formatter.capability(filename, ["features"]) == expected
    assert formatter.capability(filename, ["features/checkout"]) == expected  # behave features/checkout


def test_capability_under_another_base(tmp_path):
    assert formatter.capability(str(tmp_path / "specs" / "returns" / "refunds.feature"),
                                [str(tmp_path / "specs")]) == "Returns"
    assert formatter.capability("elsewhere/fraud/screening.feature", []) == "Fraud"


def test_plain_messages():
    assert formatter.plain(AssertionError("\nexpected 3, but was 5\n")) == "expected 3, but was 5"
    assert formatter.plain(StartupError("orders never became ready")) == "orders never became ready"
    assert formatter.plain(KeyError("sku")) == "KeyError: 'sku'"
    assert formatter.plain(AssertionError()).startswith("an expectation failed")


@pytest.mark.skipif(not report.allure_installed(), reason="the Allure CLI is missing: run crucible setup")
def test_the_report_sorts_results_into_the_three_categories(project, tmp_path):
    index = report.generate(project / "results", tmp_path / "report", history=tmp_path / "history.jsonl")

    files = embedded_files(index.read_text(encoding="utf-8"))
    tests = [json.loads(body) for path, body in files.items() if path.startswith("data/test-results/")]
    category = {t["name"]: [c["name"] for c in t.get("categories", [])] for t in tests}
    assert category["An order is confirmed"] == ["Product defects"]
    assert {name for name, found in category.items() if found == ["Environment problems"]} == {
        "The stack is down", "Set-up breaks", "A fixture's clean-up breaks", "Never gets to run"}
    assert {name for name, found in category.items() if found == ["Test defects"]} == {
        "A quantity that is not a number", "Nobody wrote the step", "A step that is not finished", "Clean-up breaks"}
    tree = json.loads(files["widgets/tree.json"])
    assert {"Checkout", "Stock across stores"} <= {group["name"] for group in tree["groupsById"].values()}


def test_docstring_examples():
    assert doctest.testmod(formatter).failed == 0


def test_a_harness_error_in_a_step_is_shown_as_its_message_and_place_without_a_traceback(tmp_path):
    """The console formatter `crucible run` uses: a CrucibleError in words, a failed check as behave shows it."""
    (tmp_path / "features" / "steps").mkdir(parents=True)
    (tmp_path / "features" / "steps" / "steps.py").write_text(
        "from behave import step\n"
        "from crucible.errors import TestDataError\n\n"
        "@step('the docstring is read')\n"
        "def read(context):\n"
        "    raise TestDataError('the docstring is not JSON (line 1, column 2): write it as JSON')\n\n"
        "@step('a check fails')\n"
        "def fails(context):\n"
        "    assert 1 == 2, 'expected 1 to be 2'\n", encoding="utf-8")
    (tmp_path / "features" / "a.feature").write_text(
        "Feature: A\n  Scenario: Harness error\n    Given the docstring is read\n\n"
        "  Scenario: Failed check\n    Given a check fails\n", encoding="utf-8")

    run = subprocess.run([sys.executable, "-m", "behave", "--no-summary", "--format",
                          "crucible.report.plain:PlainFormatter", "features"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)

    assert ("TestDataError at features/a.feature:3: the docstring is not JSON (line 1, column 2): write it as JSON"
            in run.stdout), run.stdout
    harness = run.stdout.split("Scenario: Failed check")[0]
    assert "Traceback" not in harness, run.stdout
    assert "expected 1 to be 2" in run.stdout.split("Scenario: Failed check")[1]
