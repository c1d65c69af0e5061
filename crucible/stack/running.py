"""A running stack: one network per run, services started as early as their dependencies allow."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, NotFound
from requests import RequestException
from docker.models.containers import Container
from docker.models.volumes import Volume

from crucible.stack import engine, readiness
from crucible.stack.compose import Project, Service
from crucible.errors import ServiceNotFound, StartupError

log = logging.getLogger(__name__)

LABEL_PROJECT = "crucible.project"
LABEL_RUN = "crucible.run"
LABEL_OWNER = "crucible.owner"
LABEL_SERVICE = "crucible.service"
KEEP = "keep"
SCHEMES = {5432: "postgresql", 5672: "amqp", 6379: "redis"}


def new_run_id() -> str:
    """A short, unique id for one run."""
    return uuid.uuid4().hex[:10]


def owner_tag() -> str:
    """Who owns a run: host, pid and the process's start time (guards against pid reuse)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    """The kernel's start time of a process, or '' if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def owner_alive(tag: str) -> bool:
    """True if the owning process still runs, or if it is on another host (never touch those)."""
    if tag == KEEP:
        return True
    try:
        host, pid, started = tag.split(":")
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return _start_time(int(pid)) == started


@dataclass
class Running:
    """One started service: its container and where it can be reached."""

    service: Service
    container: Container
    ports: dict[int, int] = field(default_factory=dict)
    ready_after: float = 0.0


class Stack:
    """The resources of one run of one project on one engine."""

    def __init__(self, client: docker.DockerClient, project: Project, run_id: str | None = None,
                 keep: bool = False):
        self.client = client
        self.project = project
        self.run_id = run_id or new_run_id()
        self.owner = KEEP if keep else owner_tag()
        self.host = engine.host(client)
        self.network_name = f"{project.name}-{self.run_id}"
        self.running: dict[str, Running] = {}
        self.cancel = threading.Event()
        self._tasks: list[Future] = []
        self._interrupted = False

    @property
    def labels(self) -> dict[str, str]:
        """Labels every resource of this run carries."""
        return {LABEL_PROJECT: self.project.name, LABEL_RUN: self.run_id, LABEL_OWNER: self.owner}

    @classmethod
    def attach(cls, client: docker.DockerClient, project: Project, run_id: str | None = None) -> "Stack":
        """A Stack for a run already on the engine (the newest kept one unless ``run_id`` is given)."""
        kept = [rid for rid, owner in runs(client, project.name).items() if run_id in (rid, None) and
                (owner == KEEP or run_id)]
        if not kept:
            what = f"run {run_id}" if run_id else "a stack left running by `crucible up`"
            raise StartupError(f"Cannot attach to {what} of project '{project.name}': none is on the engine. "
                                  f"Start one with `crucible up`.")
        found = cls(client, project, run_id=kept[0], keep=True)
        filters = {"label": [f"{LABEL_PROJECT}={project.name}", f"{LABEL_RUN}={found.run_id}"]}
        for container in client.containers.list(filters=filters):
            name = container.labels.get(LABEL_SERVICE)
            if name in project.services:
                found.running[name] = Running(project.services[name], container, _published(container))
        missing = sorted(set(project.services) - set(found.running))
        if missing:
            raise StartupError(f"Run {found.run_id} of '{project.name}' has no running container for: "
                                  f"{', '.join(missing)}. Run `crucible down` then `crucible up`.")
        return found

    def up(self) -> None:
        """Create the network and start every service, each as soon as its dependencies allow."""
        log.info("Starting stack '%s' (run %s) on network %s", self.project.name, self.run_id,
                 self.network_name)
        self.client.networks.create(self.network_name, driver="bridge", labels=self.labels)
        services = self.project.services
        started: dict[str, Future] = {name: Future() for name in services}
        ready: dict[str, Future] = {name: Future() for name in services}
        pool = ThreadPoolExecutor(max_workers=len(services), thread_name_prefix="start")
        self._tasks = [pool.submit(self._start_one, services[name], started, ready) for name in services]
        pool.shutdown(wait=False)
        for task in as_completed(self._tasks):
            if task.exception() is not None:
                self.cancel.set()  # the first failure stops the services still starting
        errors = [t.exception() for t in self._tasks if t.exception()]
        primary = [e for e in errors if not isinstance(e, (_Skipped, readiness.Cancelled))]
        if primary or errors:
            raise primary[0] if primary else errors[0]

    def abort(self, timeout: float = 30.0) -> None:
        """Stop a start-up in progress: starting threads give up, none creates anything more."""
        self.cancel.set()
        self._interrupted = True
        wait(self._tasks, timeout=timeout)

    def _start_one(self, service: Service, started: dict[str, Future], ready: dict[str, Future]) -> None:
        """Wait for the service's dependencies, start it, wait until it is ready."""
        try:
            for dep, condition in service.depends_on.items():
                gate = ready[dep] if condition == "service_healthy" else started[dep]
                if gate.exception() is not None:
                    raise _Skipped(f"'{service.name}' was not started because '{dep}' failed")
            if self.cancel.is_set():
                raise _Skipped(f"'{service.name}' was not started: start-up was stopped")
            container = self._create(service)
            self._start(service, container)
            started[service.name].set_result(True)
            log.info("  %-12s started", service.name)
            strategy = readiness.for_service(service.healthcheck)
            waited = strategy.wait_until_ready(container, service.name, cancel=self.cancel)
            container.reload()
            self.running[service.name] = Running(service, container, _published(container), waited)
            log.info("  %-12s ready after %.1fs", service.name, waited)
            ready[service.name].set_result(True)
        except BaseException as exc:
            for gate in (started[service.name], ready[service.name]):
                if not gate.done():
                    gate.set_exception(exc)
            raise

    def _create(self, service: Service) -> Container:
        """Create the service's container on the run's network, ports on 127.0.0.1."""
        labels = {**service.labels, **self.labels, LABEL_SERVICE: service.name}
        ports = {p.key: ("127.0.0.1", p.host) for p in service.ports}
        endpoint = self.client.api.create_endpoint_config(aliases=[service.name])
        try:
            return self.client.containers.create(
                service.image,
                command=list(service.command) if isinstance(service.command, tuple) else service.command,
                name=f"{self.project.name}-{self.run_id}-{service.name}",
                hostname=service.name,
                environment=service.environment,
                labels=labels,
                ports=ports,
                tmpfs={path: "" for path in service.tmpfs},
                network=self.network_name,
                networking_config={self.network_name: endpoint},
                detach=True,
            )
        except APIError as exc:
            raise StartupError(f"Cannot create the container of service '{service.name}' "
                               f"(image {service.image}): {exc.explanation or exc}") from None

    def _start(self, service: Service, container: Container) -> None:
        """Start a created container, explaining the usual reasons it cannot start."""
        try:
            container.start()
        except APIError as exc:
            detail = str(exc.explanation or exc)
            hint = ""
            if "already allocated" in detail or "address already in use" in detail:
                fixed = [f"{p.host}:{p.container}" for p in service.ports if p.host]
                hint = (f"\n  hint: a host port of '{service.name}' ({', '.join(fixed)}) is already taken by "
                        f"another process; free it, or publish just the container port (e.g. \"8000\") "
                        f"so a random free host port is used.")
            raise StartupError(f"Cannot start service '{service.name}': {detail}{hint}") from None

    def url(self, service: str, port: int | None = None) -> str:
        """The base URL of a service's published port (by default its first in the compose file)."""
        running = self._running(service)
        if not running.ports:
            raise ServiceNotFound(f"Service '{service}' publishes no port: add `ports: [\"8000\"]` "
                                  f"to it in {self.project.path}.")
        declared = [p.container for p in running.service.ports if p.protocol == "tcp" and p.container in running.ports]
        container_port = port or (declared or list(running.ports))[0]  # the compose file's order, not the engine's
        if container_port not in running.ports:
            raise ServiceNotFound(f"Service '{service}' does not publish port {container_port} "
                                  f"(it publishes {sorted(running.ports)}).")
        scheme = SCHEMES.get(container_port, "http")
        return f"{scheme}://{self.host}:{running.ports[container_port]}"

    def state(self, service: str) -> str:
        """The engine's state of a service's container (running, exited, paused ...)."""
        running = self._running(service)
        with engine.guard(f"reading the state of service '{service}'"):
            running.container.reload()
        return running.container.status

    def stop_service(self, service: str, timeout: int = 10) -> None:
        """Stop one service's container (a fault: the engine's own stop, SIGTERM then SIGKILL)."""
        running = self._running(service)
        with engine.guard(f"stopping service '{service}'"):
            running.container.stop(timeout=timeout)
        log.info("  %-12s stopped", service)

    def start_service(self, service: str) -> float:
        """Start a stopped service again, wait until it is ready, re-read its published ports."""
        running = self._running(service)
        with engine.guard(f"starting service '{service}'"):
            running.container.start()
        return self.wait_ready(service)

    def wait_ready(self, service: str) -> float:
        """Wait until a service passes its readiness check again; re-read its published ports."""
        running = self._running(service)
        with engine.guard(f"waiting for service '{service}' to be ready"):
            strategy = readiness.for_service(running.service.healthcheck)
            waited = strategy.wait_until_ready(running.container, service)
            running.container.reload()
        running.ports = _published(running.container)
        log.debug("  %-12s ready again after %.1fs", service, waited)
        return waited

    def replace_service(self, service: str, environment: dict[str, str]) -> float:
        """Recreate a service's container with another environment (same name, network, alias); wait until ready."""
        running = self._running(service)
        changed = replace(running.service, environment=environment)
        with engine.guard(f"recreating service '{service}'"):
            running.container.remove(force=True)
            container = self._create(changed)
            self._start(changed, container)
            self.running[service] = Running(changed, container)
        return self.wait_ready(service)

    def service(self, name: str) -> Running:
        """The running service of that name (its container, ports, compose definition)."""
        return self._running(name)

    def _running(self, service: str) -> Running:
        """The running service of that name, or ServiceNotFound listing the services."""
        if service not in self.running:
            raise ServiceNotFound(f"There is no running service '{service}' in stack '{self.project.name}' "
                                  f"(running: {', '.join(sorted(self.running)) or 'none'}).")
        return self.running[service]

    def urls(self) -> dict[str, str]:
        """Service name -> base URL, for every service that publishes a port."""
        return {name: self.url(name) for name, r in sorted(self.running.items()) if r.ports}

    def logs(self, since: datetime | None = None) -> dict[str, str]:
        """Each service's logs (since a moment, or all)."""
        out = {}
        for name, running in sorted(self.running.items()):
            try:
                raw = running.container.logs(since=since, timestamps=False) if since else running.container.logs()
                out[name] = raw.decode("utf-8", "replace")
            except (DockerException, RequestException) as exc:
                out[name] = f"(logs unavailable: {str(exc)[:200]})"
        return out

    def write_urls(self, path: Path) -> None:
        """Write service name -> base URL as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.urls(), indent=2) + "\n")

    def down(self) -> int:
        """Remove every container, network and volume of this run; return how many were removed."""
        log.info("Removing the stack of run %s ...", self.run_id)
        with engine.guard(f"removing the stack of run {self.run_id} (what is left carries the label "
                          f"{LABEL_RUN}={self.run_id})"):
            removed = remove_run(self.client, self.project.name, self.run_id)
            if self._interrupted:
                # A create the interrupt cut short may still land on the engine: sweep once more.
                time.sleep(0.5)
                removed += remove_run(self.client, self.project.name, self.run_id)
            return removed


class _Skipped(StartupError):
    """A service that was not started because a dependency failed."""


def _published(container: Container) -> dict[int, int]:
    """Container port -> host port for every published TCP port."""
    out = {}
    for key, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
        if bindings and key.endswith("/tcp"):
            out[int(key.split("/")[0])] = int(bindings[0]["HostPort"])
    return out


def _resources(client: docker.DockerClient, filters: dict) -> list:
    """Containers, networks and volumes matching label filters, in the order they must be removed."""
    return [*client.containers.list(all=True, filters=filters),
            *client.networks.list(filters=filters), *client.volumes.list(filters=filters)]


def remove_run(client: docker.DockerClient, project: str, run_id: str) -> int:
    """Remove the containers, networks and volumes labelled with this run; return how many."""
    removed = 0
    for item in _resources(client, {"label": [f"{LABEL_PROJECT}={project}", f"{LABEL_RUN}={run_id}"]}):
        try:
            if isinstance(item, Container):
                item.remove(force=True, v=True)
            elif isinstance(item, Volume):
                item.remove(force=True)
            else:
                item.remove()
            removed += 1
        except NotFound:
            pass
    return removed


def runs(client: docker.DockerClient, project: str) -> dict[str, str]:
    """Run id -> owner tag of every run of this project that has resources on the engine."""
    found: dict[str, str] = {}
    for item in _resources(client, {"label": f"{LABEL_PROJECT}={project}"}):
        labels = item.attrs.get("Labels") or item.attrs.get("Config", {}).get("Labels") or {}
        if LABEL_RUN in labels:
            found[labels[LABEL_RUN]] = labels.get(LABEL_OWNER, "")
    return found


def reap(client: docker.DockerClient, project: str, include_kept: bool = False) -> list[str]:
    """Remove runs whose owning process is gone (and kept stacks if asked); return their ids."""
    reaped = []
    for run_id, owner in runs(client, project).items():
        if (include_kept and owner == KEEP) or not owner_alive(owner):
            why = "left running by `up`" if owner == KEEP else f"its owner {owner or '(unknown)'} is gone"
            log.info("Removing run %s (%s)", run_id, why)
            remove_run(client, project, run_id)
            reaped.append(run_id)
    return reaped

