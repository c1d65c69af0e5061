"""Tests of crucible.gate: rules, quarantine, the config file's checks and the command's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crucible.report import gate
from crucible.errors import CrucibleError

REPO = Path(__file__).resolve().parents[1]


def result(results: Path, name: str, status: str, *, message: str | None = None,
           feature: str = "Placing orders", params: list[dict] | None = None) -> dict:
    """Write one allure-behave-shaped result and return it."""
    results.mkdir(parents=True, exist_ok=True)
    data = {
        "uuid": str(uuid.uuid4()), "name": name, "fullName": f"{feature}: {name.split(' -- @')[0]}",
        "historyId": uuid.uuid4().hex, "testCaseId": uuid.uuid4().hex, "status": status,
        "start": 1_700_000_000_000, "stop": 1_700_000_000_100, "labels": [],
    }
    if message:
        data["statusDetails"] = {"message": message, "trace": "Traceback ..."}
    if params:
        data["parameters"] = params
    (results / f"{data['uuid']}-result.json").write_text(json.dumps(data), encoding="utf-8")
    return data


def config(tmp_path: Path, rules: dict, quarantine: list | None = None, **extra) -> Path:
    """Write a gate file and return its path."""
    path = tmp_path / "quality-gate.json"
    path.write_text(json.dumps({"rules": rules, "quarantine": quarantine or [], **extra}), encoding="utf-8")
    return path


@pytest.fixture
def run(tmp_path) -> Path:
    """Results of a run: 3 passed, 1 failed (a product defect), 1 skipped."""
    results = tmp_path / "results"
    for name in ("orders in stock", "rejects too many", "rejects zero"):
        result(results, name, "passed")
    result(results, "confirms the order", "failed",
           message="expected Alice's order to be confirmed, but it was rejected: not enough stock (HTTP 422)")
    result(results, "not ready yet", "skipped")
    return results


def test_gate_error_is_a_crucible_error():
    assert issubclass(gate.GateError, CrucibleError)


def test_passes_when_every_rule_holds(tmp_path, run):
    verdict, text = gate.check(run, config(tmp_path, {"min_tests": 4, "max_failures": 1, "min_success_rate": 75}))

    assert verdict.passed_gate
    assert verdict.tests == 4 and verdict.passed == 3 and len(verdict.failures) == 1
    assert text.startswith("Quality gate PASSED")
    assert "ok      min_tests: 4 test(s) ran, at least 4 required" in text
    assert "ok      min_success_rate: success rate 75.0% (3 of 4 passed), at least 75% required" in text


def test_max_failures_names_the_rule_the_numbers_and_the_failure(tmp_path, run):
    verdict, text = gate.check(run, config(tmp_path, {"max_failures": 0}))

    assert not verdict.passed_gate
    assert verdict.broken_rules == ["max_failures: 1 failure(s), at most 0 allowed"]
    assert text.splitlines()[0].startswith("Quality gate FAILED")
    assert "  BROKEN  max_failures: 1 failure(s), at most 0 allowed" in text
    assert ("failed  Placing orders: confirms the order - expected Alice's order to be confirmed, "
            "but it was rejected: not enough stock (HTTP 422)") in text


def test_min_success_rate(tmp_path, run):
    verdict, _ = gate.check(run, config(tmp_path, {"min_success_rate": 90}))

    assert verdict.broken_rules == ["min_success_rate: success rate 75.0% (3 of 4 passed), at least 90% required"]


def test_min_tests_does_not_count_skipped_results(tmp_path, run):
    verdict, _ = gate.check(run, config(tmp_path, {"min_tests": 5}))

    assert verdict.broken_rules == ["min_tests: 4 test(s) ran, at least 5 required"]


def test_broken_and_unknown_results_are_failures(tmp_path):
    results = tmp_path / "results"
    result(results, "ok", "passed")
    result(results, "stack down", "broken", message="service 'orders' never became ready")
    result(results, "odd", "unknown")

    verdict, _ = gate.check(results, config(tmp_path, {"max_failures": 0}))

    assert [r["name"] for r in verdict.failures] == ["odd", "stack down"]
    assert verdict.broken_rules == ["max_failures: 2 failure(s), at most 0 allowed"]


def test_quarantined_failures_do_not_break_the_gate_but_are_listed(tmp_path, run):
    quarantine = [{"scenario": "Placing orders: confirms the order", "reason": "stock races with reservations",
                   "issue": "SHOP-142"}]

    verdict, text = gate.check(run, config(tmp_path, {"max_failures": 0, "min_success_rate": 100}, quarantine))

    assert verdict.passed_gate and verdict.failures == []
    assert [r["name"] for r, _ in verdict.quarantined] == ["confirms the order"]
    assert verdict.success_rate == 100.0
    assert "Quarantined (known issues, not counted):" in text
    assert "because: stock races with reservations (SHOP-142)" in text


def test_quarantine_by_outline_name_covers_every_example_and_by_history_id(tmp_path):
    results = tmp_path / "results"
    for row in ("1.1", "1.2"):
        result(results, f"Orders the shop cannot fill -- @{row} ", "failed", message="expected a rejection",
               params=[{"name": "quantity", "value": row}])
    other = result(results, "other", "broken")
    quarantine = [{"scenario": "Orders the shop cannot fill", "reason": "known"},
                  {"historyId": other["historyId"], "reason": "known too"}]

    verdict, text = gate.check(results, config(tmp_path, {"max_failures": 0}, quarantine))

    assert verdict.passed_gate and len(verdict.quarantined) == 3
    assert "[quantity=1.1]" in text


def test_a_quarantine_entry_that_matches_no_failure_is_reported(tmp_path, run):
    quarantine = [{"scenario": "Placing orders: orders in stock", "reason": "was flaky"}]

    verdict, text = gate.check(run, config(tmp_path, {}, quarantine))

    assert [q.scenario for q in verdict.unused] == ["Placing orders: orders in stock"]
    assert "matched no failure (remove them once the issue is fixed)" in text


def test_the_latest_result_of_a_retried_scenario_counts(tmp_path):
    results = tmp_path / "results"
    first = result(results, "flaky", "failed")
    retry = {**first, "uuid": str(uuid.uuid4()), "status": "passed", "stop": first["stop"] + 1000}
    (results / f"{retry['uuid']}-result.json").write_text(json.dumps(retry), encoding="utf-8")

    verdict, _ = gate.check(results, config(tmp_path, {"max_failures": 0}))

    assert verdict.passed_gate and verdict.tests == 1


@pytest.mark.parametrize("content, fragment", [
    ("not json", "is not valid JSON"),
    ("[]", "expected a JSON object"),
    ('{"rulez": {}}', "unknown key(s) rulez"),
    ('{"rules": {"max_failure": 1}}', "unknown rule 'max_failure'"),
    ('{"rules": {"max_failures": -1}}', "must be a number >= 0"),
    ('{"rules": {"max_failures": true}}', "must be a number >= 0"),
    ('{"rules": {"min_success_rate": 150}}', "is a percentage"),
    ('{"quarantine": [{"scenario": "x"}]}', "quarantine[0] needs a 'reason'"),
    ('{"quarantine": [{"reason": "x"}]}', "exactly one of 'scenario' or 'historyId'"),
    ('{"quarantine": [{"scenario": "x", "reason": "y", "until": "z"}]}', "unknown key(s) until"),
])
def test_a_bad_config_file_names_the_file_and_the_problem(tmp_path, content, fragment):
    path = tmp_path / "quality-gate.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(gate.GateError) as caught:
        gate.load_config(path)

    assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_missing_config_and_missing_results(tmp_path):
    with pytest.raises(gate.GateError, match="does not exist"):
        gate.load_config(tmp_path / "nope.json")
    with pytest.raises(gate.GateError, match="not a directory"):
        gate.check(tmp_path / "no-results", config(tmp_path, {}))


def test_the_repo_gate_file_is_valid():
    loaded = gate.load_config(REPO / "reports" / "quality-gate.json")

    assert set(loaded.rules) == set(gate.RULES)


def command(*args: str) -> subprocess.CompletedProcess:
    """Run python -m crucible gate from the repo root."""
    return subprocess.run([sys.executable, "-m", "crucible", "gate", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_command_exit_codes(tmp_path, run):
    ok = command("--results", str(run), "--config", str(config(tmp_path, {"max_failures": 1})))
    broken = command("--results", str(run), "--config", str(config(tmp_path, {"max_failures": 0})))
    unusable = command("--results", str(run), "--config", str(tmp_path / "missing.json"))

    assert ok.returncode == 0, ok.stderr
    assert "Quality gate PASSED" in ok.stderr
    assert broken.returncode == 1
    assert "BROKEN  max_failures: 1 failure(s), at most 0 allowed" in broken.stderr
    assert unusable.returncode == 2 and "does not exist" in unusable.stderr
