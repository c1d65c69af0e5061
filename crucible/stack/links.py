"""Links between services ("payments' calls to fraud"), found in the compose file and rerouted through a proxy.

A link from A to B exists when A's environment names B's address: a URL (``http://fraud:8000``,
``postgresql://orders:pw@postgres:5432/orders``; the port may come from the scheme) or
``fraud:8000``. That is how services find each other in compose files, and it is what lets
Crucible put a proxy on the link without editing the team's compose file: a link proxy container
(``linkproxy/``) joins the run's network under its own name, forwarding to B; A's container is
recreated with those addresses pointing at the proxy; only A's calls to B pass through it, and B
keeps its name for everyone else. Healing the link recreates A with its own environment and
removes the proxy.

Why a proxy of our own: the kernel here has no netem, Toxiproxy is neither a Debian package nor
reachable from a registry these machines can use, and Debian's HAProxy or nginx delay only whole
HTTP requests and cannot change a delay at run time without a reload; the proxy is ~200 lines of
Python's standard library on Debian's python3, with a Toxiproxy-like API (``GET``/``PUT /toxics``).
Besides Toxiproxy's kind of toxics it can gather calls: hold the next N until all N wait, then let
them go on together, which is how a scenario makes a race happen on purpose.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from docker.errors import ImageNotFound

from crucible.errors import StartupError, TestDataError
from crucible.stack import engine, images
from crucible.stack.compose import Build, Project, Service
from crucible.stack.running import LABEL_SERVICE, Stack

log = logging.getLogger(__name__)

PROXY_DIR = Path(__file__).with_name("linkproxy")
CONTROL_PORT = 8474
DEFAULT_PORTS = {"http": 80, "https": 443, "amqp": 5672, "amqps": 5671, "postgresql": 5432, "postgres": 5432,
                 "redis": 6379, "mysql": 3306, "mongodb": 27017, "nats": 4222}
LABEL_LINK = "crucible.link"
READY_TIMEOUT_S = 30.0


def _address(server: str) -> re.Pattern[str]:
    """A service's address in an environment value: ``scheme://[user@]server[:port]`` or ``server:port``."""
    return re.compile(r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/\s]*@)?|(?<![\w.@/:-]))"
                      rf"(?P<host>{re.escape(server)})(?::(?P<port>\d+))?(?![\w.-])")


def _addresses(value: str, server: str) -> list[tuple[re.Match[str], int]]:
    """Each address of ``server`` in a value, with its port (explicit, or the scheme's)."""
    found = []
    for match in _address(server).finditer(value):
        port = match["port"] or DEFAULT_PORTS.get((match["scheme"] or "").lower())
        if port:
            found.append((match, int(port)))
    return found


@dataclass(frozen=True)
class Link:
    """Service ``client``'s calls to service ``server``: the variables naming it and the ports used."""

    client: str
    server: str
    variables: tuple[str, ...]
    ports: tuple[int, ...]

    @property
    def name(self) -> str:
        """``payments -> fraud``."""
        return f"{self.client} -> {self.server}"

    @property
    def alias(self) -> str:
        """The proxy's name on the run's network."""
        return f"link-{self.client}-{self.server}"


def links(project: Project) -> list[Link]:
    """Every link of the stack: each service's environment addresses of another service."""
    found = []
    for client in project.services.values():
        for server in project.services:
            if server != client.name:
                link = _link(client, server)
                if link is not None:
                    found.append(link)
    return found


def _link(client: Service, server: str) -> Link | None:
    names, ports = [], set()
    for variable, value in client.environment.items():
        addresses = _addresses(str(value), server)
        if addresses:
            names.append(variable)
            ports.update(port for _, port in addresses)
    return Link(client.name, server, tuple(names), tuple(sorted(ports))) if names else None


def find(project: Project, client: str, server: str) -> Link:
    """The link from ``client`` to ``server``, or a TestDataError listing the links the stack has."""
    for name in (client, server):
        if name not in project.services:
            raise TestDataError(f"there is no service '{name}' in {project.path.name} (services: "
                                f"{', '.join(sorted(project.services))})")
    link = _link(project.services[client], server)
    if link is None:
        known = ", ".join(link.name for link in links(project)) or "none"
        raise TestDataError(f"there is no link from '{client}' to '{server}': no variable of '{client}' in "
                            f"{project.path.name} names the address of '{server}' (links of the stack: {known})")
    return link


def rerouted(environment: dict[str, str], link: Link) -> dict[str, str]:
    """The client's environment with every address of the server pointing at the link's proxy."""
    def host_to_alias(m: re.Match[str]) -> str:
        if not (m["port"] or DEFAULT_PORTS.get((m["scheme"] or "").lower())):
            return m.group(0)
        start, end = m.start("host") - m.start(), m.end("host") - m.start()
        return m.group(0)[:start] + link.alias + m.group(0)[end:]

    def swap(value: str) -> str:
        return _address(link.server).sub(host_to_alias, value)
    return {name: swap(str(value)) if name in link.variables else value for name, value in environment.items()}


def proxy_image(client) -> str:
    """The link proxy's image, built from Crucible's own Dockerfile when this version is not on the engine yet."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(PROXY_DIR.iterdir()) if p.is_file()))
    tag = f"crucible/link-proxy:{digest.hexdigest()[:12]}"
    try:
        client.images.get(tag)
    except ImageNotFound:
        images.ensure_base(client)
        images.build(client, Service(name="link-proxy", image=tag, build=Build(context=PROXY_DIR)))
    return tag


class LinkProxy:
    """A proxy on one link of a running stack: toxics can be set; removing it heals the link."""

    def __init__(self, stack: Stack, link: Link):
        self.stack, self.link = stack, link
        self.container = None
        self.control_url = ""

    def start(self) -> None:
        """Start the proxy on the run's network, then recreate the client with its calls going through it."""
        image = proxy_image(self.stack.client)
        routes = [f"{port}={self.link.server}:{port}" for port in self.link.ports]
        endpoint = self.stack.client.api.create_endpoint_config(aliases=[self.link.alias])
        with engine.guard(f"starting the proxy of link {self.link.name}"):
            self.container = self.stack.client.containers.run(
                image, routes, detach=True, name=f"{self.stack.network_name}-{self.link.alias}",
                labels={**self.stack.labels, LABEL_LINK: self.link.name, LABEL_SERVICE: self.link.alias},
                ports={f"{CONTROL_PORT}/tcp": ("127.0.0.1", None)}, network=self.stack.network_name,
                networking_config={self.stack.network_name: endpoint})
            self.container.reload()
        port = self.container.attrs["NetworkSettings"]["Ports"][f"{CONTROL_PORT}/tcp"][0]["HostPort"]
        self.control_url = f"http://{self.stack.host}:{port}/toxics"
        self._wait_ready()
        client = self.stack.service(self.link.client)
        self.stack.replace_service(self.link.client, rerouted(dict(client.service.environment), self.link))
        log.info("  %-12s calls %s through %s", self.link.client, self.link.server, self.link.alias)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                requests.get(self.control_url, timeout=2).raise_for_status()
                return
            except requests.RequestException as exc:
                if time.monotonic() > deadline:
                    raise StartupError(f"The proxy of link {self.link.name} did not answer on {self.control_url} "
                                       f"within {READY_TIMEOUT_S:.0f}s: {exc}") from None
                time.sleep(0.1)

    def set(self, **toxics) -> dict:
        """Change the toxics (``latency_ms``, ``drop``) or start a gathering (``gather``, ``gather_timeout_ms``);
        return the proxy's state."""
        try:
            response = requests.put(self.control_url, json=toxics, timeout=5)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise StartupError(f"Cannot set {toxics} on the proxy of link {self.link.name}: {exc}") from None
        return response.json()

    def state(self) -> dict:
        """The proxy's state: toxics, connections, the gathering under way (``gathering``) or the last (``gathered``)."""
        try:
            response = requests.get(self.control_url, timeout=5)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise StartupError(f"Cannot read the state of the proxy of link {self.link.name}: {exc}") from None
        return response.json()

    def remove(self) -> None:
        """Heal the link: the client gets its own environment back, the proxy goes."""
        original = self.stack.project.services[self.link.client].environment
        try:
            self.stack.replace_service(self.link.client, dict(original))
        finally:
            if self.container is not None:
                with engine.guard(f"removing the proxy of link {self.link.name}"):
                    self.container.remove(force=True)
        log.info("  %-12s calls %s directly again", self.link.client, self.link.server)
