"""Outages in business words: the message broker or a service goes down and comes back.

Built on crucible.faults (the engine's own stop and start). A service a scenario takes down is
brought back when the scenario ends, also when it fails half-way, so the next scenario finds
the whole stack running.
"""

from __future__ import annotations

import logging

from crucible import faults, messaging

log = logging.getLogger(__name__)

BROKER = messaging.BROKER_SERVICE


def take_down(context, service: str) -> None:
    """Stop a service for the rest of the scenario (it is brought back when the scenario ends)."""
    context.add_cleanup(bring_back, context.stack, service)
    faults.outage(context.stack, service)


def bring_back(stack, service: str) -> None:
    """Start a stopped service and wait until it is ready (a running one is left alone)."""
    if stack.state(service) != "running":
        log.info("bringing %s back (%.1fs until ready)", service, faults.recover(stack, service))


def restart(stack, service: str) -> None:
    """Stop and start a service, as a deployment or a crash would."""
    log.info("restarted %s (%.1fs until ready)", service, faults.restart(stack, service))
