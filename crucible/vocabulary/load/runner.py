"""A load in a scenario: bounded by the settings, faults planned for moments of it, evidence attached.

``run_load`` is what load steps call: it sends the calls to one service of the stack (its
published loopback port), samples every container's CPU and memory meanwhile, runs the faults a
scenario planned "N seconds into the load" at their moment, attaches the charts and tables to the
step, and keeps the result as the scenario's latest load (``context.load``) for the thresholds.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any, Callable, Iterator

from crucible.errors import TestDataError
from crucible.stack.usage import UsageSampler
from crucible.vocabulary import earlier
from crucible.vocabulary.load import evidence, generator
from crucible.vocabulary.load.generator import Call, LoadResult, Plan

log = logging.getLogger(__name__)


def check_plan(clients: int, seconds: float, max_seconds: float) -> None:
    """A TestDataError for a load that cannot be run: no clients, no time, or longer than allowed."""
    Plan(clients, seconds, 1, 1.0).check()
    if seconds > max_seconds:
        raise TestDataError(f"A load lasts at most {max_seconds:g} seconds (setting load.max_seconds), "
                            f"not {seconds:g}.")


def plan_during_load(context, at: float, name: str, action: Callable[[], None]) -> None:
    """Do something ``at`` seconds into the scenario's next load (a fault, for instance)."""
    if at < 0:
        raise TestDataError(f"'{name}' can happen 0 or more seconds into the load, not {at:g}.")
    context.during_load = [*getattr(context, "during_load", []), (at, name, action)]


def run_load(context, service: str, calls: Iterator[Call], clients: int, seconds: float, *, title: str,
             finish_within: bool = False, keep_bodies: bool = False) -> LoadResult:
    """Run a load against a service of the stack; attach its evidence; keep it as ``context.load``."""
    options = context.settings
    check_plan(clients, seconds, options["load.max_seconds"])
    base_url = context.stack.http_url(service, options.service(service).get("port"))
    plan = Plan(clients, seconds, options["load.max_requests"], options["timeouts.http"], finish_within,
                keep_bodies)
    during, context.during_load = list(getattr(context, "during_load", [])), []
    sampler = UsageSampler(context.stack) if options["load.sample_usage"] else None
    with sampler or contextlib.nullcontext():
        result = generator.run(base_url, calls, plan, title=title, id_prefix=f"{context.correlation_id}-load",
                               happenings=during)
    evidence.attach(result, sampler)
    context.load = result
    for happening in result.happenings:
        if happening.error is not None:
            raise happening.error
    return result


def latest(context) -> LoadResult:
    """The scenario's latest load, or a TestDataError saying a load step must come first."""
    return earlier.left(context, "load", TestDataError(
        "No load has run in this scenario yet: a step such as 'When 20 clients send GET requests to \"inventory\" "
        "at \"/health/live\" for 5 seconds' must come first."))


def json_call(operation: str, method: str, path: str, headers: dict[str, str], body: Any = None,
              answers: frozenset[int] = frozenset(), not_before: float = 0.0) -> Call:
    """A call with a JSON body (or none)."""
    return Call(operation, method.upper(), path, dict(headers),
                None if body is None else json.dumps(body).encode(), answers, not_before)


def samples_by_call(context, result: LoadResult) -> list[generator.Sample]:
    """The samples of a load in the order its calls were made (the n-th call's sample n-th)."""
    by_id = {sample.request_id: sample for sample in result.samples}
    prefix = f"{context.correlation_id}-load"
    return [by_id[generator.request_id(prefix, n)] for n in range(1, len(by_id) + 1)]


def http_load(context, clients: int, method: str, service: str, path: str, seconds: float,
              body: Any = None) -> LoadResult:
    """The generic load: every client sends the same request (the scenario's standing headers included)."""
    call = json_call(f"{method.upper()} {path}", method, path, context.rest.headers_for(service), body)
    return run_load(context, service, generator.repeat(lambda n: call), clients, seconds,
                    title=f"{clients} clients, {method.upper()} {path} on {service}, {seconds:g} s")
