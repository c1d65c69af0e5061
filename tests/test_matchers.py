"""JSON matchers: whole-body match, exact match, containment, paths, markers, and their messages."""

import pytest
from hamcrest import assert_that, equal_to, has_length

from crucible import errors
from crucible.vocabulary.matchers import (MISSING, JsonPath, at_json_path, child_path, compare, contains_json, equals_json,
                               expected_value, finds_regex, is_iso_date, is_iso_datetime, is_json_type, is_uuid,
                               marker, matches_json, value_at)

ORDER = {
    "id": "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e",
    "status": "confirmed",
    "reason": None,
    "created_at": "2030-01-31T09:30:00+00:00",
    "items": [{"sku": "mug", "quantity": 2}, {"sku": "pot", "quantity": 1}],
}


def failure(actual, matcher) -> str:
    """The AssertionError message assert_that gives."""
    with pytest.raises(AssertionError) as raised:
        assert_that(actual, matcher)
    return str(raised.value)


def test_whole_body_match_ignores_fields_not_listed():
    assert_that(ORDER, matches_json({"status": "confirmed", "id": "@uuid@"}))


def test_whole_body_mismatch_names_each_path_expected_and_actual():
    message = failure(ORDER, matches_json({"status": "rejected", "items": [{"sku": "mug", "quantity": 3}, {}]}))
    assert '$.status: expected "rejected" but was "confirmed"' in message
    assert "$.items[0].quantity: expected 3 but was 2" in message


def test_exact_match_reports_extra_fields():
    message = failure({"a": 1, "b": 2}, equals_json({"a": 1}))
    assert '$.b: unexpected field, was 2' in message


def test_missing_field_is_named():
    assert "$.total: expected 5 but the field is missing" in failure(ORDER, matches_json({"total": 5}))


def test_arrays_must_have_the_same_length():
    assert "$: expected 1 items but there are 2" in failure([1, 2], matches_json([1]))


def test_types_are_strict_and_named():
    assert '$.q: expected "5" but was 5 (a number, not a string)' in failure({"q": 5}, matches_json({"q": "5"}))
    assert compare(True, 1, "$", exact=True)
    assert not compare(1, 1.0, "$", exact=True)


@pytest.mark.parametrize("value, text, ok", [
    ("x", "@string@", True), (1, "@string@", False),
    (1.5, "@number@", True), (True, "@number@", False),
    (3, "@integer@", True), (3.5, "@integer@", False),
    (False, "@boolean@", True), ([], "@array@", True), ({}, "@object@", True),
    (None, "@null@", True), (0, "@null@", False), (0, "@notnull@", True), (None, "@notnull@", False),
    (None, "@any@", True),
    ("3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e", "@uuid@", True), ("3f2b8c1e", "@uuid@", False),
    ("2030-01-31T09:30:00Z", "@datetime@", True), ("2030-01-31", "@datetime@", False),
    ("2030-01-31", "@date@", True), ("2030-13-31", "@date@", False),
    ("ABC", "@regex(^A.*)@", True), ("BAC", "@regex(^A.*)@", False), (5, "@regex(5)@", False),
])
def test_markers(value, text, ok):
    assert marker(text).matches(value) is ok


def test_marker_mismatch_reads_well():
    assert '$.id: expected a UUID but was "nope"' in failure({"id": "nope"}, matches_json({"id": "@uuid@"}))
    assert "$.at: expected an ISO-8601 date-time but was 5" in failure({"at": 5}, matches_json({"at": "@datetime@"}))


def test_unknown_marker_is_a_test_data_error():
    with pytest.raises(errors.TestDataError, match="Unknown marker @uuuid@"):
        marker("@uuuid@")


def test_bad_regex_is_a_test_data_error():
    with pytest.raises(errors.TestDataError, match="Invalid regular expression"):
        marker("@regex(()@")


def test_contains_finds_items_in_any_order():
    assert_that(ORDER["items"], contains_json([{"sku": "pot"}, {"sku": "mug", "quantity": 2}]))
    assert_that("not enough stock", contains_json("stock"))
    assert_that(ORDER, contains_json({"status": "confirmed"}))


def test_contains_names_the_closest_item():
    message = failure(ORDER, at_json_path("$.items", contains_json({"sku": "mug", "quantity": 7})))
    assert "$.items: no item matches" in message
    assert "the closest differs at $.items[0].quantity: expected 7 but was 2" in message


def test_at_json_path_prefixes_mismatches_with_the_full_path():
    message = failure(ORDER, at_json_path("$.items[1]", matches_json({"quantity": 4})))
    assert "$.items[1].quantity: expected 4 but was 1" in message


def test_at_json_path_with_a_plain_hamcrest_matcher():
    assert_that(ORDER, at_json_path("items", has_length(2)))
    assert "$.status: expected 'rejected' but was 'confirmed'" in failure(ORDER, at_json_path("$.status", equal_to("rejected")))


def test_missing_path_names_the_path_and_the_fields_there():
    message = failure(ORDER, at_json_path("$.total", equal_to(5)))
    assert "$.total: there is no value at this path" in message
    assert "the object there has: id, status, reason, created_at, items" in message


def test_wildcard_paths_give_every_value():
    assert JsonPath("$.items[*].sku").find(ORDER) == ["mug", "pot"]
    assert JsonPath("$.items[0].sku").find(ORDER) == "mug"
    assert JsonPath("$.nothing").find(ORDER) is MISSING


def test_invalid_path_is_a_test_data_error():
    with pytest.raises(errors.TestDataError, match="Invalid JSON path"):
        JsonPath("$.items[")


def test_value_at():
    assert value_at(ORDER, "$.items[1].quantity") == 1
    with pytest.raises(AssertionError, match=r"\$.nope: there is no value"):
        value_at(ORDER, "nope")


def test_child_paths():
    assert child_path("$", "a") == "$.a"
    assert child_path("$", "a b") == '$["a b"]'
    assert child_path("$.x", 3) == "$.x[3]"


def test_factories():
    assert_that("3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e", is_uuid())
    assert_that("2030-01-31T09:30:00", is_iso_datetime())
    assert_that("2030-01-31", is_iso_date())
    assert_that(4, is_json_type("integer"))
    assert_that("ORD-12", finds_regex(r"^ORD-\d+$"))
    assert_that("crucible-ab-001", expected_value("@regex(^crucible-)@"))
    assert_that("x", expected_value("x"))
    with pytest.raises(errors.TestDataError):
        is_json_type("thing")


def test_describe_to_shows_the_expected_json():
    message = failure({"a": 1}, matches_json({"a": 2, "id": "@uuid@"}))
    assert 'Expected: JSON matching (fields not listed are ignored) {"a": 2, "id": "@uuid@"}' in message
