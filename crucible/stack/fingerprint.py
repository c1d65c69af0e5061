"""Fingerprints of what each service was started from, so a kept stack can tell which services are stale.

Every container carries two labels: ``crucible.config``, a hash of the service's definition as the
compose model reads it (after interpolation, merging and profiles, so environment variables and
settings that shape the stack count too), and ``crucible.build``, a hash of its build inputs: the
Dockerfile and the files its COPY and ADD lines take from the build context (minus .dockerignore).
A service is stale when either differs now, when its image tag points to another image than the one
its container runs, when its container is not running (a one-shot job: when it did not exit with code 0),
or when it was added to or removed from the compose file.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import logging
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import ImageNotFound
from docker.utils.build import exclude_paths

from crucible.stack.compose import Project, Service

log = logging.getLogger(__name__)

LABEL_CONFIG = "crucible.config"
LABEL_BUILD = "crucible.build"
_COPY = re.compile(r"^\s*(COPY|ADD)\s+(.*)$", re.I)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.I)


@dataclass(frozen=True)
class Stale:
    """A service of a kept stack that no longer matches what would be started now, and why."""

    service: str
    reason: str
    gone: bool = False

    def __str__(self) -> str:
        return f"{self.service}: {self.reason}"


def _plain(value):
    """A value as JSON-friendly data (dataclasses as dicts, paths and the rest as text)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def config_hash(service: Service) -> str:
    """A hash of the service's definition."""
    text = json.dumps(_plain(service), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _instructions(text: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    joined, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return joined + ([current] if current else [])


def copied_sources(dockerfile_text: str) -> list[str]:
    """What the COPY and ADD lines take from the build context (not --from=, not URLs)."""
    sources = []
    for line in _instructions(dockerfile_text):
        match = _COPY.match(line)
        if not match:
            continue
        rest = match.group(2).strip()
        try:
            words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        except ValueError:
            words = rest.split()
        if any(word.startswith("--from") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")][:-1]
        sources += [path for path in paths if not _URL.match(path)]
    return sources


def _files(context: Path, sources: list[str], dockerfile: str) -> list[str]:
    """The context's files the sources name (globs and folders expanded), minus .dockerignore, sorted."""
    ignore = context / ".dockerignore"
    patterns = [p.strip() for p in ignore.read_text().splitlines() if p.strip() and not p.startswith("#")] \
        if ignore.is_file() else []
    allowed = exclude_paths(str(context), patterns, dockerfile=dockerfile)
    found = set()
    for source in sources:
        for match in glob.glob(str(context / source.lstrip("/")), recursive=True):
            path = Path(match)
            members = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            found.update(os.path.relpath(member, context) for member in members)
    return sorted(name for name in found if name in allowed)


def copied_files(service: Service, dockerfile_text: str | None = None) -> list[str]:
    """The build context's files the service's Dockerfile copies (COPY and ADD sources, globs and folders expanded,
    minus .dockerignore), relative to the context, sorted."""
    if dockerfile_text is None:
        dockerfile = service.build.context / service.build.dockerfile
        dockerfile_text = dockerfile.read_text(errors="replace") if dockerfile.is_file() else ""
    return _files(service.build.context, copied_sources(dockerfile_text), service.build.dockerfile)


def build_hash(service: Service) -> str | None:
    """A hash of the service's build inputs (None for a service without ``build``)."""
    if service.build is None:
        return None
    context = service.build.context
    dockerfile = context / service.build.dockerfile
    text = dockerfile.read_text(errors="replace") if dockerfile.is_file() else ""
    digest = hashlib.sha256(text.encode())
    for name in copied_files(service, text):
        digest.update(f"\0{name}\0".encode())
        digest.update(hashlib.sha256((context / name).read_bytes()).digest())
    return digest.hexdigest()[:16]


def labels(service: Service) -> dict[str, str]:
    """The fingerprint labels a service's container carries."""
    found = {LABEL_CONFIG: config_hash(service)}
    build = build_hash(service)
    if build:
        found[LABEL_BUILD] = build
    return found


def _image_id(client: docker.DockerClient, name: str) -> str | None:
    try:
        return client.images.get(name).id
    except ImageNotFound:
        return None


def stale(client: docker.DockerClient, project: Project, containers: dict) -> list[Stale]:
    """The services whose container (service -> container of the kept run) no longer matches the project."""
    found = []
    jobs = project.jobs()
    for name, service in project.services.items():
        container = containers.get(name)
        if container is None:
            found.append(Stale(name, "it is new in the compose file (no container yet)"))
            continue
        recorded = container.labels
        code = container.attrs.get("State", {}).get("ExitCode")
        if name in jobs and container.status == "exited" and code != 0:
            found.append(Stale(name, f"the one-shot job exited with code {code}"))
        elif container.status != "running" and not (name in jobs and container.status == "exited"):
            found.append(Stale(name, f"its container is {container.status}, not running"))
        elif LABEL_CONFIG not in recorded:
            found.append(Stale(name, "it was started without a fingerprint (by an older Crucible)"))
        elif recorded[LABEL_CONFIG] != config_hash(service):
            found.append(Stale(name, "its definition in the compose file (or a variable it uses) changed"))
        elif service.build and recorded.get(LABEL_BUILD) != build_hash(service):
            found.append(Stale(name, f"its build inputs in {service.build.context} (the Dockerfile or files it "
                                     f"copies) changed"))
        elif _image_id(client, service.image) not in (None, container.attrs.get("Image")):
            found.append(Stale(name, f"its image {service.image} now points to another image"))
    found += [Stale(name, "it is no longer in the compose file", gone=True)
              for name in sorted(set(containers) - set(project.services))
              if LABEL_CONFIG in containers[name].labels]  # not a helper of the run (a link proxy)
    return found
