"""Checks of a step's arguments that run before anything starts: an impossible load, an unknown service.

A step declares its check with ``@checked(function)``; the function gets a :class:`Scope` (the
stack's compose model and the settings) and the step's parsed arguments, and raises
``TestDataError`` saying what is wrong. ``crucible run`` runs every check of every feature before
the stack starts; each scenario runs its own again before its first step, so nothing of a load or
a fault starts when a later step of the same scenario is wrong.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from behave import step_registry
from behave.matchers import MatchWithError

from crucible.errors import CrucibleError, TestDataError
from crucible.settings import Settings
from crucible.stack.compose import Project


@dataclass(frozen=True)
class Scope:
    """What a check can look at: the stack's compose model, the settings and, once the stack is up, the
    OpenAPI documents the run read (by service; None before the stack starts)."""

    project: Project | None
    settings: Settings
    documents: dict | None = None


def checked(check: Callable[..., None]):
    """Decorate a step so ``check(scope, *args, **kwargs)`` vets its arguments before anything starts.

    Example::

        @when("{clients:d} clients send ...")
        @checked(load_checks.clients_and_seconds)
        @templated
        def step_load(context, clients, ...): ...
    """
    def decorate(func):
        func.check_arguments = check
        return func
    return decorate


def _arguments(match) -> tuple[list[Any], dict[str, Any]]:
    args, kwargs = [], {}
    for argument in match.arguments or []:
        if argument.name is None:
            args.append(argument.value)
        else:
            kwargs[argument.name] = argument.value
    return args, kwargs


def problems(steps, scope: Scope, registry=None) -> list[tuple[Any, str]]:
    """(step, what is wrong) for each step whose arguments its check refuses; ``registry``: the step registry
    the steps are run with (behave's runner resets the module's own, so a hook passes the runner's)."""
    registry = registry or step_registry.registry
    found = []
    for step in steps:
        match = registry.find_match(step)
        check = getattr(getattr(match, "func", None), "check_arguments", None)
        if check is None or isinstance(match, MatchWithError):
            continue
        args, kwargs = _arguments(match)
        try:
            check(scope, *args, **kwargs)
        except CrucibleError as exc:  # bad data, or settings the step cannot work with (a database, a broker)
            found.append((step, str(exc)))
    return found


def check_scenario(scenario, scope: Scope, registry=None) -> None:
    """Raise one TestDataError naming every step of the scenario whose arguments are wrong."""
    wrong = problems(scenario.all_steps, scope, registry)
    if wrong:
        raise TestDataError("Nothing was started: " + "; ".join(
            f"step '{step.keyword} {step.name}' ({step.location}): {message}" for step, message in wrong))


def service(scope: Scope, name: str) -> None:
    """The compose file has a service of that name (a ``{variable}`` is checked when the step runs)."""
    if scope.project is None or "{" in name or name in scope.project.services:
        return
    close = difflib.get_close_matches(name, list(scope.project.services), n=1, cutoff=0.5)
    raise TestDataError(f"there is no service '{name}' in {scope.project.path.name} (services: "
                        f"{', '.join(sorted(scope.project.services))})"
                        + (f"; did you mean '{close[0]}'?" if close else ""))


def service_argument(scope: Scope, **arguments) -> None:
    """The check of a generic step whose ``service`` argument names a service of the compose file."""
    service(scope, arguments["service"])


def positive(value: float, what: str) -> None:
    """A number above 0, else a TestDataError naming what it is."""
    if not value > 0:
        raise TestDataError(f"{what} must be more than 0, not {value:g}")
