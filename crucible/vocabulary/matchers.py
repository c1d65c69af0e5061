"""PyHamcrest matchers for JSON: whole-body match, containment, JSON paths and fuzzy markers.

Expected JSON is written as JSON, and any string value may be a *marker* that matches a kind of
value instead of one value:

=====================  =====================================================
``"@any@"``            anything, including null
``"@string@"``         any string
``"@number@"``         any number (integer or decimal)
``"@integer@"``        any whole number
``"@boolean@"``        true or false
``"@array@"``          any array
``"@object@"``         any object
``"@null@"``           null
``"@notnull@"``        anything but null
``"@uuid@"``           a UUID string, e.g. ``"3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e"``
``"@datetime@"``       an ISO-8601 date-time string, e.g. ``"2030-01-31T09:30:00+00:00"``
``"@date@"``           an ISO-8601 date string, e.g. ``"2030-01-31"``
``"@regex(^A.*)@"``    a string in which the regular expression finds a match
=====================  =====================================================

Every mismatch names the JSON path where it was found, the expected and the actual value, e.g.
``$.items[0].quantity: expected 2 but was 3``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from typing import Any

from hamcrest import anything, equal_to
from hamcrest.core.base_matcher import BaseMatcher
from hamcrest.core.description import Description
from hamcrest.core.matcher import Matcher
from hamcrest.core.string_description import StringDescription
from jsonpath_ng import parse as parse_path
from jsonpath_ng.jsonpath import Child, Fields, Index, Root, This

from crucible import secrets
from crucible.errors import TestDataError

MISSING = object()
MAX_SHOWN = 300
MAX_MISMATCHES = 10
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REGEX_MARKER = re.compile(r"^@regex\((.*)\)@$", re.DOTALL)
DATETIME_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def render(value: Any) -> str:
    """A value as compact JSON for a message, cut to a readable length."""
    if value is MISSING:
        return "(missing)"
    if isinstance(value, Matcher):
        return str(StringDescription().append_description_of(value))
    try:
        text = json.dumps(value, ensure_ascii=False, default=_render_default)
    except (TypeError, ValueError):
        text = repr(value)
    return secrets.shortened(text, MAX_SHOWN + 3)


def _render_default(value: Any) -> str:
    """Render matchers (and anything else json cannot) by their description."""
    if isinstance(value, Matcher):
        return str(StringDescription().append_description_of(value))
    return str(value)


def child_path(path: str, key: str | int) -> str:
    """The JSON path of a field or item below ``path``: ``$.a``, ``$["a b"]``, ``$[0]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


class JsonMatcher(BaseMatcher):
    """Base of the JSON matchers: each lists its mismatches for a value found at a JSON path."""

    def mismatches(self, item: Any, path: str) -> list[str]:
        """Every way ``item`` (found at ``path``) fails this matcher, each naming its path."""
        raise NotImplementedError

    def _matches(self, item: Any) -> bool:
        return not self.mismatches(item, "$")

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        self.describe_mismatch_at(item, "$", mismatch_description)

    def describe_mismatch_at(self, item: Any, path: str, mismatch_description: Description) -> None:
        """Describe the mismatches of a value found at ``path``."""
        found = self.mismatches(item, path)
        shown = found[:MAX_MISMATCHES]
        more = f"\n          ... and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
        mismatch_description.append_text("\n          ".join(shown) + more)


# --- markers -------------------------------------------------------------------------------------

class IsJsonType(BaseMatcher):
    """Matches a JSON value of one kind: string, number, integer, boolean, array, object, null."""

    CHECKS = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer()),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
        "notnull": lambda v: v is not None and v is not MISSING,
    }
    NAMES = {"integer": "an integer", "array": "an array", "object": "an object", "null": "null",
             "notnull": "a value that is not null"}

    def __init__(self, kind: str):
        if kind not in self.CHECKS:
            raise TestDataError(f"Unknown JSON type '{kind}'; use one of: {', '.join(self.CHECKS)}.")
        self.kind = kind

    def _matches(self, item: Any) -> bool:
        return self.CHECKS[self.kind](item)

    def describe_to(self, description: Description) -> None:
        description.append_text(self.NAMES.get(self.kind, f"a {self.kind}"))

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        mismatch_description.append_text(f"was {render(item)}")


def is_json_type(kind: str) -> Matcher:
    """Matches a JSON value of the given kind.

    Example::

        assert_that(body["quantity"], is_json_type("integer"))
    """
    return IsJsonType(kind)


class IsUuid(BaseMatcher):
    """Matches a string that is a UUID in its usual 8-4-4-4-12 hex form."""

    def _matches(self, item: Any) -> bool:
        if not isinstance(item, str) or len(item) != 36:
            return False
        try:
            uuid.UUID(item)
        except ValueError:
            return False
        return True

    def describe_to(self, description: Description) -> None:
        description.append_text("a UUID")

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        mismatch_description.append_text(f"was {render(item)}")


def is_uuid() -> Matcher:
    """Matches a UUID string.

    Example::

        assert_that(order["id"], is_uuid())
    """
    return IsUuid()


class IsIsoDatetime(BaseMatcher):
    """Matches an ISO-8601 date-time string (a date-only string with ``date_only``)."""

    def __init__(self, date_only: bool = False):
        self.date_only = date_only

    def _matches(self, item: Any) -> bool:
        if not isinstance(item, str):
            return False
        shape, parser = (DATE_SHAPE, date.fromisoformat) if self.date_only else (DATETIME_SHAPE,
                                                                                  datetime.fromisoformat)
        if not shape.match(item):
            return False
        try:
            parser(item)
        except ValueError:
            return False
        return True

    def describe_to(self, description: Description) -> None:
        description.append_text("an ISO-8601 date" if self.date_only else "an ISO-8601 date-time")

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        mismatch_description.append_text(f"was {render(item)}")


def is_iso_datetime() -> Matcher:
    """Matches an ISO-8601 date-time string.

    Example::

        assert_that(order["created_at"], is_iso_datetime())
    """
    return IsIsoDatetime()


def is_iso_date() -> Matcher:
    """Matches an ISO-8601 date string.

    Example::

        assert_that("2030-01-31", is_iso_date())
    """
    return IsIsoDatetime(date_only=True)


class FindsRegex(BaseMatcher):
    """Matches a string in which a regular expression finds a match."""

    def __init__(self, pattern: str):
        try:
            self.regex = re.compile(pattern)
        except re.error as exc:
            raise TestDataError(f"Invalid regular expression '{pattern}' in a @regex(...)@ marker: {exc}") from None

    def _matches(self, item: Any) -> bool:
        return isinstance(item, str) and self.regex.search(item) is not None

    def describe_to(self, description: Description) -> None:
        description.append_text(f"a string matching /{self.regex.pattern}/")

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        mismatch_description.append_text(f"was {render(item)}")


def finds_regex(pattern: str) -> Matcher:
    """Matches a string in which ``pattern`` finds a match (anchor it with ``^`` and ``$``).

    Example::

        assert_that("ORD-123", finds_regex(r"^ORD-\\d+$"))
    """
    return FindsRegex(pattern)


MARKERS: dict[str, Matcher] = {
    "@any@": anything(),
    "@string@": IsJsonType("string"),
    "@number@": IsJsonType("number"),
    "@integer@": IsJsonType("integer"),
    "@boolean@": IsJsonType("boolean"),
    "@array@": IsJsonType("array"),
    "@object@": IsJsonType("object"),
    "@null@": IsJsonType("null"),
    "@notnull@": IsJsonType("notnull"),
    "@uuid@": IsUuid(),
    "@datetime@": IsIsoDatetime(),
    "@date@": IsIsoDatetime(date_only=True),
}


def marker(value: Any) -> Matcher | None:
    """The matcher a marker string stands for (``"@uuid@"``), a matcher as is, else None."""
    if isinstance(value, Matcher):
        return value
    if not isinstance(value, str) or not (value.startswith("@") and value.endswith("@")):
        return None
    if value in MARKERS:
        return MARKERS[value]
    regex = REGEX_MARKER.match(value)
    if regex:
        return FindsRegex(regex.group(1))
    if re.fullmatch(r"@[a-z]+(\(.*\))?@", value, re.DOTALL):
        raise TestDataError(f"Unknown marker {value}; known markers: {', '.join(MARKERS)}, @regex(...)@.")
    return None


# --- structural matchers -------------------------------------------------------------------------

def _same_scalar(expected: Any, actual: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true never equals 1 and "1" never equals 1."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _kind(value: Any) -> str:
    """A JSON value's kind for messages."""
    for name in ("null", "boolean", "string", "array", "object"):
        if IsJsonType.CHECKS[name](value):
            return name
    return "number"


def compare(expected: Any, actual: Any, path: str, exact: bool) -> list[str]:
    """Mismatches between expected JSON (with markers) and actual JSON, each naming its path.

    Objects may have fields the expected JSON does not name unless ``exact``; arrays must have
    the same length and match item by item.
    """
    out: list[str] = []
    _compare(expected, actual, path, exact, out)
    return out


def _compare(expected: Any, actual: Any, path: str, exact: bool, out: list[str]) -> None:
    """Append to ``out`` every mismatch below ``path``."""
    matcher = marker(expected)
    if matcher is not None:
        if not matcher.matches(actual):
            out.append(f"{path}: expected {render(matcher)} but was {render(actual)}")
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append(f"{path}: expected an object but was {render(actual)}")
            return
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{child_path(path, key)}: expected {render(value)} but the field is missing")
            else:
                _compare(value, actual[key], child_path(path, key), exact, out)
        if exact:
            for key in [k for k in actual if k not in expected]:
                out.append(f"{child_path(path, key)}: unexpected field, was {render(actual[key])}")
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            out.append(f"{path}: expected an array but was {render(actual)}")
            return
        if len(expected) != len(actual):
            out.append(f"{path}: expected {len(expected)} items but there are {len(actual)}: {render(actual)}")
        for index, (item_expected, item_actual) in enumerate(zip(expected, actual)):
            _compare(item_expected, item_actual, child_path(path, index), exact, out)
    elif not _same_scalar(expected, actual):
        kinds = f" (a {_kind(actual)}, not a {_kind(expected)})" if _kind(expected) != _kind(actual) else ""
        out.append(f"{path}: expected {render(expected)} but was {render(actual)}{kinds}")


class MatchesJson(JsonMatcher):
    """Matches JSON against expected JSON with markers; extra object fields allowed unless exact."""

    def __init__(self, expected: Any, exact: bool = False):
        self.expected = expected
        self.exact = exact

    def mismatches(self, item: Any, path: str) -> list[str]:
        return compare(self.expected, item, path, self.exact)

    def describe_to(self, description: Description) -> None:
        how = "JSON equal to" if self.exact else "JSON matching (fields not listed are ignored)"
        description.append_text(f"{how} {render(self.expected)}")


def matches_json(expected: Any) -> Matcher:
    """Matches JSON that has at least the expected fields and values; markers allowed.

    Example::

        assert_that(body, matches_json({"status": "confirmed", "id": "@uuid@"}))
    """
    return MatchesJson(expected)


def equals_json(expected: Any) -> Matcher:
    """Matches JSON equal to the expected JSON (no extra fields); markers allowed.

    Example::

        assert_that(body, equals_json({"store": "north", "sku": "mug", "quantity": "@integer@"}))
    """
    return MatchesJson(expected, exact=True)


class ContainsJson(JsonMatcher):
    """Matches an array holding items that match, an object with the fields, a string with the text."""

    def __init__(self, expected: Any):
        self.expected = expected

    def mismatches(self, item: Any, path: str) -> list[str]:
        if isinstance(item, list):
            wanted = self.expected if isinstance(self.expected, list) else [self.expected]
            return [problem for one in wanted for problem in self._item_mismatches(one, item, path)]
        if isinstance(item, dict) and isinstance(self.expected, dict):
            return compare(self.expected, item, path, exact=False)
        if isinstance(item, str) and isinstance(self.expected, str) and marker(self.expected) is None:
            return [] if self.expected in item else [f"{path}: expected a string containing "
                                                     f"{render(self.expected)} but was {render(item)}"]
        return [f"{path}: expected something containing {render(self.expected)} but was {render(item)}"]

    @staticmethod
    def _item_mismatches(wanted: Any, items: list, path: str) -> list[str]:
        """No mismatch if some item matches ``wanted``; else one naming the closest item."""
        if not items:
            return [f"{path}: expected an item matching {render(wanted)} but the array is empty"]
        tries = [compare(wanted, item, child_path(path, i), exact=False) for i, item in enumerate(items)]
        if any(not problems for problems in tries):
            return []
        closest = min(tries, key=len)
        return [f"{path}: no item matches {render(wanted)}; the closest differs at "
                + "; ".join(closest[:3])]

    def describe_to(self, description: Description) -> None:
        description.append_text(f"JSON containing {render(self.expected)}")


def contains_json(expected: Any) -> Matcher:
    """Matches an array with an item matching each expected item, an object with the expected
    fields, or a string containing the expected text.

    Example::

        assert_that(body["items"], contains_json({"sku": "mug", "quantity": 2}))
    """
    return ContainsJson(expected)


def _definite(node: Any) -> bool:
    """True if a parsed JSON path names at most one value (no wildcard, slice, filter, ``..``)."""
    if isinstance(node, (Root, This)):
        return True
    if isinstance(node, Child):
        return _definite(node.left) and _definite(node.right)
    if isinstance(node, Fields):
        return len(node.fields) == 1 and node.fields[0] != "*"
    if isinstance(node, Index):
        return len(getattr(node, "indices", (getattr(node, "index", 0),))) == 1
    return False


class JsonPath:
    """A parsed JSON path, e.g. ``$.items[0].sku`` (``$.`` may be left out: ``items[0].sku``)."""

    def __init__(self, text: str):
        self.text = text if text.startswith("$") else f"$.{text}"
        try:
            self.expr = parse_path(self.text)
        except Exception as exc:  # jsonpath-ng raises plain Exception subclasses for bad syntax
            raise TestDataError(f"Invalid JSON path '{text}': {exc}") from None
        self.definite = _definite(self.expr)

    def find(self, document: Any) -> Any:
        """The value at this path (MISSING if none); a list of values for wildcard paths."""
        found = [match.value for match in self.expr.find(document)]
        if self.definite:
            return found[0] if found else MISSING
        return found

    def __str__(self) -> str:
        return self.text


class AtJsonPath(BaseMatcher):
    """Matches a JSON document whose value at a JSON path satisfies another matcher."""

    def __init__(self, path: str | JsonPath, matcher: Matcher):
        self.path = path if isinstance(path, JsonPath) else JsonPath(path)
        self.matcher = matcher

    def _matches(self, item: Any) -> bool:
        value = self.path.find(item)
        return value is not MISSING and self.matcher.matches(value)

    def describe_to(self, description: Description) -> None:
        description.append_text(f"a value at {self.path} that is ").append_description_of(self.matcher)

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        value = self.path.find(item)
        if value is MISSING:
            keys = f" (the object there has: {', '.join(map(str, item))})" if isinstance(item, dict) else ""
            mismatch_description.append_text(f"{self.path}: there is no value at this path{keys}")
        elif isinstance(self.matcher, JsonMatcher):
            self.matcher.describe_mismatch_at(value, str(self.path), mismatch_description)
        else:
            mismatch_description.append_text(f"{self.path}: expected ").append_description_of(self.matcher)
            mismatch_description.append_text(" but ")
            self.matcher.describe_mismatch(value, mismatch_description)


def at_json_path(path: str, matcher: Matcher) -> Matcher:
    """Matches a JSON document whose value at ``path`` satisfies ``matcher``.

    Example::

        assert_that(body, at_json_path("$.items[0].sku", equal_to("mug")))
    """
    return AtJsonPath(path, matcher)


def failure(matcher: Matcher, item: Any, where: str, what: str = "the value") -> str:
    """Why ``item`` fails ``matcher``, leading with what differs (``$.json.copies: expected 6 but was 3``: no
    host port, id or body in that first line, so the same failure reads the same in every run), then
    ``where`` the value was found and the value itself. ``what`` names the value when the matcher does not
    (a header).

    Example::

        raise AssertionError(failure(matches_json({"copies": 6}), body, "the JSON body of GET /parcels -> 200"))
    """
    mismatch = StringDescription()
    matcher.describe_mismatch(item, mismatch)
    if isinstance(matcher, (JsonMatcher, AtJsonPath)):
        lines = [line.strip() for line in str(mismatch).splitlines()]
    else:
        lines = [f"{what}: expected {StringDescription().append_description_of(matcher)} but {mismatch}"]
    return "\n".join([*lines, f"{where}: {render(item)}"])


def value_at(document: Any, path: str) -> Any:
    """The value at a JSON path, or an AssertionError naming the path and the document."""
    json_path = JsonPath(path)
    value = json_path.find(document)
    if value is MISSING:
        raise AssertionError(f"{json_path}: there is no value at this path in {render(document)}")
    return value


def expected_value(expected: Any) -> Matcher:
    """The matcher for one expected value: a marker's matcher (``"@uuid@"``), else equality.

    Example::

        assert_that(response.headers["X-Request-ID"], expected_value("@regex(^crucible-)@"))
    """
    return marker(expected) or equal_to(expected)
