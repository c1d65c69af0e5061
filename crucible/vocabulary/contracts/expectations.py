"""What a consumer expects of a provider, as a feature writes it, turned into Pact bodies with matchers.

A table has one row per field the consumer relies on::

    | field          | example                              | match        |
    | id             | 6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11 | any UUID     |
    | status         | reserved                             | exactly      |
    | items          | {"sku": "blue-mug", "quantity": 2}   | each like    |
    | expires_at     | 2030-01-31T09:30:00.000Z             | any datetime |

``field`` is a path (``card.last4``, ``items[0].sku``); ``example`` is JSON when it reads as JSON
(``2``, ``true``, ``{"a": 1}``), else text; ``match`` is one of :data:`WORDS` or ``matching <regex>``
(without the column every field is matched ``exactly``). A JSON docstring is matched exactly except
for markers: the strings ``"@uuid@"``, ``"@datetime@"``, ``"@date@"``, ``"@string@"``,
``"@integer@"``, ``"@number@"``, ``"@boolean@"``, ``"@regex(^A.*)@"``, and the one-key objects
``{"@like": <example>}`` and ``{"@each like": <example item>}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crucible.errors import TestDataError
from crucible.vocabulary.variables import current_step, describe_step, docstring_json

ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
UUID_EXAMPLE = "6f1c6c52-7e0b-4c43-9a2f-3c8f0d6d2f11"
# Match words of the table, and the example each kind of marker stands for.
KINDS = {
    "any UUID": ("@uuid@", UUID_EXAMPLE),
    "any datetime": ("@datetime@", "2030-01-31T09:30:00.000Z"),
    "any date": ("@date@", "2030-01-31"),
    "any string": ("@string@", "text"),
    "any integer": ("@integer@", 1),
    "any number": ("@number@", 1.5),
    "any boolean": ("@boolean@", True),
}
WORDS = ("exactly", "like this", "each like", *KINDS, "matching <regex>")
MARKERS = {marker: word for word, (marker, _) in KINDS.items()}
REGEX_MARKER = re.compile(r"^@regex\((.*)\)@$", re.DOTALL)
PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _match():
    """pact-python's match module (imported when a pact is written, with Pact's telemetry off)."""
    from crucible.vocabulary.contracts import pacts
    return pacts.library().match


def cell(text: str) -> Any:
    """A table cell: JSON when it reads as JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def matcher(word: str, example: Any, where: str) -> Any:
    """The Pact matcher a match word stands for, with its example."""
    match = _match()
    word = word.strip()
    if word in ("", "exactly"):
        return from_json(example, where)
    if word == "like this":
        return match.like(from_json(example, where))
    if word == "each like":
        item = example[0] if isinstance(example, list) and example else example
        return match.each_like(from_json(item, where))
    if word.startswith("matching "):
        pattern = word.removeprefix("matching ").strip()
        return match.regex(str(example), regex=pattern)
    if word in KINDS:
        return kind_matcher(KINDS[word][0], example)
    raise TestDataError(f"{where}: unknown match '{word}'; use one of: {', '.join(WORDS)}.")


def kind_matcher(marker: str, example: Any = None) -> Any:
    """The matcher of a kind marker (``"@uuid@"``) with an example (its usual example when none is given)."""
    match = _match()
    word = MARKERS[marker]
    example = KINDS[word][1] if example is None else example
    if marker == "@uuid@":
        return match.uuid(str(example))
    if marker == "@datetime@":
        return match.regex(str(example), regex=ISO_DATETIME)
    if marker == "@date@":
        return match.regex(str(example), regex=ISO_DATE)
    if marker == "@string@":
        return match.str(str(example))
    if marker == "@integer@":
        return match.int(int(example))
    if marker == "@number@":
        return match.number(example)
    return match.bool(bool(example))


def from_json(value: Any, where: str) -> Any:
    """A JSON value with its markers turned into matchers (everything else stays an exact example)."""
    if isinstance(value, str):
        if value in MARKERS:
            return kind_matcher(value)
        regex = REGEX_MARKER.match(value)
        if regex:
            return _match().regex(regex_example(regex.group(1), where), regex=regex.group(1))
        if value.startswith("@") and value.endswith("@") and len(value) > 2:
            raise TestDataError(f"{where}: the marker {value} has no meaning in a pact; use one of "
                                f"{', '.join(MARKERS)}, @regex(...)@, {{\"@like\": ...}} or {{\"@each like\": ...}}.")
        return value
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("@like", "@each like"):
            word, example = next(iter(value.items()))
            return matcher(word.lstrip("@") + (" this" if word == "@like" else ""), example, where)
        return {key: from_json(item, where) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item, where) for item in value]
    return value


def regex_example(pattern: str, where: str) -> str:
    """An example for a ``@regex(...)@`` marker: Pact needs one; a pattern that is a plain literal gives itself."""
    literal = pattern.strip("^$")
    if re.fullmatch(pattern, literal):
        return literal
    raise TestDataError(f"{where}: a pact needs an example for @regex({pattern})@; write the field in a table "
                        f"with an example and 'matching {pattern}'.")


def put(body: dict, path: str, value: Any, where: str) -> None:
    """Set ``value`` at a field path (``card.last4``, ``items[0].sku``) in a nested body, creating what is missing."""
    parts = [name if name else int(index) for name, index in PATH_PART.findall(path)]
    if not parts or "".join(str(p) for p in parts) == "":
        raise TestDataError(f"{where}: '{path}' is not a field path (e.g. card.last4 or items[0].sku).")
    node: Any = body
    for part, after in zip(parts, parts[1:] + [None]):
        fresh: Any = value if after is None else ([] if isinstance(after, int) else {})
        if isinstance(part, int):
            if not isinstance(node, list):
                raise TestDataError(f"{where}: '{path}' indexes something that is not a list.")
            while len(node) <= part:
                node.append(None)
            if after is None or node[part] is None:
                node[part] = fresh
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise TestDataError(f"{where}: '{path}' names a field inside something that is not an object.")
            if after is None or part not in node:
                node[part] = fresh
            node = node[part]


def from_table(headings: list[str], rows: list[list[str]], where: str) -> dict:
    """A body from a ``| field | example | match |`` table (the match column may be left out)."""
    names = [h.strip().lower() for h in headings]
    if names[:2] != ["field", "example"] or len(names) > 3 or (len(names) == 3 and names[2] != "match"):
        raise TestDataError(f"{where} needs a table with the columns | field | example | match | (match may be "
                            f"left out: every field is then matched exactly), not | {' | '.join(headings)} |.")
    body: dict = {}
    for row in rows:
        word = row[2] if len(row) > 2 else "exactly"
        put(body, row[0].strip(), matcher(word, cell(row[1]), f"{where}, field '{row[0].strip()}'"), where)
    return body


def examples(value: Any) -> Any:
    """The plain example of a body with matchers (what the consumer sends, what the mock server answers)."""
    if hasattr(value, "value") and type(value).__module__.startswith("pact."):
        return examples(value.value)
    if isinstance(value, dict):
        return {key: examples(item) for key, item in value.items()}
    if isinstance(value, list):
        return [examples(item) for item in value]
    return value


def table_body(context) -> dict:
    """The current step's ``| field | example | match |`` table as a body with matchers."""
    where = describe_step(current_step(context))
    if context.table is None:
        raise TestDataError(f"{where} needs a table: | field | example | match |")
    return from_table(context.table.headings, [row.cells for row in context.table.rows], where)


def json_body(context) -> Any:
    """The current step's JSON docstring, its markers as matchers."""
    return from_json(docstring_json(context), describe_step(current_step(context)))
