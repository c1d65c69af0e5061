"""Bad input to load and fault steps is refused before anything starts, naming the step and what is wrong."""

import logging
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
