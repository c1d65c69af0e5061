"""Variables in compose files and env files, replaced as Compose replaces them.

``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?message}``, ``${VAR?message}``,
``${VAR:+replacement}``, ``${VAR+replacement}`` (defaults may hold variables themselves) and ``$$``
for a literal ``$``. An unset variable without a default becomes an empty string, with a notice.
"""

from __future__ import annotations

import re
from typing import Callable

from crucible.stack.compose.problems import Findings
from crucible.stack.compose.source import Node, Seq, like

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """A variable reference that cannot be read, or a required variable that is not set."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def substitute(text: str, lookup: Callable[[str], str | None], missing: Callable[[str], None]) -> str:
    """``text`` with every variable reference replaced; ``missing(name)`` is told of unset variables."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        follower = text[i + 1:i + 2]
        if char != "$":
            out.append(char)
            i += 1
        elif follower == "$":
            out.append("$")
            i += 2
        elif follower == "{":
            end = _closing(text, i + 2)
            out.append(_expression(text[i + 2:end], lookup, missing))
            i = end + 1
        elif (match := _NAME.match(text, i + 1)) is not None:
            out.append(_value(match.group(), lookup, missing))
            i = match.end()
        else:
            raise InterpolationError(f"cannot read '{text[i:i + 10]}': a '$' must start a variable",
                                     "write $$ for a literal '$'")
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """The index of the '}' closing a '${' whose body starts at ``start`` (nested ${...} allowed)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationError(f"'${{{text[start:start + 20]}' has no closing '}}'", "close it with '}'")


def _value(name: str, lookup: Callable[[str], str | None], missing: Callable[[str], None]) -> str:
    value = lookup(name)
    if value is None:
        missing(name)
        return ""
    return value


def _expression(body: str, lookup: Callable[[str], str | None], missing: Callable[[str], None]) -> str:
    """The value of one ``${...}`` body."""
    match = _NAME.match(body)
    if match is None:
        raise InterpolationError(f"cannot read variable reference '${{{body}}}'",
                                 "write ${NAME}, ${NAME:-default} or ${NAME:?message}")
    name, rest = match.group(), body[match.end():]
    if not rest:
        return _value(name, lookup, missing)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise InterpolationError(f"cannot read variable reference '${{{body}}}'",
                                 "write ${NAME}, ${NAME:-default} or ${NAME:?message}")
    argument = rest[len(operator):]
    value = lookup(name)
    empty = value is None or (operator.startswith(":") and value == "")
    if operator.endswith("-"):
        return substitute(argument, lookup, missing) if empty else value
    if operator.endswith("+"):
        return "" if empty else substitute(argument, lookup, missing)
    if empty:
        reason = substitute(argument, lookup, missing) or "it is not set"
        raise InterpolationError(f"variable '{name}' is required: {reason}", f"export {name}=... before running")
    return value


def interpolate(tree, env: dict[str, str], findings: Findings, path: tuple = ()):
    """A copy of a located tree with every variable in its values replaced; problems recorded by line."""
    if isinstance(tree, Node):
        return like(tree, {key: _in(tree, key, value, env, findings, path) for key, value in tree.items()})
    if isinstance(tree, Seq):
        return like(tree, [_in(tree, i, value, env, findings, path) for i, value in enumerate(tree)])
    return tree


def _in(parent, key, value, env: dict[str, str], findings: Findings, path: tuple):
    """One entry of a mapping or sequence, interpolated."""
    where = path + (key,)
    if not isinstance(value, str):
        return interpolate(value, env, findings, where)

    def missing(name: str) -> None:
        findings.notice(None, (), f"variable {name} is not set: an empty string is used in its place")

    try:
        return substitute(value, env.get, missing)
    except InterpolationError as exc:
        findings.problem(parent.loc(key), where, str(exc), exc.hint)
        return value
