"""Pre-flight checks of the load and fault steps' arguments (see crucible.vocabulary.preflight)."""

from __future__ import annotations

from crucible.errors import TestDataError
from crucible.stack import links
from crucible.vocabulary import preflight
from crucible.vocabulary.load import runner, thresholds
from crucible.vocabulary.preflight import Scope


def load(scope: Scope, clients: int, seconds: float, service: str = "", **_) -> None:
    """A load with at least one client, lasting more than 0 and at most load.max_seconds, on a known service."""
    runner.check_plan(clients, seconds, scope.settings["load.max_seconds"])
    if service:
        preflight.service(scope, service)


def percentile(scope: Scope, p: float, ms: float, **_) -> None:
    """A percentile above 0 and at most 100, a limit above 0 ms."""
    if not 0 < p <= 100:
        raise TestDataError(f"a percentile lies above 0 and at most 100, not {p:g}")
    preflight.positive(ms, "the time limit (ms)")


def share(scope: Scope, share: float, ms: float | None = None, **_) -> None:
    """A percentage above 0% and at most 100% (and a time limit above 0 ms)."""
    thresholds.percentage(share, "the threshold")
    if ms is not None:
        preflight.positive(ms, "the time limit (ms)")


def rate(scope: Scope, rate: float, **_) -> None:
    """A rate above 0 per second."""
    preflight.positive(rate, "the rate (per second)")


def service(scope: Scope, service: str, seconds: float | None = None, **_) -> None:
    """A service of the stack (and a moment of the load that is not negative)."""
    preflight.service(scope, service)
    if seconds is not None and seconds < 0:
        raise TestDataError(f"a fault can happen 0 or more seconds into the load, not {seconds:g}")


def gathering(scope: Scope, calls: int, client: str, server: str, **_) -> None:
    """At least two calls (a race needs two) on a link the stack has."""
    if calls < 2:
        raise TestDataError(f"calls are let go together to make them race: at least 2, not {calls}")
    link(scope, client, server)


def link(scope: Scope, client: str, server: str, ms: float | None = None, **_) -> None:
    """A link the stack has (the client's environment names the server), and a latency above 0 ms."""
    if ms is not None:
        preflight.positive(ms, "the latency (ms)")
    if scope.project is not None and "{" not in client + server:
        links.find(scope.project, client, server)
