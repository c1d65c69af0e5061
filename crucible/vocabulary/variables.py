"""Variables and templating for the generic steps: ``{name}``, ``{uid}``, ``{now+5m}``.

Every generic step expands its arguments, its table cells and its docstring once, before it
runs, through the :func:`templated` decorator:

- ``{name}`` is a value remembered in this scenario (strings are inserted as they are; numbers,
  booleans, null, objects and arrays as JSON, so ``{"quantity": {qty}}`` stays valid JSON);
- ``{uid}`` and ``{unique}`` are this scenario's unique id (the same for the whole scenario);
- ``{now}``, ``{now+5m}``, ``{now-1d}`` are the current time plus or minus an offset (units
  ``s``, ``m``, ``h``, ``d``) as ISO-8601 UTC, e.g. ``2030-01-31T09:30:00Z``;
- ``{{name}}`` is the literal text ``{name}``.

Braces around anything that is not a name (``{"a": 1}``, ``\\d{3}``) are left alone. A name that
is not set stops the step with :class:`~crucible.errors.TestDataError` naming the variable, the
step and the variables that are set.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from behave.model import Table, Text
from behave.model_core import Status
from behave.runner import ContextMaskWarning
from parse import with_pattern

from crucible.errors import TestDataError

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:([+-])(\d+)([smhd]))?\}")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
BUILT_INS = ("uid", "unique", "now")


def iso_utc(moment: datetime) -> str:
    """A moment as ISO-8601 UTC with a ``Z``, to the second, e.g. ``2030-01-31T09:30:00Z``."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Variables:
    """The values one scenario has remembered, and the expansion of ``{...}`` placeholders."""

    def __init__(self, uid: str, clock: Callable[[], datetime] | None = None):
        self.uid = uid
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.values: dict[str, Any] = {}

    def remember(self, name: str, value: Any) -> None:
        """Keep a value under a name for the rest of the scenario."""
        if name in BUILT_INS:
            raise TestDataError(f"'{name}' is a built-in variable and cannot be set; choose another name.")
        log.debug("remember %s = %r", name, value)
        self.values[name] = value

    def get(self, name: str, where: str = "") -> Any:
        """The value of a variable, or a TestDataError naming it, the step and the known names."""
        if name in ("uid", "unique"):
            return self.uid
        if name == "now":
            return iso_utc(self.clock())
        if name not in self.values:
            known = ", ".join(sorted(self.values)) or "none yet"
            raise TestDataError(f"Variable '{name}' is not set{' in ' + where if where else ''}. "
                                f"Set in this scenario: {known}; built in: uid, unique, now, now+5m, now-1d.")
        return self.values[name]

    def expand(self, text: str, where: str = "") -> str:
        """Replace every ``{...}`` placeholder in a text; ``where`` names the step for errors."""
        def replace(match: re.Match) -> str:
            escaped, name, sign, amount, unit = match.groups()
            if escaped:
                return "{" + escaped + "}"
            if sign:
                if name != "now":
                    raise TestDataError(f"'{match.group(0)}'{' in ' + where if where else ''}: only "
                                        f"'now' takes an offset, e.g. {{now+5m}} or {{now-1d}}.")
                offset = timedelta(**{UNITS[unit]: int(amount)})
                return iso_utc(self.clock() + (offset if sign == "+" else -offset))
            return _as_text(self.get(name, where))

        return PLACEHOLDER.sub(replace, text)


def _as_text(value: Any) -> str:
    """Strings as they are; everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def current_step(context):
    """The step behave is running now (the scenario's first step that has not finished)."""
    scenario = getattr(context, "scenario", None)
    for step in (scenario.all_steps if scenario else ()):
        if step.status == Status.untested:
            return step
    return None


def describe_step(step) -> str:
    """A step as a person finds it: its text and file:line."""
    if step is None:
        return "this step"
    return f"step '{step.keyword} {step.name}' ({step.location})"


def templated(func):
    """Decorate a step so its arguments, table cells and docstring are expanded before it runs.

    Example::

        @when('I send a {method:w} request to "{service}" at "{path}"')
        @templated
        def step_send(context, method, service, path): ...
    """
    @functools.wraps(func)
    def wrapper(context, *args, **kwargs):
        where = describe_step(current_step(context))
        expand = functools.partial(context.variables.expand, where=where)
        args = [expand(a) if isinstance(a, str) else a for a in args]
        kwargs = {k: expand(v) if isinstance(v, str) else v for k, v in kwargs.items()}
        with warnings.catch_warnings():
            # behave set text and table for this step; replacing them with their expansion is intended.
            warnings.simplefilter("ignore", ContextMaskWarning)
            if context.text is not None:
                context.text = Text(expand(context.text), context.text.content_type, context.text.line)
            if context.table is not None:
                context.table = Table([expand(h) for h in context.table.headings],
                                      rows=[[expand(c) for c in row.cells] for row in context.table.rows],
                                      line=context.table.line)
        return func(context, *args, **kwargs)

    wrapper.templated = True
    return wrapper


def parse_json(text: str, where: str, first_line: int | None = None) -> Any:
    """Parse JSON written in a feature; errors name the step, the file line and the position."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line_text = text.splitlines()[exc.lineno - 1] if text.splitlines() else ""
        at = f", line {first_line + exc.lineno} of the feature file" if first_line is not None else ""
        raise TestDataError(f"Invalid JSON in {where}{at}, column {exc.colno}: "
                            f"{exc.msg}\n    {line_text}\n    {' ' * (exc.colno - 1)}^") from None


def docstring_json(context) -> Any:
    """The current step's docstring (already expanded) parsed as JSON."""
    step = current_step(context)
    if not context.text:
        raise TestDataError(f"{describe_step(step)} needs a JSON docstring (between \"\"\" lines).")
    return parse_json(context.text, describe_step(step), context.text.line)


def literal_json(text: str, context) -> Any:
    """A JSON value written inline in a step (``5``, ``"confirmed"``, ``null``, ``"@uuid@"``)."""
    return parse_json(text, describe_step(current_step(context)))


def table_pairs(context, what: str) -> dict[str, str]:
    """A two-column ``| name | value |`` table as a dict; a TestDataError if it has another shape."""
    table = context.table
    if table is None or len(table.headings) != 2:
        raise TestDataError(f"{describe_step(current_step(context))} needs a table of {what} with two "
                            f"columns: | name | value |")
    return {row.cells[0]: row.cells[1] for row in table.rows}


@with_pattern(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|\[.*\]|\{.*\}')
def json_literal(text: str) -> str:
    """behave parse type ``{value:JSON}``: a JSON literal as written (parsed after expansion)."""
    return text


@with_pattern(r"an? (?:string|number|integer|boolean|array|object|uuid|datetime|date)")
def json_kind(text: str) -> str:
    """behave parse type ``{kind:Kind}``: ``a string``, ``an integer``, ``a uuid`` ... -> the kind."""
    return text.split(" ", 1)[1]
