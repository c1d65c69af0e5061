"""Faults injected with the engine's own primitives (no netem here): stop and start a service."""

from __future__ import annotations

import logging

from crucible.stack import Stack

log = logging.getLogger(__name__)


def outage(stack: Stack, service: str) -> None:
    """Take a service down (its container stops; its data stays)."""
    stack.stop_service(service)


def recover(stack: Stack, service: str) -> float:
    """Bring a stopped service back and wait until it is ready; return the seconds it took."""
    return stack.start_service(service)


def restart(stack: Stack, service: str) -> float:
    """Stop and start a service, as a deployment or crash would; return the seconds until ready."""
    stack.stop_service(service)
    return stack.start_service(service)
