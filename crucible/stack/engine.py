"""The Docker engine: reach it, or (on a Debian-like machine, as root) install and start one."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import docker
from docker.errors import APIError, DockerException
from requests import ConnectionError as RequestsConnectionError
from requests import RequestException

from crucible import system
from crucible.errors import EngineUnavailable

log = logging.getLogger(__name__)

PID_FILE = Path("/var/run/docker.pid")
DOCKERD_LOG = Path("/var/log/crucible-dockerd.log")
HOW_TO = (
    "Start a Docker engine (e.g. `sudo systemctl start docker`, or Docker Desktop), "
    "or point DOCKER_HOST at one (e.g. DOCKER_HOST=unix:///var/run/docker.sock or tcp://127.0.0.1:2375). "
    "On a Debian/Ubuntu machine, running `make setup` as root installs and starts one."
)


def connect(timeout: float = 60.0) -> docker.DockerClient:
    """Return a client for the engine named by DOCKER_HOST (or the default socket); raise if none answers."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
        return client
    except DockerException as exc:
        reason = str(exc).splitlines()[0][:300]
        raise EngineUnavailable(f"No Docker engine answers at {where}: {reason}\n  what to do: {HOW_TO}") from None


def can_install() -> bool:
    """True where we may install and start an engine: root, Debian-like, DOCKER_HOST unset."""
    return (
        os.geteuid() == 0
        and "DOCKER_HOST" not in os.environ
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
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        reason = f"cannot connect to {where}" if isinstance(exc, RequestsConnectionError) else str(exc)[:200]
        raise EngineUnavailable(
            f"The Docker engine stopped answering while {what} ({reason}). This is an environment "
            f"problem, not a product defect: check that dockerd is running (`docker info`), then run again; "
            f"the next run removes whatever this one left behind."
        ) from None


def host(client: docker.DockerClient) -> str:
    """The host name where published ports are reached, taken from the engine's address."""
    url = urlparse(client.api.base_url)
    if url.scheme in ("http", "https", "tcp") and url.hostname and url.hostname != "localhost":
        return url.hostname
    return "127.0.0.1"


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
