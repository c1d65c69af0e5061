"""The Docker engine: reach it, or (on a Debian-like machine, as root) install and start one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

import docker
from docker.constants import DEFAULT_UNIX_SOCKET
from docker.context.config import get_current_context_name
from docker.errors import APIError, DockerException
from docker.tls import TLSConfig
from docker.utils import kwargs_from_env
from paramiko import SSHConfig, SSHException
from requests import ConnectionError as RequestsConnectionError
from requests import RequestException

from crucible import system
from crucible.errors import EngineUnavailable

log = logging.getLogger(__name__)

HOST_ENV = "CRUCIBLE_ENGINE_HOST"
BIND_ENV = "CRUCIBLE_ENGINE_BIND"
WILDCARDS = ("0.0.0.0", "::", "")
LOCAL = "the local socket"
PID_FILE = Path("/var/run/docker.pid")
DOCKERD_LOG = Path("/var/log/crucible-dockerd.log")
HOW_TO = (
    "Start a Docker engine (e.g. `sudo systemctl start docker`, or Docker Desktop), "
    "or point DOCKER_HOST at one (e.g. DOCKER_HOST=unix:///var/run/docker.sock or tcp://127.0.0.1:2375). "
    "On a Debian/Ubuntu machine, running `make setup` as root installs and starts one."
)


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is: its address, where that came from, its TLS settings."""

    url: str
    source: str
    tls: TLSConfig | None = None

    @property
    def remote(self) -> bool:
        """True for an engine reached over the network (tcp:// or ssh://), even on this machine's loopback."""
        return urlparse(self.url).scheme in ("tcp", "http", "https", "ssh")


def endpoint(environ: Mapping[str, str] | None = None) -> Endpoint:
    """The engine the docker CLI would use: DOCKER_HOST (with its TLS settings), else the current Docker
    context (DOCKER_CONTEXT, or ``currentContext`` in the Docker config), else the local socket."""
    environ = os.environ if environ is None else environ
    if environ.get("DOCKER_HOST"):
        _check_tls_files(environ)
        return Endpoint(environ["DOCKER_HOST"], "DOCKER_HOST", kwargs_from_env(environment=environ).get("tls"))
    name = environ.get("DOCKER_CONTEXT") or get_current_context_name()
    if name and name != "default":
        named_by = "DOCKER_CONTEXT" if environ.get("DOCKER_CONTEXT") else "the Docker config"
        source = f"Docker context '{name}' ({named_by})"
        return _context_endpoint(name, source, contexts_folder(environ))
    return Endpoint(DEFAULT_UNIX_SOCKET.removeprefix("http+"), LOCAL)


def contexts_folder(environ: Mapping[str, str]) -> Path:
    """Where the docker CLI keeps its contexts: $DOCKER_CONFIG/contexts, else ~/.docker/contexts."""
    return Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "contexts"


def _context_endpoint(name: str, source: str, folder: Path) -> Endpoint:
    """A Docker context's engine address and TLS files, read from the docker CLI's context store.

    Read here rather than by docker-py's ContextAPI, which looks in ./contexts (the current folder) when
    there is no config.json, where the docker CLI looks in ~/.docker/contexts.
    """
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = folder / "meta" / digest / "meta.json"
    try:
        docker_endpoint = json.loads(meta.read_text(encoding="utf-8"))["Endpoints"]["docker"]
        host = docker_endpoint["Host"]
    except FileNotFoundError:
        raise EngineUnavailable(f"{source} does not exist (looked in {folder}). `docker context ls` lists the "
                                f"contexts; unset DOCKER_CONTEXT to use the local engine.") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EngineUnavailable(f"{source} cannot be read ({meta}: {exc!r}): recreate it with "
                                f"`docker context create`.") from None
    tls = folder / "tls" / digest / "docker"
    files = {part: next(iter(sorted(tls.glob(f"{part}*"))), None) for part in ("ca", "cert", "key")} \
        if tls.is_dir() else {}
    if files and all(files.values()):
        verify = not docker_endpoint.get("SkipTLSVerify", False)
        return Endpoint(host, source, TLSConfig(client_cert=(str(files["cert"]), str(files["key"])),
                                                ca_cert=str(files["ca"]), verify=verify))
    return Endpoint(host, source)


def _check_tls_files(environ: Mapping[str, str]) -> None:
    """With DOCKER_TLS_VERIFY or DOCKER_CERT_PATH set, the client's certificate files must exist; name those missing."""
    verify = environ.get("DOCKER_TLS_VERIFY", "") != ""
    if not verify and not environ.get("DOCKER_CERT_PATH"):
        return
    folder = Path(environ.get("DOCKER_CERT_PATH") or Path.home() / ".docker")
    needed = ["ca.pem", "cert.pem", "key.pem"] if verify else ["cert.pem", "key.pem"]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        why = "DOCKER_TLS_VERIFY is set" if verify else "DOCKER_CERT_PATH is set"
        raise EngineUnavailable(
            f"{why} for DOCKER_HOST={environ['DOCKER_HOST']}, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing in {folder}"
            f"{'' if environ.get('DOCKER_CERT_PATH') else ' (the default when DOCKER_CERT_PATH is unset)'}. "
            f"Put the engine's CA and client certificate there (ca.pem, cert.pem, key.pem), point "
            f"DOCKER_CERT_PATH at the folder that holds them, or unset DOCKER_TLS_VERIFY for an engine without TLS.")


def how_to(where: Endpoint) -> str:
    """What to do when the engine does not answer."""
    url = urlparse(where.url)
    if url.scheme == "ssh":
        port = f"-p {url.port} " if url.port else ""
        login = url.netloc.rsplit(":", 1)[0] if url.port else url.netloc
        return (f"check that `ssh {port}{login} docker info` works from here: the key must be in your ssh agent or "
                f"~/.ssh (or IdentityFile in ~/.ssh/config), and the host key in ~/.ssh/known_hosts "
                f"(`ssh-keyscan {port}{url.hostname} >> ~/.ssh/known_hosts`, after checking it).")
    if where.remote:
        return (f"check that the engine at {where.url} runs and that this machine can reach it "
                f"(`docker -H {where.url} info`), or unset DOCKER_HOST / DOCKER_CONTEXT to use a local engine.")
    return HOW_TO


def connect(timeout: float = 60.0) -> docker.DockerClient:
    """Return a client for the engine the docker CLI would use (see :func:`endpoint`); raise if none answers."""
    where = endpoint()
    try:
        # ssh:// goes through paramiko (docker-py's shelling out to ssh breaks every exec: docker/docker-py#3218)
        client = docker.DockerClient(base_url=where.url, tls=where.tls or False, timeout=int(timeout))
        client.ping()
    except (DockerException, SSHException, OSError) as exc:
        reason = str(exc).splitlines()[0][:300]
        raise EngineUnavailable(f"No Docker engine answers at {where.url} ({where.source}): {reason}\n"
                                f"  what to do: {how_to(where)}") from None
    client.crucible_endpoint = where
    return client


def can_install() -> bool:
    """True where we may install and start an engine: root, Debian-like, no other engine named (DOCKER_HOST,
    a Docker context)."""
    return (
        os.geteuid() == 0
        and endpoint().source == LOCAL
        and Path("/etc/debian_version").exists()
        and shutil.which("apt-get") is not None
    )


def ensure(wait: float = 60.0) -> docker.DockerClient:
    """Reach the engine, installing Debian's docker.io and starting dockerd when allowed."""
    try:
        return connect()
    except EngineUnavailable:
        if not can_install():
            raise
    if not shutil.which("dockerd"):
        log.info("No Docker engine here: installing Debian's docker.io (apt-get) ...")
        system.apt_install("docker.io", EngineUnavailable, HOW_TO)
    if not _dockerd_alive():
        if PID_FILE.exists():
            log.info("Removing stale %s (no dockerd process is alive)", PID_FILE)
            PID_FILE.unlink()
        log.info("Starting dockerd in the background (log: %s)", DOCKERD_LOG)
        with open(DOCKERD_LOG, "ab") as out:
            subprocess.Popen(["dockerd"], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            client = connect(timeout=10)
            log.info("Docker engine %s is up", client.version().get("Version"))
            return client
        except EngineUnavailable:
            if time.monotonic() > deadline:
                tail = _tail(DOCKERD_LOG, 15)
                raise EngineUnavailable(
                    f"dockerd was started but its socket did not answer within {wait:.0f}s.\n"
                    f"  last lines of {DOCKERD_LOG}:\n{tail}\n  what to do: {HOW_TO}"
                ) from None
            time.sleep(0.5)


@contextmanager
def guard(what: str):
    """Turn a lost engine connection during ``what`` into one EngineUnavailable paragraph."""
    try:
        yield
    except (DockerException, RequestException) as exc:
        if isinstance(exc, APIError) and exc.response is not None and exc.response.status_code < 500:
            raise
        where = os.environ.get("DOCKER_HOST") or os.environ.get("DOCKER_CONTEXT") or "unix:///var/run/docker.sock"
        reason = f"cannot connect to {where}" if isinstance(exc, RequestsConnectionError) else str(exc)[:200]
        raise EngineUnavailable(
            f"The Docker engine stopped answering while {what} ({reason}). This is an environment "
            f"problem, not a product defect: check that dockerd is running (`docker info`), then run again; "
            f"the next run removes whatever this one left behind."
        ) from None


def address(client: docker.DockerClient) -> Endpoint:
    """The endpoint a client talks to (the one :func:`connect` used, else the client's own base URL)."""
    found = getattr(client, "crucible_endpoint", None)
    return found or Endpoint(client.api.base_url, "the client")


def _machine(where: Endpoint) -> str | None:
    """The engine machine's name in its address (an ssh alias: the HostName ~/.ssh/config gives it); None
    for a local socket."""
    url = urlparse(where.url)
    if not where.remote or not url.hostname or url.hostname == "localhost":
        return None
    config = Path.home() / ".ssh" / "config"
    if url.scheme == "ssh" and config.is_file():
        return SSHConfig.from_path(str(config)).lookup(url.hostname).get("hostname", url.hostname)
    return url.hostname


def host(client: docker.DockerClient) -> str:
    """Where the engine's machine is reached from here: $CRUCIBLE_ENGINE_HOST, else the host of its address
    (tcp:// or ssh://), else 127.0.0.1 for a local socket."""
    return os.environ.get(HOST_ENV) or _machine(address(client)) or "127.0.0.1"


def bind_address(client: docker.DockerClient) -> str:
    """The address published ports bind to on the engine's machine: $CRUCIBLE_ENGINE_BIND, else 127.0.0.1 for a
    local engine, else the engine's own address as this machine resolves it (reachable from here, and only
    on that network interface of the engine's machine)."""
    if os.environ.get(BIND_ENV):
        return os.environ[BIND_ENV]
    where = address(client)
    name = _machine(where)
    if name is None:
        return "127.0.0.1"
    try:
        return socket.gethostbyname(name)
    except OSError as exc:
        raise EngineUnavailable(f"Cannot resolve {name}, the host of {where.url} ({where.source}): {exc}. Set "
                                f"{BIND_ENV} to the address published ports should bind to on that machine, "
                                f"and {HOST_ENV} to where this machine reaches it.") from None


def reach(client: docker.DockerClient, bound: str | None) -> str:
    """Where to reach a port the engine published on ``bound``: $CRUCIBLE_ENGINE_HOST, else that address, else
    (bound to every interface) the engine's host."""
    if os.environ.get(HOST_ENV):
        return os.environ[HOST_ENV]
    if bound and bound not in WILDCARDS:
        return bound
    return host(client)


def _dockerd_alive() -> bool:
    """True if any dockerd process is running."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "dockerd":
                return True
        except OSError:
            continue
    return False


def _tail(path: Path, lines: int) -> str:
    """The last lines of a file, indented, or a note that it is missing."""
    try:
        return "\n".join("    " + line for line in path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "    (no log)"
