"""The step catalogue: docs/steps.md is current, every step has an example that matches it, and
an undefined step is reported with its file, line and the closest existing steps."""

import inspect
from pathlib import Path

import pytest
from behave.parser import parse_steps
from behave.step_registry import registry

from crucible import settings
from crucible.vocabulary import catalogue
from crucible.vocabulary.matchers import MARKERS

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = settings.load(start=ROOT, environ={})
DOCS = ROOT / "docs" / "steps.md"
SECTIONS = catalogue.collect(ROOT / "steps", OPTIONS["steps_order"])
STEPS = [doc for section in SECTIONS for doc in section.steps]


def test_docs_steps_md_is_current():
    assert DOCS.read_text() == catalogue.render(SECTIONS), "docs/steps.md is stale: run `make docs` and commit it"


def test_check_flag_agrees():
    assert catalogue.write_docs(OPTIONS, check=True) == 0


@pytest.mark.parametrize("doc", STEPS, ids=[f"{d.location}" for d in STEPS])
def test_every_step_has_an_example_that_matches_itself(doc):
    assert doc.example, f"{doc.location}: the step's docstring must start with 'Example: ...'"
    gherkin = "\n".join(catalogue._example_block(doc))
    steps = parse_steps(gherkin)
    assert len(steps) == 1, f"{doc.location}: the example is not one step: {gherkin}"
    match = registry.find_match(steps[0])
    assert match is not None, f"{doc.location}: the example matches no step: {doc.example}"
    assert f"{Path(match.location.filename).name}:{match.location.line}" == doc.location, \
        f"{doc.location}: the example runs another step ({match.location})"


def test_every_generic_step_expands_variables():
    generic = [d for d in STEPS if d.module in catalogue.GENERIC]
    for step_type, matchers in registry.steps.items():
        for matcher in matchers:
            if Path(matcher.location.filename).name in {d.module for d in generic}:
                assert getattr(matcher.func, "templated", False), \
                    f"{matcher.location}: a generic step must be decorated with @templated"


def test_every_marker_is_documented():
    text = DOCS.read_text()
    for name in MARKERS:
        assert f'"{name}"' in text, name


def test_sections_come_in_reading_order():
    titles = [s.title for s in SECTIONS]
    assert titles.index("HTTP") < titles.index("JSON") < titles.index("Database")


def test_parse_docstring_splits_example_block_and_description():
    doc = '''Example: Then the response JSON matches:
        {"a": 1}
        {"b": 2}

    Fields not listed are ignored.
    '''
    assert catalogue.parse_docstring(doc) == ("Then the response JSON matches:", ['{"a": 1}', '{"b": 2}'],
                                              "Fields not listed are ignored.")
    assert catalogue.parse_docstring('Example: Then x ') == ("Then x", [], "")
    assert catalogue.parse_docstring(inspect.cleandoc("No example")) == ("", [], "No example")


def test_undefined_steps_are_named_with_file_line_and_suggestions(tmp_path):
    feature = tmp_path / "typo.feature"
    feature.write_text(
        "Feature: typos\n"
        "  Scenario: a typo\n"
        '    When I send a GET reqest to "orders" at "/orders/1"\n'
        "    Then the response status is 200\n"
        "  Scenario Outline: outlines are expanded\n"
        "    Then the response status is <status>\n"
        "    Examples:\n"
        "      | status |\n"
        "      | 201    |\n")
    problems = catalogue.undefined_steps([str(tmp_path)], SECTIONS, ROOT)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.location.endswith("typo.feature:3")
    assert problem.text == 'When I send a GET reqest to "orders" at "/orders/1"'
    assert any('I send a {method} request to "{service}" at "{path}"' in s for s in problem.suggestions)


def test_check_undefined_exit_codes(tmp_path, caplog):
    (tmp_path / "ok.feature").write_text("Feature: ok\n  Scenario: fine\n    Then the response status is 200\n")
    assert catalogue.check_undefined([str(tmp_path)], OPTIONS) == 0
    (tmp_path / "bad.feature").write_text("Feature: bad\n  Scenario: nope\n    Then the moon is blue\n")
    assert catalogue.check_undefined([str(tmp_path)], OPTIONS) == 1


def test_the_repository_features_have_no_undefined_steps():
    assert catalogue.undefined_steps([str(OPTIONS.path("features"))], SECTIONS, ROOT) == []


def test_a_step_argument_of_the_wrong_type_is_an_undefined_step_with_suggestions(tmp_path):
    (tmp_path / "typed.feature").write_text(
        "Feature: t\n  Scenario: words for a number\n    Then the response status is two hundred\n")
    problems = catalogue.undefined_steps([str(tmp_path)], SECTIONS, ROOT)
    assert [p.text for p in problems] == ["Then the response status is two hundred"]
    assert problems[0].location.endswith("typed.feature:3")
    assert any("Then the response status is 201" in s for s in problems[0].suggestions)


def test_invalid_gherkin_is_named_by_file_and_line_before_anything_starts(tmp_path, caplog):
    (tmp_path / "broken.feature").write_text(
        "Feature: b\n  Scenario: s\n    Then the response status is 200\n  Oops this is not gherkin\n")
    assert catalogue.check_undefined([str(tmp_path)], OPTIONS) == 1
    assert "broken.feature:4: not valid Gherkin" in caplog.text
