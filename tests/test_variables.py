"""Variables and templating: remembered values, {uid}, {now+5m}, escapes, errors, JSON in features."""

from datetime import datetime, timezone

import pytest

from crucible import errors
from crucible.vocabulary.variables import Variables, iso_utc, json_kind, json_literal, parse_json

NOW = datetime(2030, 1, 31, 9, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
def variables():
    return Variables("ab12cd34", clock=lambda: NOW)


def test_remembered_values_and_the_unique_id(variables):
    variables.remember("store", "north-x")
    assert variables.expand("/stock/{store}/mug-{uid}-{unique}") == "/stock/north-x/mug-ab12cd34-ab12cd34"


def test_non_strings_are_inserted_as_json(variables):
    variables.remember("qty", 5)
    variables.remember("items", [{"sku": "a"}])
    variables.remember("gone", None)
    assert variables.expand('{"quantity": {qty}, "items": {items}, "x": {gone}}') == \
        '{"quantity": 5, "items": [{"sku": "a"}], "x": null}'


def test_now_and_offsets_are_iso_utc(variables):
    assert variables.expand("{now}") == "2030-01-31T09:30:15Z"
    assert variables.expand("{now+5m}") == "2030-01-31T09:35:15Z"
    assert variables.expand("{now-1d}") == "2030-01-30T09:30:15Z"
    assert variables.expand("{now+2h} {now-30s}") == "2030-01-31T11:30:15Z 2030-01-31T09:29:45Z"


def test_json_and_regex_braces_are_left_alone(variables):
    text = '{"a": {"b": []}, "re": "@regex(^\\\\d{3}$)@"}'
    assert variables.expand(text) == text


def test_double_braces_escape_a_placeholder(variables):
    assert variables.expand("{{store}}") == "{store}"


def test_unset_variable_names_it_the_step_and_the_known_ones(variables):
    variables.remember("store", "north")
    with pytest.raises(errors.TestDataError) as raised:
        variables.expand("/stock/{shop}", where="step 'When I send' (a.feature:3)")
    message = str(raised.value)
    assert "Variable 'shop' is not set in step 'When I send' (a.feature:3)" in message
    assert "Set in this scenario: store" in message
    assert "built in: uid, unique, now" in message


def test_offset_only_on_now(variables):
    with pytest.raises(errors.TestDataError, match="only 'now' takes an offset"):
        variables.expand("{store+5m}")


def test_built_ins_cannot_be_overwritten(variables):
    with pytest.raises(errors.TestDataError, match="built-in"):
        variables.remember("uid", "x")


def test_iso_utc_converts_other_zones():
    from datetime import timedelta
    moment = datetime(2030, 1, 31, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(moment) == "2030-01-31T09:30:00Z"


def test_invalid_json_names_where_line_column_and_shows_a_caret():
    text = '{"a": 1,\n "b": 2\n "c": 3}'
    with pytest.raises(errors.TestDataError) as raised:
        parse_json(text, "step 'Then x' (f.feature:10)", first_line=11)
    message = str(raised.value)
    assert "Invalid JSON in step 'Then x' (f.feature:10), line 14 of the feature file, column 2" in message
    assert "Expecting ',' delimiter" in message
    assert ' "c": 3}\n     ^' in message


def test_parse_types_for_step_patterns():
    import re
    literal = re.compile(f"^(?:{json_literal.pattern})$")
    for ok in ['"confirmed"', "5", "-1.5e3", "true", "null", "[1]", '{"a": 1}', "{qty}"]:
        assert literal.match(ok), ok
    for bad in ["a uuid", "confirmed"]:
        assert not literal.match(bad), bad
    with pytest.raises(errors.TestDataError, match=r"Invalid JSON in step 'Then x', column 1: Expecting value"):
        parse_json("confirmed", "step 'Then x'")
    assert json_kind("an integer") == "integer" and json_kind("a uuid") == "uuid"
