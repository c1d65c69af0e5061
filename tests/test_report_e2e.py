"""Issue #5's "done means", end to end, against the real reference stack.

Two whole runs, as `make run` does them: behave on a feature with one passing and one deliberately
failing checkout scenario (the real steps and hooks, attached to the session's reference stack),
then `crucible report` with one history file. Then the one file the second run produced
is read: its results and embedded data, and its pages opened in headless Chromium — front page
counts, *Product defects* with the plain message, the failed step with its exchange and correlated
log lines, and the trend with both runs. Everything is written under tmp_path; a screenshot of the
front page is kept in reports/report-e2e.png.
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
from report_page import chromium, dump_dom, embedded_files, front_page_counts, needs_chromium

from crucible.report import results as report

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "reports" / "report-e2e.png"
BEHAVE_TIMEOUT_S = 120
REPORT_TIMEOUT_S = 240
PASSING = "A customer orders an item that is in stock"
FAILING = "An order for more than the store has is confirmed"
MESSAGE = "expected Bob's order to be confirmed, but it was rejected: not enough stock"
FAILED_STEP = "Then his order is confirmed"

# Two scenarios of features/checkout/placing_orders.feature; the second expects the wrong outcome.
FEATURE = f"""\
@checkout
Feature: Placing orders
  Background:
    Given the "North" store has 5 "Blue Mug" in stock at 12.50 EUR

  Scenario: {PASSING}
    When Alice orders 2 "Blue Mug" from the "North" store
    Then her order is confirmed
    And the "North" store has 3 "Blue Mug" left

  Scenario: {FAILING}
    When Bob orders 6 "Blue Mug" from the "North" store
    {FAILED_STEP}
"""

# The repo's behave.ini and settings, pointed at the repo's stack and a history file in tmp_path.
BEHAVE_INI = """\
[behave]
paths = features
default_format = plain
format = crucible.report.formatter:CrucibleFormatter
outfiles = reports/allure-results
logging_level = WARNING
"""
SETTINGS = (ROOT / "crucible.toml").read_text(encoding="utf-8").replace(
    'compose = ["docker/compose.yaml"]', f'compose = ["{ROOT / "docker" / "compose.yaml"}"]').replace(
    'history = "reports/history/history.jsonl"', 'history = "history/history.jsonl"')

pytestmark = pytest.mark.skipif(not report.allure_installed(), reason="the Allure CLI is missing: run crucible setup")


@dataclass
class Run:
    """One behave run and the report generated after it."""

    behave: subprocess.CompletedProcess
    results: Path
    index_html: str


@dataclass
class Runs:
    first: Run
    second: Run
    index: Path
    history: Path


def project(root: Path) -> Path:
    """A behave project in tmp_path that uses the repo's steps and hooks: its own behave.ini, features and reports."""
    root.mkdir()
    (root / "behave.ini").write_text(BEHAVE_INI, encoding="utf-8")
    (root / "crucible.toml").write_text(SETTINGS, encoding="utf-8")
    (root / "environment.py").symlink_to(ROOT / "environment.py")
    (root / "steps").symlink_to(ROOT / "steps")
    (root / "features" / "checkout").mkdir(parents=True)
    (root / "features" / "checkout" / "placing_orders.feature").write_text(FEATURE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def runs(reference_stack, tmp_path_factory) -> Runs:
    """Run behave and `crucible report` twice on one history file, like two `make run`s."""
    root = project(tmp_path_factory.mktemp("e2e") / "project")
    history = root / "history" / "history.jsonl"
    results, index = root / "reports" / "allure-results", root / "reports" / "allure-report" / "index.html"
    drop = ("CRUCIBLE_RUN_ATTACH", "CRUCIBLE_COMPOSE", "CRUCIBLE_HISTORY", "CRUCIBLE_RUN_RETRY", "CRUCIBLE_SETTINGS",
            "CRUCIBLE_REPORT_HISTORY")
    env = {**{k: v for k, v in os.environ.items() if k not in drop}, "PYTHONPATH": str(ROOT)}
    done = []
    for number in (1, 2):
        behave = subprocess.run(
            [sys.executable, "-m", "behave", "--no-color", "-D", f"attach={reference_stack.run_id}"],
            cwd=root, env=env, capture_output=True, text=True, timeout=BEHAVE_TIMEOUT_S, stdin=subprocess.DEVNULL)
        generate = subprocess.run(
            [sys.executable, "-m", "crucible", "report"],
            cwd=root, env=env, capture_output=True, text=True, timeout=REPORT_TIMEOUT_S, stdin=subprocess.DEVNULL)
        output = f"behave:\n{behave.stdout}{behave.stderr}\ncrucible report:\n{generate.stdout}{generate.stderr}"
        assert generate.returncode == 0 and index.is_file(), output
        kept = results.rename(root / f"results-{number}")  # `make run` starts each run with no results
        done.append(Run(behave, kept, index.read_text(encoding="utf-8")))
    return Runs(done[0], done[1], index, history)


def results_by_name(results: Path) -> dict[str, dict]:
    return {r["name"]: r for r in (json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-result.json"))}


def attachment(results: Path, step: dict, prefix: str) -> tuple[str, str]:
    """Name and content of the step's one attachment whose name starts with prefix."""
    found = [a for a in step.get("attachments", []) if a["name"].startswith(prefix)]
    assert len(found) == 1, [a["name"] for a in step.get("attachments", [])]
    return found[0]["name"], (results / found[0]["source"]).read_text(encoding="utf-8")


def test_each_run_fails_with_one_failed_and_one_passed_scenario(runs):
    for run in (runs.first, runs.second):
        assert run.behave.returncode == 1, run.behave.stdout + run.behave.stderr
        assert "1 scenario passed, 1 failed, 0 skipped" in run.behave.stdout, run.behave.stdout
        assert {r["status"] for r in results_by_name(run.results).values()} == {"passed", "failed"}


def test_the_failed_scenario_is_a_product_defect_in_plain_words(runs):
    failed = results_by_name(runs.second.results)[FAILING]

    assert failed["status"] == "failed"
    assert {"name": "defect", "value": "product"} in failed["labels"]
    assert {"name": "epic", "value": "Checkout"} in failed["labels"]
    message = failed["statusDetails"]["message"]
    assert message.startswith(MESSAGE), message
    assert "AssertionError" not in message and "Traceback" not in message
    assert failed["statusDetails"]["trace"].startswith("Traceback")  # the Python trace is there, not the headline
    step = next(s for s in failed["steps"] if s["status"] == "failed")
    assert (step["name"], step["statusDetails"]["message"]) == (FAILED_STEP, message)


def test_the_failed_step_carries_the_exchange_and_the_correlated_service_logs(runs):
    results = runs.second.results
    failed = results_by_name(results)[FAILING]
    step = next(s for s in failed["steps"] if s["status"] == "failed")
    assert step["name"] == FAILED_STEP

    name, exchange = attachment(results, step, "POST /orders -> 422")
    log_name, log_lines = attachment(results, step, "Service log lines with correlation id crucible-")
    correlation_id = log_name.rsplit(" ", 1)[-1]
    assert re.fullmatch(r"crucible-[0-9a-f]{8}", correlation_id), log_name
    assert name.endswith("(the exchange this step checked)")
    assert exchange.startswith("POST http://") and "\n--- 422 " in exchange, exchange
    assert f"X-Request-ID: {correlation_id}-" in exchange and '"reason": "not enough stock"' in exchange
    assert re.search(r'"number": "\*{12}\d{4}"', exchange), "the card number is masked to its last four digits"
    assert not re.search(r"\d{12,19}", exchange), exchange
    lines = log_lines.splitlines()
    assert lines and all(correlation_id in line for line in lines), log_lines
    services = {line[1:line.index("]")] for line in lines}
    assert {"orders", "inventory"} <= services, services
    # Every service's full log since the scenario began is on the scenario itself.
    assert {"orders logs", "inventory logs"} <= {a["name"] for a in failed["attachments"]}


def test_the_report_is_one_file_with_the_evidence_inside(runs):
    files = embedded_files(runs.second.index_html)
    report_dir = runs.index.parent

    assert not (report_dir / "data").exists()
    tests = {t["name"]: t for t in (json.loads(body) for path, body in files.items()
                                    if path.startswith("data/test-results/"))}
    assert {name: t["status"] for name, t in tests.items()} == {PASSING: "passed", FAILING: "failed"}
    step = next(s for s in tests[FAILING]["steps"] if s["name"] == FAILED_STEP)
    links = {item["link"]["name"]: item["link"] for item in step["steps"] if item.get("type") == "attachment"}
    logs = next(link for name, link in links.items() if name.startswith("Service log lines with correlation id"))
    assert any(name.startswith("POST /orders -> 422") for name in links), links
    assert "[orders] " in files[f"data/attachments/{logs['id']}{logs['ext']}"]


def test_the_history_and_the_trend_hold_both_runs(runs):
    def status_dynamics(html: str) -> list[dict]:
        charts = json.loads(embedded_files(html)["widgets/charts.json"])["general"].values()
        return next(chart["data"] for chart in charts if chart["type"] == "statusDynamics")

    assert report.history_runs(runs.history) == 2
    assert len(status_dynamics(runs.first.index_html)) == 1
    second = status_dynamics(runs.second.index_html)
    assert [point["statistic"] for point in second] == [{"total": 2, "passed": 1, "failed": 1}] * 2
    # The failed scenario's History tab lists the first run.
    files = embedded_files(runs.second.index_html)
    failed = next(json.loads(body) for path, body in files.items()
                  if path.startswith("data/test-results/") and json.loads(body)["name"] == FAILING)
    assert [entry["status"] for entry in failed["history"]] == ["failed"]


@pytest.fixture(scope="module")
def pages(runs, tmp_path_factory):
    """The second report's front page, categories, failed scenario and graphs, rendered in Chromium."""
    failed_id = next(json.loads(body)["id"] for path, body in embedded_files(runs.second.index_html).items()
                     if path.startswith("data/test-results/") and json.loads(body)["name"] == FAILING)
    routes = {"front": ("", "metadata-item-"), "categories": ("#/categories", "tree-leaf-title"),
              "failed": (f"#/{failed_id}", "test-result-attachment-header"), "charts": ("#/charts", "Status dynamics")}
    profiles = tmp_path_factory.mktemp("chromium")
    # One page at a time: four Chromiums at once on two cores left pages unrendered.
    return {name: dump_dom(runs.index, profiles / name, route, ready=ready)
            for name, (route, ready) in routes.items()}


@needs_chromium
def test_the_front_page_shows_the_counts(pages):
    counts = front_page_counts(pages["front"])

    assert (counts.get("total"), counts.get("passed"), counts.get("failed")) == ("2", "1", "1"), counts
    assert "broken" not in counts and "skipped" not in counts, counts


@needs_chromium
def test_product_defects_list_the_failed_scenario_under_its_message(pages):
    dom = pages["categories"]
    text = dom.text()

    assert [node.text() for node in dom.all("tree-section-title")] == ["Product defects"]
    assert [node.text() for node in dom.all("tree-leaf-title")] == [FAILING]
    assert text.index("Product defects") < text.index(MESSAGE) < text.index(FAILING), text
    assert "Environment problems" not in text and "Test defects" not in text


@needs_chromium
def test_the_failed_scenario_page_shows_its_message_and_the_evidence_on_the_failed_step(pages):
    dom = pages["failed"]

    assert [node.text() for node in dom.all("test-result-info-title")] == [FAILING]
    assert dom.all("test-result-status-failed")
    assert dom.all("test-result-error-message")[0].text().startswith(MESSAGE)
    steps = {node.all("test-result-step-title")[0].text(): node for node in dom.all("test-result-step")}
    failed = steps[FAILED_STEP]
    assert failed.all("tree-leaf-status-failed")
    # Each attachment's header: its number, its name, its type and size.
    shown = [header.text() for header in failed.all("test-result-attachment-header")]
    assert len(shown) == 2, shown
    assert "POST /orders -> 422 (the exchange this step checked)" in shown[0], shown
    assert re.search(r"Service log lines with correlation id crucible-[0-9a-f]{8}\b", shown[1]), shown


@needs_chromium
def test_the_trend_shows_two_runs(pages):
    title = next(node for node in pages["charts"].walk() if node.tag == "span" and node.text() == "Status dynamics")
    widget = title.ancestor(lambda node: "data-drop-shadow" in node.attrs)

    assert widget is not None
    assert len(widget.all("group")) == 2  # one stack of bars per run
    # The x axis names the runs (their dates, the current one "Latest"); its labels are turned 45 degrees.
    axis = [node.text() for node in widget.walk()
            if node.tag == "text" and "rotate(45)" in node.attrs.get("transform", "")]
    assert len(axis) == 2 and axis[-1] == "Latest", axis


@needs_chromium
def test_a_screenshot_of_the_front_page_is_kept(runs, tmp_path):
    SCREENSHOT.unlink(missing_ok=True)

    proc = chromium(runs.index, tmp_path / "profile", f"--screenshot={SCREENSHOT}", "--window-size=1280,900")

    assert proc.returncode == 0, proc.stderr[-2000:]
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 20_000  # a rendered page, not a blank one
