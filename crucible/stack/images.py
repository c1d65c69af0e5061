"""Images: the Debian base image (pulled, or made with debootstrap) and service builds with progress."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
import time

import docker
from docker.errors import APIError, ImageNotFound
from docker.utils import parse_bytes

from crucible import system
from crucible.stack.compose import Project, Service
from crucible.errors import BaseImageError, BuildError

log = logging.getLogger(__name__)

BASE_IMAGE = "debian:bookworm-slim"
MIRROR = "http://deb.debian.org/debian"
BUILD_TIMEOUT_S = 1800  # the longest a build may stay silent before it counts as hung
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", re.I | re.M)


def ensure_base(client: docker.DockerClient, name: str = BASE_IMAGE) -> str:
    """Make sure the base image exists: reuse it, pull it, or build it with debootstrap."""
    try:
        return client.images.get(name).id
    except ImageNotFound:
        pass
    log.info("Base image %s is absent: trying to pull it ...", name)
    try:
        return client.images.pull(name).id
    except APIError as exc:
        log.info("Pull failed (%s): making %s locally with debootstrap (about a minute) ...",
                 str(exc.explanation or exc)[:120], name)
    return _debootstrap(client, name)


def _debootstrap(client: docker.DockerClient, name: str) -> str:
    """Build a minbase Debian bookworm root file system and import it as ``name``."""
    if not shutil.which("debootstrap"):
        if not shutil.which("apt-get"):
            raise BaseImageError(f"{name} is missing, cannot be pulled, and debootstrap is not installed. "
                                 f"Load the image by hand (docker load / docker import) and retry.")
        log.info("Installing Debian's debootstrap ...")
        system.apt_install("debootstrap", BaseImageError)
    repo, _, tag = name.partition(":")
    with tempfile.TemporaryDirectory(prefix="crucible-rootfs-") as root:
        system.run(["debootstrap", "--variant=minbase", "bookworm", root, MIRROR], "debootstrap", BaseImageError)
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        try:
            client.api.import_image(src=tar.stdout, repository=repo, tag=tag or "latest")
        finally:
            tar.stdout.close()
            tar.wait(timeout=120)
    image = client.images.get(name)
    log.info("Made %s (%s) with debootstrap", name, image.short_id)
    return image.id


def build_all(client: docker.DockerClient, project: Project) -> dict[str, str]:
    """Build every service that has a ``build`` section; return service -> image id."""
    ids = {}
    for service in project.services.values():
        if service.build:
            ids[service.name] = build(client, service)
        else:
            ids[service.name] = _existing(client, service)
    return ids


def base_images(project: Project) -> set[str]:
    """The images named by FROM lines of the project's Dockerfiles."""
    names = set()
    for service in project.services.values():
        if service.build:
            text = (service.build.context / service.build.dockerfile).read_text(errors="replace")
            names.update(_FROM.findall(text))
    return names


def build(client: docker.DockerClient, service: Service) -> str:
    """Build one service's image, streaming its progress; raise BuildError naming the failing step."""
    spec = service.build
    log.info("Building %s -> %s", service.name, service.image)
    started = time.monotonic()
    steps: list[str] = []
    output: list[str] = []
    pending: str | None = None
    cached = 0
    image_id = None
    try:
        stream = client.api.build(
            path=str(spec.context), dockerfile=spec.dockerfile, tag=service.image,
            buildargs=spec.args or None, rm=True, forcerm=True, decode=True, pull=False,
            timeout=BUILD_TIMEOUT_S, target=spec.target, labels=spec.labels or None,
            network_mode=spec.network, shmsize=_bytes(spec.shm_size), extra_hosts=spec.extra_hosts or None,
            nocache=spec.no_cache, cache_from=list(spec.cache_from) or None,
        )
        for chunk in stream:
            if "error" in chunk:
                raise BuildError(_build_failure(service, steps, output, chunk["error"]))
            line = chunk.get("stream", "").rstrip()
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if not line:
                continue
            output.append(line)
            if line.startswith("Step "):
                steps.append(line)
                pending = line
                if " : FROM " in line:  # FROM never reports "Using cache"
                    cached += 1
                    pending = None
            elif line.strip() == "---> Using cache":
                cached += 1
                pending = None
            elif pending and not line.startswith((" ---> ", "Removing intermediate")):
                log.info("  [%s] %s", service.name, pending)
                pending = None
    except APIError as exc:
        raise BuildError(_build_failure(service, steps, output, str(exc.explanation or exc))) from None
    log.info("  [%s] built in %.1fs (%d of %d steps cached)", service.name, time.monotonic() - started,
             cached, len(steps))
    return image_id or client.images.get(service.image).id


def _bytes(size: int | str | None) -> int | None:
    """A size such as ``256m`` in bytes (the build API takes a number)."""
    if size is None or isinstance(size, int):
        return size
    return parse_bytes(size)


def _build_failure(service: Service, steps: list[str], output: list[str], error: str) -> str:
    """A build error message: the Dockerfile, the failing step and the output's tail."""
    dockerfile = service.build.context / service.build.dockerfile
    step = steps[-1] if steps else "(before the first step)"
    tail = "\n".join("    " + line for line in output[-15:])
    return (f"Image build for service '{service.name}' failed ({dockerfile}).\n"
            f"  failing step: {step}\n  error: {error.strip()}\n  last output:\n{tail}")


def _existing(client: docker.DockerClient, service: Service) -> str:
    """The id of a prebuilt image, pulling it if it is absent."""
    try:
        return client.images.get(service.image).id
    except ImageNotFound:
        pass
    try:
        return client.images.pull(service.image).id
    except APIError as exc:
        raise BuildError(f"Service '{service.name}' uses image '{service.image}', which is not on this engine "
                         f"and cannot be pulled: {exc.explanation or exc}") from None
