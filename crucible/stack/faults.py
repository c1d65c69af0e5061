"""Faults injected with the engine's own primitives (no netem here): a service goes down and comes back.

A service a scenario takes down is brought back when the scenario ends, also when it fails
half-way, so the next scenario finds the whole stack running.
"""

from __future__ import annotations

import logging

from crucible.stack.running import Stack

log = logging.getLogger(__name__)


def take_down(context, service: str) -> None:
    """Stop a service for the rest of the scenario (it is brought back when the scenario ends)."""
    context.add_cleanup(bring_back, context.stack, service)
    context.stack.stop_service(service)


def bring_back(stack: Stack, service: str) -> None:
    """Start a stopped service and wait until it is ready (a running one is left alone)."""
    if stack.state(service) != "running":
        log.info("bringing %s back (%.1fs until ready)", service, stack.start_service(service))


def restart(stack: Stack, service: str) -> None:
    """Stop and start a service, as a deployment or a crash would."""
    stack.stop_service(service)
    log.info("restarted %s (%.1fs until ready)", service, stack.start_service(service))
