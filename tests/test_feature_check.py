"""The pre-flight names every problem of the features a run names, by file and line, before anything starts:
undefined steps (with the argument of the wrong type), unknown services, invalid or non-UTF-8 files,
outlines without Examples, keyword typos that turn scenarios into description text, and --tags that
select nothing. A run that still executes no scenario exits 1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crucible import settings
from crucible.stack import compose
from crucible.vocabulary import catalogue, feature_check, preflight

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = settings.load(start=ROOT, environ={})
SECTIONS = catalogue.collect(ROOT / "steps", OPTIONS["steps_order"])
SCOPE = preflight.Scope(compose.load(ROOT / "docker" / "compose.yaml", env={}), OPTIONS)


def found(tmp_path: Path, text: str | bytes, *behave_args: str, name: str = "f.feature") -> list:
    """The problems of one feature file written into tmp_path."""
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return feature_check.problems([str(tmp_path)], tmp_path, SECTIONS, SCOPE, list(behave_args))


def test_the_repository_features_have_no_problems():
    assert feature_check.problems([str(OPTIONS.path("features"))], ROOT, SECTIONS, SCOPE) == []


def test_an_undefined_step_is_named_with_file_line_and_the_closest_steps(tmp_path):
    problems = found(tmp_path, 'Feature: t\n  Scenario: a typo\n    When I send a GET reqest to "orders" at "/o"\n'
                               "    Then the response status is 200\n")
    assert [(p.location, p.text) for p in problems] == [
        ("f.feature:3", 'undefined step: When I send a GET reqest to "orders" at "/o"')]
    assert any('I send a {method} request to "{service}" at "{path}"' in hint for hint in problems[0].hints)


@pytest.mark.parametrize("step, argument, kind", [
    ('Then the response JSON at "$.items" has abc items', "{count} is 'abc'", "a whole number"),
    ("Then the response status is two hundred", "{status} is 'two hundred'", "a whole number"),
    ('Then within soon seconds a "stock.changed" event arrives', "{seconds} is 'soon'", "a number"),
])
def test_a_wrong_argument_type_names_the_argument_and_the_type_it_needs(tmp_path, step, argument, kind):
    problems = found(tmp_path, f"Feature: t\n  Scenario: s\n    {step}\n")
    assert len(problems) == 1 and problems[0].location == "f.feature:3"
    assert any(argument in hint and f"must be {kind}" in hint for hint in problems[0].hints), problems[0].hints


def test_an_unknown_service_of_a_generic_step_is_named_with_the_closest_one(tmp_path):
    problems = found(tmp_path, 'Feature: t\n  Scenario: s\n    When I send a GET request to "ordres" at "/o"\n'
                               '    When I send a GET request to "{svc}" at "/o"\n'
                               '    Then the "inventori" database query "SELECT 1" returns no rows\n')
    assert [p.location for p in problems] == ["f.feature:3", "f.feature:5"]
    assert "there is no service 'ordres' in compose.yaml" in problems[0].text
    assert "did you mean 'orders'?" in problems[0].text and "did you mean 'inventory'?" in problems[1].text


def test_a_keyword_typo_that_makes_scenarios_description_text_is_named(tmp_path):
    problems = found(tmp_path, "Feature: t\n  Senario: misspelt\n    Given the variable \"a\" is 1\n")
    assert [p.location for p in problems] == ["f.feature:2"]
    assert "'Senario:' looks like a misspelt 'Scenario:'" in problems[0].text


def test_a_misspelt_step_keyword_in_a_scenario_description_is_named(tmp_path):
    problems = found(tmp_path, 'Feature: t\n  Scenario: s\n    Gven the variable "a" is 1\n'
                               "    Then the response status is 200\n")
    assert [p.location for p in problems] == ["f.feature:3"]
    assert "'Gven' looks like a misspelt 'Given'" in problems[0].text


def test_steps_under_a_misspelt_keyword_in_a_scenario_are_named_with_a_hint(tmp_path):
    problems = found(tmp_path, "Feature: t\n  Scenario: s\n    Then the response status is 200\n\n"
                               "  Scenaro: second\n    Then the response status is 200\n")
    assert [p.location for p in problems] == ["f.feature:5"]
    assert "not valid Gherkin" in problems[0].text and problems[0].hints == [
        "'Scenaro:' looks like a misspelt 'Scenario:'"]


def test_prose_in_descriptions_is_left_alone(tmp_path):
    problems = found(tmp_path, "Feature: t\n  As a customer I want my parcels.\n  Note: this is prose.\n"
                               "  The shop sells mugs.\n  Scenario: s\n    Then the response status is 200\n")
    assert problems == []


def test_an_outline_without_examples_is_named(tmp_path):
    problems = found(tmp_path, "Feature: t\n  Scenario Outline: nothing to run\n    Then the response status is <s>\n")
    assert [(p.location, "has no Examples rows" in p.text) for p in problems] == [("f.feature:2", True)]


def test_a_file_that_is_not_utf8_is_named_with_its_line_not_a_traceback(tmp_path):
    problems = found(tmp_path, b"Feature: t\n  Scenario: caf\xe9\n    Then the response status is 200\n")
    assert [(p.location, p.text) for p in problems] == [
        ("f.feature:2", "not UTF-8 text (byte 0xe9); save the file as UTF-8.")]


def test_every_file_is_checked_in_one_pass(tmp_path):
    (tmp_path / "broken.feature").write_text("Feature: b\n  Scenario: s\n    Then the response status is 200\n  Oops\n")
    problems = found(tmp_path, "Feature: t\n  Scenario: s\n    Then the moon is blue\n")
    assert sorted(p.location for p in problems) == ["broken.feature:4", "f.feature:3"]


def test_tags_that_select_no_scenario_are_named_with_the_tags_there_are(tmp_path):
    text = "@parcels\nFeature: t\n  @fast\n  Scenario: s\n    Then the response status is 200\n"
    assert found(tmp_path, text, "--tags=@fast", "-D", "retry=1") == []
    problems = found(tmp_path, text, "--tags=@slow")
    assert len(problems) == 1 and "--tags=@slow selects none of the 1 scenarios" in problems[0].text
    assert problems[0].hints == ["the tags there are: @fast, @parcels"]


# --- the command ---------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path) -> Path:
    """A tiny project whose hooks start nothing (its compose image does not exist: starting it would fail)."""
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: crucible-no-such-image:never\n"
                                           "    ports: ['80']\n")
    (tmp_path / "crucible.toml").write_text('compose = ["compose.yaml"]\n')
    (tmp_path / "environment.py").write_text("")
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "crucible_steps.py").write_text("from crucible.vocabulary.steps import *  # noqa\n")
    for folder in ("good", "bad"):
        (tmp_path / "features" / folder).mkdir(parents=True)
    (tmp_path / "features" / "good" / "g.feature").write_text(
        '@good\nFeature: g\n  Scenario: s\n    Given the variable "a" is 1\n')
    (tmp_path / "features" / "bad" / "b.feature").write_text("Feature: b\n  Scenario: s\n    Then the moon is blue\n")
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`crucible run ARGS` in the project."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRUCIBLE_") or k == "CRUCIBLE_HOME"},
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "crucible", "run", *args], cwd=project, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def test_the_run_checks_the_paths_it_names_not_all_features(project):
    everything = run(project)
    assert everything.returncode == 1 and "features/bad/b.feature:3: undefined step" in everything.stderr
    named = run(project, "features/bad")
    assert named.returncode == 1 and "features/bad/b.feature:3" in named.stderr
    good = run(project, "features/good", "--tags=@bad")
    assert good.returncode == 1 and "b.feature" not in good.stderr
    assert "--tags=@bad selects none of the 1 scenarios" in good.stderr and "Running: behave" not in good.stderr


def test_a_run_that_executes_no_scenario_exits_1_saying_so(project):
    result = run(project, "features/good", "-n", "no scenario has this name")
    assert "Running: behave" in result.stderr
    assert result.returncode == 1, result.stderr
    assert "No scenario ran" in result.stderr and "Nothing was tested" in result.stderr
