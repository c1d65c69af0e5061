"""A running stack: the run's own networks and volumes, services started as early as their dependencies allow."""

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
from docker.types import IPAMConfig, IPAMPool, Mount, Ulimit

from crucible.stack import engine, files, fingerprint, readiness, schemes
from crucible.stack.compose import COMPLETED, STARTED, Hook, Project, Service
from crucible.errors import ServiceNotFound, StartupError

log = logging.getLogger(__name__)

LABEL_PROJECT = "crucible.project"
LABEL_RUN = "crucible.run"
LABEL_OWNER = "crucible.owner"
LABEL_SERVICE = "crucible.service"
LABEL_NETWORK = "crucible.network"
LABEL_VOLUME = "crucible.volume"
KEEP = "keep"


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
        self.bind = engine.bind_address(client)
        self.host = engine.reach(client, self.bind)
        self.network_name = f"{project.name}-{self.run_id}"
        self.running: dict[str, Running] = {}
        self._containers: dict[str, str] = {}  # service -> container id, as soon as it is created
        self.cancel = threading.Event()
        self._tasks: list[Future] = []
        self._interrupted = False

    @property
    def labels(self) -> dict[str, str]:
        """Labels every resource of this run carries."""
        return {LABEL_PROJECT: self.project.name, LABEL_RUN: self.run_id, LABEL_OWNER: self.owner}

    @classmethod
    def attach(cls, client: docker.DockerClient, project: Project, run_id: str | None = None) -> "Stack":
        """A Stack for a run already on the engine (the newest kept one unless ``run_id`` is given), holding the
        services that have a running container."""
        owners = runs(client, project.name)
        kept = [rid for rid, owner in owners.items() if run_id in (rid, None) and (owner == KEEP or run_id)]
        if not kept:
            what = f"run {run_id}" if run_id else "a stack left running by `crucible up`"
            raise StartupError(f"Cannot attach to {what} of project '{project.name}': none is on the engine. "
                                  f"Start one with `crucible up`.")
        found = cls(client, project, run_id=kept[0], keep=True)
        found.owner = owners[found.run_id]  # a run's own stack (attached by its workers) keeps its owner
        filters = {"label": [f"{LABEL_PROJECT}={project.name}", f"{LABEL_RUN}={found.run_id}"]}
        for container in client.containers.list(all=True, filters=filters):
            name = container.labels.get(LABEL_SERVICE)
            if name in project.services:
                found.running[name] = Running(project.services[name], container, _published(container))
                found._containers[name] = container.id  # network_mode service:NAME and volumes_from on recreate
                if _bound(container) is not None:
                    found.host = engine.reach(client, _bound(container))
        return found

    def up(self) -> None:
        """Create the run's networks and volumes, then start every service as soon as its dependencies allow."""
        log.info("Starting stack '%s' (run %s) on network %s", self.project.name, self.run_id,
                 self.network_name)
        if engine.address(self.client).remote:
            log.info("Published ports bind to %s on the engine's machine (%s), reached at %s", self.bind,
                     engine.address(self.client).url, self.host)
        self._create_networks()
        self._create_volumes()
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
        self.say_moved()

    def say_moved(self) -> None:
        """One notice naming every port whose host side the compose file fixed, and where it is bound instead."""
        moved = self.moved()
        if moved:
            where = "loopback ports" if self.bind.startswith("127.") else f"ports on {self.bind}"
            log.warning("%d published port%s moved to random %s: %s", len(moved), "s" if len(moved) > 1 else "",
                        where, ", ".join(moved))

    def moved(self) -> list[str]:
        """Each published port whose host address or port the compose file fixed, and where it is bound instead
        (``web 8080->127.0.0.1:49213``): a fixed host port would collide with another stack on this machine."""
        out = []
        for name, running in [(n, self.running[n]) for n in self.project.services if n in self.running]:
            bound = _bindings(running.container)
            for port in running.service.ports:
                if port.written and port.key in bound:
                    out.append(f"{name} {port.written}->{bound[port.key][0]}:{bound[port.key][1]}")
        return out

    def network(self, name: str) -> str:
        """The engine's name of one of the stack's networks in this run."""
        return self.network_name if name == "default" else f"{self.network_name}-{name}"

    def volume(self, name: str) -> str:
        """The engine's name of one of the stack's named volumes in this run (an external one keeps its name)."""
        spec = self.project.volumes.get(name)
        if spec is not None and spec.external:
            return spec.external
        return f"{self.project.name}-{self.run_id}-{name}"

    def _create_networks(self) -> None:
        """One bridge network per network of the stack, labelled with the run."""
        for name, spec in self.project.networks.items():
            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=p.get("subnet"), iprange=p.get("ip_range"),
                                                     gateway=p.get("gateway")) for p in spec.ipam]) \
                if spec.ipam else None
            with engine.guard(f"creating network '{name}'"):
                try:
                    self.client.networks.create(self.network(name), driver="bridge", internal=spec.internal,
                                                enable_ipv6=spec.enable_ipv6, ipam=ipam,
                                                labels={**spec.labels, **self.labels, LABEL_NETWORK: name})
                except APIError as exc:
                    raise StartupError(f"Cannot create network '{name}' of stack '{self.project.name}': "
                                       f"{exc.explanation or exc}") from None

    def _create_volumes(self) -> None:
        """One volume per named volume of the stack, labelled with the run; external ones must exist."""
        for name, spec in self.project.volumes.items():
            with engine.guard(f"creating volume '{name}'"):
                if spec.external:
                    try:
                        self.client.volumes.get(spec.external)
                    except NotFound:
                        raise StartupError(f"Volume '{name}' is external (it must exist already), but the engine "
                                           f"has no volume '{spec.external}'.\n  hint: create it with "
                                           f"`docker volume create {spec.external}` (and fill it), or remove "
                                           f"`external: true` so that each run gets a fresh one.") from None
                    continue
                try:
                    self.client.volumes.create(self.volume(name), driver=spec.driver,
                                               driver_opts=spec.driver_opts or None,
                                               labels={**spec.labels, **self.labels, LABEL_VOLUME: name})
                except APIError as exc:
                    raise StartupError(f"Cannot create volume '{name}' of stack '{self.project.name}': "
                                       f"{exc.explanation or exc}") from None

    def abort(self, timeout: float = 30.0) -> None:
        """Stop a start-up in progress: starting threads give up, none creates anything more."""
        self.cancel.set()
        self._interrupted = True
        wait(self._tasks, timeout=timeout)

    def _start_one(self, service: Service, started: dict[str, Future], ready: dict[str, Future]) -> None:
        """Wait for the service's dependencies, start it, wait until it is ready (a job: until it is done)."""
        try:
            for dep, condition in service.depends_on.items():
                gate = started[dep] if condition == STARTED else ready[dep]
                if gate.exception() is not None:
                    raise _Skipped(f"'{service.name}' was not started because '{dep}' failed")
            if self.cancel.is_set():
                raise _Skipped(f"'{service.name}' was not started: start-up was stopped")
            container = self._create(service)
            self._start(service, container)
            run_hooks(container, service.name, "post_start", service.post_start)
            started[service.name].set_result(True)
            log.info("  %-12s started", service.name)
            waited = self._strategy(service).wait_until_ready(container, service.name, cancel=self.cancel)
            container.reload()
            self.running[service.name] = Running(service, container, _published(container), waited)
            log.info("  %-12s %s after %.1fs", service.name,
                     "completed" if container.status == "exited" else "ready", waited)
            ready[service.name].set_result(True)
        except BaseException as exc:
            for gate in (started[service.name], ready[service.name]):
                if not gate.done():
                    gate.set_exception(exc)
            raise

    def _strategy(self, service: Service):
        """How to know a service is ready: a job when it completed, a service by its healthcheck or running."""
        waiting = tuple(name for name, svc in self.project.services.items()
                        if svc.depends_on.get(service.name) == COMPLETED)
        if waiting:
            return readiness.CompletionWait(waiting=waiting)
        return readiness.for_service(service.healthcheck)

    def _create(self, service: Service) -> Container:
        """Create the service's container on its networks, ports on the engine's bind address, volumes and files
        in place."""
        api = self.client.api
        networks = list(service.networks)
        try:
            created = api.create_container(
                service.image,
                command=list(service.command) if isinstance(service.command, tuple) else service.command,
                entrypoint=list(service.entrypoint) if isinstance(service.entrypoint, tuple) else service.entrypoint,
                name=self.container_name(service.name),
                hostname=None if self._shares_network(service) else (service.hostname or service.name),
                domainname=service.domainname, user=service.user, working_dir=service.working_dir,
                environment=service.environment,
                labels={**service.labels, **self.labels, **self._fingerprint(service), LABEL_SERVICE: service.name},
                ports=None if self._shares_network(service) else [
                    tuple(key.split("/")) for key in dict.fromkeys([*(p.key for p in service.ports), *service.expose])],
                stop_signal=service.stop_signal, tty=service.tty, stdin_open=service.stdin_open,
                stop_timeout=None if service.stop_grace_period is None else int(service.stop_grace_period),
                mac_address=service.mac_address, detach=True,
                host_config=api.create_host_config(**self._host_config(service, networks)),
                networking_config=api.create_networking_config(
                    {self.network(networks[0]): self._endpoint(service, networks[0])}) if networks else None,
            )
            self._containers[service.name] = created["Id"]
            for name in networks[1:]:
                api.connect_container_to_network(created["Id"], self.network(name),
                                                 **self._endpoint_options(service, name))
            container = self.client.containers.get(created["Id"])
            files.copy_into(container, service.files)
            return container
        except APIError as exc:
            raise StartupError(f"Cannot create the container of service '{service.name}' "
                               f"(image {service.image}): {exc.explanation or exc}") from None

    def container_name(self, service: str) -> str:
        """The engine's name of a service's container in this run."""
        return f"{self.project.name}-{self.run_id}-{service}"

    def _shares_network(self, service: Service) -> bool:
        """True when the service uses another service's network stack (network_mode service:NAME)."""
        return bool(service.network_mode and service.network_mode.startswith("service:"))

    def _host_config(self, service: Service, networks: list[str]) -> dict:
        """The engine's host configuration of a service, as keyword arguments."""
        # every port on a random host port of the bind address, whatever host address and port the file gives
        bindings = {port.key: (self.bind, None) for port in service.ports}
        mode = service.network_mode
        if mode and mode.startswith("service:"):
            mode = f"container:{self._containers[mode.split(':', 1)[1]]}"
        options = dict(service.host_options)
        if "ulimits" in options:
            options["ulimits"] = [Ulimit(name=n, soft=s, hard=h) for n, (s, h) in options["ulimits"].items()]
        return dict(
            port_bindings=bindings or None,
            binds=files.binds(service) or None,
            mounts=[self._mount(m) for m in service.mounts if not (m.kind == "bind" and m.create_host_path)] or None,
            tmpfs={path.partition(":")[0]: path.partition(":")[2] for path in service.tmpfs} or None,
            restart_policy=_restart_policy(service.restart),
            extra_hosts=list(service.extra_hosts) or None,
            network_mode=mode or (self.network(networks[0]) if networks else None),
            volumes_from=[f"{self._containers[name]}:{how}" for name, how in service.volumes_from] or None,
            **options,
        )

    def _mount(self, mount) -> Mount:
        """A volume, bind or tmpfs mount in the engine's terms."""
        if mount.kind == "tmpfs":
            return Mount(mount.target, None, type="tmpfs", tmpfs_size=mount.tmpfs_size, tmpfs_mode=mount.tmpfs_mode)
        if mount.kind == "bind":
            return Mount(mount.target, mount.source, type="bind", read_only=mount.read_only,
                         propagation=mount.propagation)
        labels = None if mount.source else {**self.labels}
        return Mount(mount.target, self.volume(mount.source) if mount.source else None, type="volume",
                     read_only=mount.read_only, no_copy=mount.nocopy, labels=labels)

    def _endpoint_options(self, service: Service, network: str) -> dict:
        """Aliases (the service's name first), fixed addresses and links of a service on one network."""
        attachment = service.networks[network]
        links = [(self.container_name(target), alias) for alias, target in service.links.items()
                 if network in self.project.services[target].networks]
        return dict(aliases=[service.name, *attachment.aliases], ipv4_address=attachment.ipv4_address,
                    ipv6_address=attachment.ipv6_address, links=links or None)

    def _endpoint(self, service: Service, network: str):
        """The endpoint configuration of a service on the network it is created on."""
        return self.client.api.create_endpoint_config(**self._endpoint_options(service, network))

    def _start(self, service: Service, container: Container) -> None:
        """Start a created container, explaining the usual reasons it cannot start."""
        try:
            container.start()
        except APIError as exc:
            detail = str(exc.explanation or exc)
            hint = ""
            if "cannot assign requested address" in detail:
                hint = (f"\n  hint: ports bind to {self.bind}, which is no address of the engine's machine: set "
                        f"{engine.BIND_ENV} to one of its addresses (0.0.0.0 binds every interface, so anyone "
                        f"who reaches that machine reaches the services).")
            raise StartupError(f"Cannot start service '{service.name}': {detail}{hint}") from None

    def _fingerprint(self, service: Service) -> dict[str, str]:
        """What a kept stack's container records of its definition and build inputs, to be found stale later; a
        run's own stack is never checked, so its containers are spared hashing the build context."""
        return fingerprint.labels(service) if self.owner == KEEP else {}

    def containers(self) -> dict[str, Container]:
        """Service -> container of every container of this run (running or not, also of removed services)."""
        filters = {"label": [f"{LABEL_PROJECT}={self.project.name}", f"{LABEL_RUN}={self.run_id}"]}
        return {c.labels[LABEL_SERVICE]: c for c in self.client.containers.list(all=True, filters=filters)
                if LABEL_SERVICE in c.labels}

    def refresh(self, names: set[str], existing: dict[str, Container]) -> None:
        """Start these services again from the project's current definition, dependencies first (a kept stack's
        stale services); a name that is no longer in the compose file is only removed (``existing``: the run's
        containers, as :meth:`containers` gives them)."""
        for name in sorted(names - set(self.project.services)):
            existing[name].remove(force=True, v=True)
            log.info("  %-12s removed (no longer in the compose file)", name)
        for level in self.project.levels():
            for name in [n for n in level if n in names]:
                waited = self.recreate(self.project.services[name])
                log.info("  %-12s replaced, ready after %.1fs", name, waited)

    def url(self, service: str, port: int | None = None) -> str:
        """The URL of a service's published port (by default its first in the compose file), its scheme what the
        port speaks (``postgresql://``, ``amqp://``, ``http://``; ``tcp://`` when nothing names it)."""
        container_port, host_port = self._published_port(service, port)
        return f"{schemes.scheme(self._running(service).service, container_port)}://{self.host}:{host_port}"

    def http_url(self, service: str, port: int | None = None) -> str:
        """The base URL HTTP steps use on a service's published port: ``https://`` on a TLS port, else ``http://``
        (they speak HTTP to it whatever the port is shown as)."""
        container_port, host_port = self._published_port(service, port)
        return f"{schemes.http_scheme(self._running(service).service, container_port)}://{self.host}:{host_port}"

    def _published_port(self, service: str, port: int | None) -> tuple[int, int]:
        """The container port (by default the service's first in the compose file) and the host port it is
        published on."""
        running = self._running(service)
        if not running.ports:
            raise ServiceNotFound(f"Service '{service}' publishes no port: add `ports: [\"8000\"]` "
                                  f"to it in {self.project.path}.")
        container_port = port or self._declared(running)[0]  # the compose file's order, not the engine's
        if container_port not in running.ports:
            raise ServiceNotFound(f"Service '{service}' does not publish port {container_port} "
                                  f"(it publishes {sorted(running.ports)}).")
        return container_port, running.ports[container_port]

    def state(self, service: str) -> str:
        """The engine's state of a service's container (running, exited, paused ...)."""
        running = self._running(service)
        with engine.guard(f"reading the state of service '{service}'"):
            running.container.reload()
        return running.container.status

    def stop_service(self, service: str, timeout: int | None = None) -> None:
        """Stop one service's container (a fault: the engine's own stop, its stop signal then SIGKILL)."""
        running = self._running(service)
        grace = running.service.stop_grace_period
        with engine.guard(f"stopping service '{service}'"):
            try:
                run_hooks(running.container, service, "pre_stop", running.service.pre_stop)
            except StartupError as exc:
                log.warning("%s (stopping it anyway)", exc)
            running.container.stop(timeout=timeout if timeout is not None else int(grace) if grace else 10)
        log.info("  %-12s stopped", service)

    def start_service(self, service: str) -> float:
        """Start a stopped service again, wait until it is ready, re-read its published ports."""
        running = self._running(service)
        with engine.guard(f"starting service '{service}'"):
            running.container.start()
            run_hooks(running.container, service, "post_start", running.service.post_start)
        return self.wait_ready(service)

    def wait_ready(self, service: str) -> float:
        """Wait until a service passes its readiness check again; re-read its published ports."""
        running = self._running(service)
        with engine.guard(f"waiting for service '{service}' to be ready"):
            waited = self._strategy(running.service).wait_until_ready(running.container, service)
            running.container.reload()
        running.ports = _published(running.container)
        log.debug("  %-12s ready again after %.1fs", service, waited)
        return waited

    def replace_service(self, service: str, environment: dict[str, str]) -> float:
        """Recreate a service's container with another environment (same name, network, alias); wait until ready."""
        return self.recreate(replace(self._running(service).service, environment=environment))

    def recreate(self, service: Service) -> float:
        """(Re)create a service's container from a definition (same name, network, alias); wait until ready."""
        with engine.guard(f"recreating service '{service.name}'"):
            if service.name in self.running:
                self.running[service.name].container.remove(force=True)
            container = self._create(service)
            self._start(service, container)
            run_hooks(container, service.name, "post_start", service.post_start)
            self.running[service.name] = Running(service, container)
        return self.wait_ready(service.name)

    def service(self, name: str) -> Running:
        """The running service of that name (its container, ports, compose definition)."""
        return self._running(name)

    def exit_code(self, service: str) -> int | None:
        """The exit code of a service's container once it stopped (None while it runs)."""
        running = self._running(service)
        state = running.container.attrs.get("State", {})
        return None if state.get("Running") else state.get("ExitCode")

    def _running(self, service: str) -> Running:
        """The running service of that name, or ServiceNotFound listing the services."""
        if service not in self.running:
            raise ServiceNotFound(f"There is no running service '{service}' in stack '{self.project.name}' "
                                  f"(running: {', '.join(sorted(self.running)) or 'none'}).")
        return self.running[service]

    def urls(self) -> dict[str, str]:
        """Service name -> the URL of its first published port, for every service that publishes one; a service's
        other published ports follow as ``NAME:CONTAINER_PORT`` -> URL (``rabbitmq:15672``)."""
        out = {}
        for name, running in sorted(self.running.items()):
            for n, port in enumerate(self._declared(running)):
                out[name if n == 0 else f"{name}:{port}"] = self.url(name, port)
        return out

    @staticmethod
    def _declared(running: Running) -> list[int]:
        """A service's published TCP ports, in the compose file's order (then any other the engine publishes)."""
        declared = [p.container for p in running.service.ports if p.protocol == "tcp" and p.container in running.ports]
        return list(dict.fromkeys([*declared, *running.ports]))

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
        """Write :meth:`urls` (service name -> URL of each published port, on its real host port) as JSON."""
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


def run_hooks(container: Container, service: str, when: str, hooks: tuple[Hook, ...]) -> None:
    """Run a service's post_start or pre_stop commands in its container; a non-zero exit is a StartupError."""
    for hook in hooks:
        command = list(hook.command) if isinstance(hook.command, tuple) else hook.command
        code, output = container.exec_run(command, user=hook.user or "", privileged=hook.privileged,
                                          workdir=hook.working_dir, environment=hook.environment or None)
        if code != 0:
            tail = "\n".join("    " + line for line in output.decode("utf-8", "replace").splitlines()[-20:])
            raise StartupError(f"The {when} hook of service '{service}' ({command}) exited with code {code}.\n"
                               f"  output:\n{tail or '    (none)'}")


def _restart_policy(restart: str | None) -> dict | None:
    """A compose restart policy (``on-failure:3``) in the engine's terms."""
    if not restart or restart == "no":
        return None
    name, _, retries = restart.partition(":")
    return {"Name": name, "MaximumRetryCount": int(retries or 0)}


class _Skipped(StartupError):
    """A service that was not started because a dependency failed."""


def _published(container: Container) -> dict[int, int]:
    """Container port -> host port for every published TCP port."""
    out = {}
    for key, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
        if bindings and key.endswith("/tcp"):
            out[int(key.split("/")[0])] = int(bindings[0]["HostPort"])
    return out


def _bindings(container: Container) -> dict[str, tuple[str, int]]:
    """The engine's port name (``80/tcp``) -> the host address and port it is bound to, for every published port."""
    out = {}
    for key, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
        if bindings:
            out[key] = (bindings[0].get("HostIp") or "0.0.0.0", int(bindings[0]["HostPort"]))
    return out


def _bound(container: Container) -> str | None:
    """The host address a container's first published port is bound to, if it publishes one."""
    for bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).values():
        if bindings:
            return bindings[0].get("HostIp")
    return None


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

