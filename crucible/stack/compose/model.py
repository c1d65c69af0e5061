"""The typed model of a stack: what the engine side (images, running, readiness) starts, and how."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crucible.errors import ComposeError

COMPLETED = "service_completed_successfully"
HEALTHY = "service_healthy"
STARTED = "service_started"
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # host addresses a published port is bound to anyway


@dataclass(frozen=True)
class Build:
    """How to build a service's image."""

    context: Path
    dockerfile: str = "Dockerfile"
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    shm_size: int | str | None = None
    extra_hosts: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    cache_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Port:
    """A container port, always published on a random port of the engine's bind address (127.0.0.1).

    ``host`` and ``host_ip`` keep what the compose file asked for, only to say that it was not honoured: a
    fixed host port collides with a developer's own stack or a second shard on the same machine.
    """

    container: int
    protocol: str = "tcp"
    host: int | str | None = None  # the file's host port or range ("8000-8010"), or None (random)
    host_ip: str = ""  # the file's host address, or ""

    @property
    def written(self) -> str:
        """The host side the file asked for (``8080``, ``0.0.0.0:8080``, ``0.0.0.0:``), or '' for none."""
        host = "" if self.host is None else str(self.host)
        if self.host_ip and self.host_ip not in LOOPBACK:
            address = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
            return f"{address}:{host}" if host else address
        return host

    @property
    def key(self) -> str:
        """The engine's name for this port, e.g. ``8000/tcp``."""
        return f"{self.container}/{self.protocol}"


@dataclass(frozen=True)
class Healthcheck:
    """A readiness command run inside the container; exit code 0 means ready."""

    test: tuple[str, ...]
    interval: float = 1.0
    timeout: float = 5.0
    retries: int = 30
    start_period: float = 0.0
    start_interval: float | None = None

    @property
    def budget(self) -> float:
        """Seconds to wait before declaring the service unhealthy."""
        return self.start_period + self.retries * max(self.interval, 0.5) + self.timeout

    def command(self) -> list[str]:
        """The command to exec, in the form the engine's exec API takes."""
        kind, *rest = self.test
        if kind == "CMD-SHELL":
            return ["/bin/sh", "-c", rest[0]]
        return list(rest)


@dataclass(frozen=True)
class Mount:
    """A named or anonymous volume, a host folder or a tmpfs mounted into a service's container."""

    kind: str  # volume, bind or tmpfs
    target: str
    source: str | None = None  # the volume's name in the compose file (None: anonymous), or a bind's host path
    read_only: bool = False
    create_host_path: bool = False  # bind: the engine creates a missing host folder (short syntax)
    propagation: str | None = None
    selinux: str | None = None
    nocopy: bool = False
    tmpfs_size: int | str | None = None
    tmpfs_mode: int | None = None


@dataclass(frozen=True)
class FileMount:
    """A secret or config put into a service's container, read-only."""

    name: str
    target: str  # absolute path in the container
    file: Path | None = None  # from a host file (bind-mounted read-only)
    content: str | None = field(default=None, repr=False)  # from a variable or inline (copied in before start)
    mode: int = 0o444


@dataclass(frozen=True)
class Hook:
    """A command run inside a service's container: after it starts (post_start) or before it stops (pre_stop)."""

    command: tuple[str, ...] | str
    user: str | None = None
    privileged: bool = False
    working_dir: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """How a service joins one network of the stack."""

    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None


@dataclass(frozen=True)
class Network:
    """A network of the stack, created for each run."""

    name: str
    driver: str = "bridge"
    internal: bool = False
    enable_ipv6: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    ipam: tuple[dict[str, str], ...] = ()  # address pools: subnet, ip_range, gateway


@dataclass(frozen=True)
class Volume:
    """A named volume: created for each run and removed with it, or an external one used as it is."""

    name: str
    driver: str = "local"
    driver_opts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    external: str | None = None  # the engine's name of a volume that exists already (never created or removed)


@dataclass(frozen=True)
class Service:
    """One service of the stack."""

    name: str
    image: str
    build: Build | None = None
    command: tuple[str, ...] | str | None = None
    entrypoint: tuple[str, ...] | str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    expose: tuple[str, ...] = ()
    depends_on: dict[str, str] = field(default_factory=dict)  # service -> condition
    healthcheck: Healthcheck | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tmpfs: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    files: tuple[FileMount, ...] = ()  # secrets and configs
    networks: dict[str, Attachment] = field(default_factory=dict)  # joined in this order
    network_mode: str | None = None  # none, bridge, or service:NAME
    links: dict[str, str] = field(default_factory=dict)  # alias -> service
    volumes_from: tuple[tuple[str, str], ...] = ()  # (service, rw|ro)
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    domainname: str | None = None
    extra_hosts: tuple[str, ...] = ()  # host:address
    restart: str | None = None
    stop_signal: str | None = None
    stop_grace_period: float | None = None
    tty: bool = False
    stdin_open: bool = False
    mac_address: str | None = None
    post_start: tuple[Hook, ...] = ()
    pre_stop: tuple[Hook, ...] = ()
    host_options: dict[str, Any] = field(default_factory=dict)  # passed to the engine as they are (cap_add, init ...)


@dataclass(frozen=True)
class Project:
    """A whole stack: its name, the files it came from, its services, networks and volumes."""

    name: str
    path: Path
    services: dict[str, Service]
    files: tuple[Path, ...] = ()
    networks: dict[str, Network] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    def levels(self) -> list[list[str]]:
        """Services grouped by dependency depth: each level needs only earlier ones."""
        depth: dict[str, int] = {}

        def visit(name: str, trail: tuple[str, ...]) -> int:
            if name in trail:
                cycle = " -> ".join(trail[trail.index(name):] + (name,))
                raise ComposeError(f"{self.path}: services depend on each other in a cycle: {cycle}")
            if name not in depth:
                deps = self.services[name].depends_on
                depth[name] = 1 + max((visit(d, trail + (name,)) for d in deps), default=-1)
            return depth[name]

        for name in self.services:
            visit(name, ())
        levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name in self.services:
            levels[depth[name]].append(name)
        return levels

    def jobs(self) -> set[str]:
        """One-shot services: those another service waits for to complete successfully."""
        return {dep for svc in self.services.values() for dep, cond in svc.depends_on.items() if cond == COMPLETED}
