"""The step catalogue: docs/steps.md is current, every step has an example that matches it, every
generic step expands variables."""

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
