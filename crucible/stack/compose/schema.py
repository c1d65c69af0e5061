"""The shape of a compose file, checked against the official Compose specification's JSON schema.

The schema is the one check-jsonschema ships (``compose-spec.json``, vendored from compose-spec);
``jsonschema`` validates with it. Its raw errors are turned into one problem each, at the line of
the offending key: an unknown key with the closest known one, a wrong type with what it must be,
the branch of a "one of" that fits the value rather than the first that does not.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from importlib.resources import files
from typing import Any, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from crucible.stack.compose.problems import Findings
from crucible.stack.compose.source import Node, locate

SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "compose-spec.json"
SPEC = "https://docs.docker.com/reference/compose-file/"
_TYPES = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
          "array": "a list", "object": "a mapping", "null": "empty"}


@lru_cache(maxsize=1)
def schema() -> dict:
    """The official Compose specification schema."""
    return json.loads(files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def validate(tree: Node, findings: Findings) -> None:
    """Record one problem per way ``tree`` breaks the Compose specification."""
    for error in _validator().iter_errors(tree):
        for leaf in _leaves(error):
            _record(tree, leaf, findings)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors that say what is wrong: inside a oneOf/anyOf, those of the branch that fits the value."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        yield error
        return
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [errors for errors in branches.values()
               if not any(e.validator == "type" and not e.relative_path for e in errors)]
    if not fitting:
        yield error  # the value has none of the allowed types
        return
    for sub in min(fitting, key=len):
        yield from _leaves(sub)


def _record(tree: Node, error: ValidationError, findings: Findings) -> None:
    """Turn one schema error into a problem at the right line."""
    path = tuple(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        for key in _unknown(error):
            findings.problem(locate(tree, path + (key,)), path + (key,), *_unknown_message(key, path, error))
        return
    message, hint = _message(error, path)
    findings.problem(locate(tree, path), path, message, hint)


def _declared(subschema: dict) -> tuple[set[str], list[str]]:
    """Property names and name patterns a (possibly composed) subschema allows."""
    subschema = _resolve(subschema)
    names, patterns = set(subschema.get("properties", {})), list(subschema.get("patternProperties", {}))
    for part in subschema.get("allOf", []):
        more_names, more_patterns = _declared(part)
        names |= more_names
        patterns += more_patterns
    return names, patterns


def _resolve(subschema: dict) -> dict:
    """Follow a local ``$ref``."""
    ref = subschema.get("$ref", "")
    if ref.startswith("#/"):
        target: Any = schema()
        for part in ref[2:].split("/"):
            target = target[part]
        return target
    return subschema


def _unknown(error: ValidationError) -> list[str]:
    """Keys of the instance that the subschema does not allow (not those of a failing sibling subschema)."""
    if not isinstance(error.instance, dict):
        return []
    names, patterns = _declared(error.schema)
    return [key for key in error.instance
            if key not in names and not any(re.search(p, key) for p in patterns)]


def _unknown_message(key: str, path: tuple, error: ValidationError) -> tuple[str, str]:
    """What to say about a key the specification does not have here."""
    if path == ("services",):
        return (f"'{key}' is not a valid service name",
                "use letters, digits, '.', '_' and '-' only")
    names, _ = _declared(error.schema)
    close = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.75)
    hint = f"did you mean '{close[0]}'?" if close else (
        f"remove it, or prefix it with 'x-' to keep it as an extension (see {SPEC})")
    return f"'{key}' is not a key the Compose specification has here", hint


def _message(error: ValidationError, path: tuple) -> tuple[str, str]:
    """A message and a hint for a schema error other than an unknown key."""
    value = _show(error.instance)
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if isinstance(error.instance, dict) and path[-2:-1] in (("environment",), ("args",), ("labels",)):
            return (f"the value of '{path[-1]}' is a mapping; values here must be text",
                    "quote it (e.g. '{\"a\": 1}') if the text is meant to look like a mapping")
        return f"expected {_either(wanted)}, got {value}", f"see '{_key(path)}' in {SPEC}"
    if error.validator in ("oneOf", "anyOf"):
        types = sorted({t for sub in error.context for t in _wanted(sub)})
        return f"expected {_either(types) if types else 'another form'}, got {value}", f"see '{_key(path)}' in {SPEC}"
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{value} is not one of: {allowed}", f"use one of: {allowed}"
    if error.validator == "required":
        return error.message, f"add it (see '{_key(path)}' in {SPEC})"
    if error.validator == "uniqueItems":
        return "lists the same entry more than once", "remove the repeated entry"
    if error.validator == "pattern":
        return f"{value} does not have the expected form ({error.validator_value})", f"see '{_key(path)}' in {SPEC}"
    return error.message, f"see '{_key(path)}' in {SPEC}"


def _wanted(error: ValidationError) -> list[str]:
    """The JSON types a type error asked for."""
    if error.validator != "type" or error.relative_path:
        return []
    return error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]


def _either(types: list[str]) -> str:
    words = [_TYPES.get(t, t) for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _key(path: tuple) -> str:
    """The last key name of a path (what to look up in the specification)."""
    names = [p for p in path if isinstance(p, str)]
    return names[-1] if names else "services"


def _show(value: Any) -> str:
    """A value in a message: short, and its kind when it is a container."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
