"""One run's set-up and tear-down: compose model -> engine -> images -> stack."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import docker

from crucible import compose, engine, images, signals, stack
from crucible.compose import Project
from crucible.stack import Stack
from crucible.timings import Timings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMPOSE = ROOT / "docker" / "compose.yaml"


def compose_path(explicit: str | None = None) -> Path:
    """The compose file to use: an explicit path, $CRUCIBLE_COMPOSE, or docker/compose.yaml."""
    return Path(explicit or os.environ.get("CRUCIBLE_COMPOSE") or DEFAULT_COMPOSE)


def prepare(path: Path, timings: Timings) -> tuple[docker.DockerClient, Project, dict[str, str]]:
    """Check the compose file, reach the engine, clear stale runs, build images."""
    project = compose.load(path)
    with timings.phase("engine check"):
        client = engine.ensure()
        stack.reap(client, project.name)
    with timings.phase("image builds"):
        if images.BASE_IMAGE in images.base_images(project):
            images.ensure_base(client)
        image_ids = images.build_all(client, project)
    return client, project, image_ids


def connect(path: Path, timings: Timings) -> tuple[docker.DockerClient, Project, dict[str, str]]:
    """Check the compose file and reach the engine, building nothing (for attaching to a stack)."""
    project = compose.load(path)
    with timings.phase("engine check"):
        client = engine.connect()
    image_ids = {}
    for name, service in project.services.items():
        try:
            image_ids[name] = client.images.get(service.image).id
        except docker.errors.ImageNotFound:
            image_ids[name] = "(not on the engine)"
    return client, project, image_ids


def start(client: docker.DockerClient, project: Project, timings: Timings, keep: bool = False) -> Stack:
    """Bring the stack up; on any failure remove what was started and re-raise."""
    running = Stack(client, project, keep=keep)
    try:
        with timings.phase("stack start"):
            running.up()
    except BaseException:
        with signals.held():
            running.abort()
            removed = running.down()
        log.info("Start-up failed or was interrupted: removed %d resources of run %s", removed, running.run_id)
        raise
    return running


def attach(client: docker.DockerClient, project: Project, run_id: str | None) -> Stack:
    """Use a stack that is already running (left by `make up`) instead of starting one."""
    return Stack.attach(client, project, run_id)
