"""Faults, injected with the engine's own primitives and a link proxy (no netem on these kernels).

A service can be stopped (SIGTERM, then SIGKILL), killed (SIGKILL), paused (frozen: its processes
get no CPU, connections stay open and unanswered), restarted, or disconnected from the run's
network (nothing reaches it, it reaches nothing). A link, "A's calls to B" (see ``links``), can
be slowed down by a latency or made to drop connections, or gather calls: the next N calls are held
until all N wait, then go on at the same moment (a race made on purpose, whatever the machine's load).

Every fault of a scenario is undone when the scenario ends, also when it failed half-way: stopped
and killed services are started, paused ones resumed, disconnected ones reconnected, links
healed and their proxies removed, and then every service of the stack must pass its readiness
check again before the next scenario starts.
"""

from __future__ import annotations

import logging
from typing import Callable

from crucible.errors import StartupError, TestDataError
from crucible.stack import engine, links
from crucible.stack.links import LinkProxy
from crucible.stack.running import Stack

log = logging.getLogger(__name__)

STOPPED = ("exited", "created", "dead")


class Faults:
    """The faults of one scenario, and how to undo each of them."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.undo: dict[str, Callable[[], None]] = {}
        self.proxies: dict[tuple[str, str], LinkProxy] = {}

    def stop(self, service: str) -> None:
        """Stop a service (SIGTERM, then SIGKILL after 10 s)."""
        self._remember(service, "down", lambda: self._start(service))
        self.stack.stop_service(service)

    def kill(self, service: str) -> None:
        """Kill a service's processes at once (SIGKILL), as a crash would."""
        container = self.stack.service(service).container
        self._remember(service, "down", lambda: self._start(service))
        with engine.guard(f"killing service '{service}'"):
            container.kill()
            container.wait(timeout=30)
        log.info("  %-12s killed", service)

    def pause(self, service: str) -> None:
        """Freeze a service: its processes get no CPU; open connections stay open, unanswered."""
        container = self.stack.service(service).container
        self._remember(service, "paused", lambda: self.resume(service))
        with engine.guard(f"pausing service '{service}'"):
            container.pause()
        log.info("  %-12s paused", service)

    def restart(self, service: str) -> float:
        """Stop and start a service, as a deployment would; wait until it is ready again."""
        self.stack.stop_service(service)
        return self._start(service)

    def restart_shared(self, service: str) -> None:
        """Restart a service others rely on (a database, a broker); wait until every running service is ready again."""
        self.restart(service)  # waits for this one
        for name in sorted(set(self.stack.running) - {service}):
            self.stack.wait_ready(name)

    def disconnect(self, service: str) -> None:
        """Take a service off the run's network: nothing reaches it, and it reaches nothing."""
        container = self.stack.service(service).container
        self._remember(service, "disconnected", lambda: self.reconnect(service))
        with engine.guard(f"disconnecting service '{service}' from network {self.stack.network_name}"):
            self.stack.client.networks.get(self.stack.network_name).disconnect(container, force=True)
        log.info("  %-12s disconnected from %s", service, self.stack.network_name)

    def bring_back(self, service: str) -> None:
        """Undo what was done to a service (start, resume or reconnect it) and wait until it is ready."""
        for key in [k for k in self.undo if k.startswith(f"{service}:")]:
            self.undo.pop(key)()
        if self.stack.state(service) in STOPPED:
            self._start(service)

    def resume(self, service: str) -> None:
        """Unfreeze a paused service and wait until it is ready."""
        self.undo.pop(f"{service}:paused", None)
        with engine.guard(f"resuming service '{service}'"):
            if self.stack.state(service) == "paused":
                self.stack.service(service).container.unpause()
        self.stack.wait_ready(service)

    def reconnect(self, service: str) -> None:
        """Put a disconnected service back on the run's network under its name; wait until it is ready."""
        self.undo.pop(f"{service}:disconnected", None)
        container = self.stack.service(service).container
        network = self.stack.client.networks.get(self.stack.network_name)
        with engine.guard(f"reconnecting service '{service}' to network {self.stack.network_name}"):
            container.reload()
            if self.stack.network_name not in container.attrs["NetworkSettings"]["Networks"]:
                network.connect(container, aliases=[service])
        self.stack.wait_ready(service)

    def slow_link(self, client: str, server: str, latency_ms: float) -> None:
        """Hold every answer of ``server`` to ``client`` for ``latency_ms``."""
        self._proxy(client, server).set(latency_ms=latency_ms, drop=False)
        log.info("  link %s -> %s slowed down by %g ms", client, server, latency_ms)

    def cut_link(self, client: str, server: str) -> None:
        """Drop every connection ``client`` opens to ``server`` (and the open ones)."""
        self._proxy(client, server).set(drop=True)
        log.info("  link %s -> %s drops connections", client, server)

    def gather_link(self, client: str, server: str, calls: int, timeout_s: float) -> None:
        """Hold the next ``calls`` calls from ``client`` to ``server`` until all of them wait, then let them go on
        together; after ``timeout_s`` the ones held so far go on (see ``gathered``)."""
        self._proxy(client, server).set(gather=calls, gather_timeout_ms=timeout_s * 1000)
        log.info("  link %s -> %s holds the next %d calls until they all wait", client, server, calls)

    def expect_gathered(self, client: str, server: str, calls: int) -> None:
        """The link's last gathering held ``calls`` calls and let them go together (AssertionError if fewer came
        before its timeout: the race it was to make did not happen)."""
        proxy = self.proxies.get((client, server))
        if proxy is None:
            raise TestDataError(f"the calls from '{client}' to '{server}' were not held in this scenario, so there is "
                                "nothing to check: hold them first (the next N calls ... are held and let go together)")
        state = proxy.state()
        ended = state["gathered"]
        if ended is None and state["gathering"] is None:
            raise TestDataError(f"no gathering of the calls from '{client}' to '{server}' was started in this scenario")
        if ended is None:  # still under way: fewer calls than wanted came so far
            held = state["gathering"]
            raise AssertionError(f"expected {calls} calls from {client} to {server} to go on together, but only "
                                 f"{held['held']} of {held['wanted']} had come after {held['waited_ms'] / 1000:.1f}s "
                                 "(they are still held): the race this scenario sets up did not happen")
        assert ended["held"] >= calls and not ended["timed_out"], (
            f"expected {calls} calls from {client} to {server} to go on together, but only {ended['held']} came "
            f"within {ended['waited_ms'] / 1000:.1f}s and went on alone: the race this scenario sets up did not happen")

    def heal_link(self, client: str, server: str) -> None:
        """Let ``client`` call ``server`` directly again; the proxy goes."""
        proxy = self.proxies.pop((client, server), None)
        self.undo.pop(f"{client}:link:{server}", None)
        if proxy is not None:
            proxy.remove()

    def restore(self) -> None:
        """Undo every fault of the scenario, newest first, then wait until every service is ready again."""
        errors = []
        for key in reversed(list(self.undo)):
            action = self.undo.pop(key, None)
            if action is None:
                continue
            try:
                action()
            except Exception as exc:  # keep undoing the others; report them all
                errors.append(f"{key}: {exc}")
        for service in sorted(self.stack.running):
            try:
                if self.stack.state(service) in STOPPED:
                    self._start(service)
                else:
                    self.stack.wait_ready(service)
            except Exception as exc:
                errors.append(f"{service}: {exc}")
        if errors:
            raise StartupError("The stack could not be made whole again after the scenario's faults:\n  "
                               + "\n  ".join(errors))

    def _proxy(self, client: str, server: str) -> LinkProxy:
        if (client, server) not in self.proxies:
            proxy = LinkProxy(self.stack, links.find(self.stack.project, client, server))
            self.proxies[client, server] = proxy
            self._remember(client, f"link:{server}", lambda: self.heal_link(client, server))
            proxy.start()
        return self.proxies[client, server]

    def _remember(self, service: str, what: str, undo: Callable[[], None]) -> None:
        self.stack.service(service)  # an unknown service stops here, before anything is done
        self.undo.setdefault(f"{service}:{what}", undo)

    def _start(self, service: str) -> float:
        self.undo.pop(f"{service}:down", None)
        waited = self.stack.start_service(service)
        log.info("  %-12s back after %.1fs", service, waited)
        return waited


def for_scenario(context) -> Faults:
    """The scenario's faults; the first one registers the clean-up that makes the stack whole again."""
    faults = getattr(context, "faults", None)
    if faults is None:
        faults = context.faults = Faults(context.stack)
        context.add_cleanup(faults.restore)
    return faults
