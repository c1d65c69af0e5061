"""Comparing outcomes across runs."""

import json

from crucible.report.flaky import changed, outcomes


def test_only_scenarios_whose_status_differs_are_listed():
    runs = [{"a": "passed", "b": "failed", "c": "passed"},
            {"a": "passed", "b": "failed", "c": "failed"},
            {"a": "passed", "b": "failed"}]
    assert changed(runs) == {"c": ["passed", "failed", "missing"]}


def test_outcomes_reads_behave_json(tmp_path):
    report = tmp_path / "r.json"
    report.write_text(json.dumps([{"elements": [
        {"type": "background", "name": "bg"},
        {"type": "scenario", "name": "Buy", "location": "f.feature:3", "status": "passed"},
    ]}]))
    assert outcomes(report) == {"f.feature:3 Buy": "passed"}
