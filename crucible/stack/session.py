"""One run's set-up and tear-down: settings -> compose model -> engine -> images -> stack."""

from __future__ import annotations

import logging

import docker

from crucible import signals
from crucible.settings import Settings
from crucible.stack import compose, engine, images, running
from crucible.stack.compose import Project
from crucible.stack.running import Stack
from crucible.timings import Timings

log = logging.getLogger(__name__)


def load_project(settings: Settings) -> Project:
    """The stack the settings name, checked (nothing is started)."""
    return compose.load(settings.compose_files, name=settings["project"], profiles=settings["profiles"])


def prepare(project: Project, timings: Timings) -> tuple[docker.DockerClient, dict[str, str]]:
    """Reach the engine, clear stale runs of the project, build images; return the client and image ids."""
    with timings.phase("engine check"):
        client = engine.ensure()
        running.reap(client, project.name)
    with timings.phase("image builds"):
        if images.BASE_IMAGE in images.base_images(project):
            images.ensure_base(client)
        image_ids = images.build_all(client, project)
    return client, image_ids


def connect(project: Project, timings: Timings) -> tuple[docker.DockerClient, dict[str, str]]:
    """Reach the engine, building nothing (for attaching to a stack); return the client and image ids."""
    with timings.phase("engine check"):
        client = engine.connect()
    image_ids = {}
    for name, service in project.services.items():
        try:
            image_ids[name] = client.images.get(service.image).id
        except docker.errors.ImageNotFound:
            image_ids[name] = "(not on the engine)"
    return client, image_ids


def start(client: docker.DockerClient, project: Project, timings: Timings, keep: bool = False) -> Stack:
    """Bring the stack up; on any failure remove what was started and re-raise."""
    stack = Stack(client, project, keep=keep)
    try:
        with timings.phase("stack start"):
            stack.up()
    except BaseException:
        with signals.held():
            stack.abort()
            removed = stack.down()
        log.info("Start-up failed or was interrupted: removed %d resources of run %s", removed, stack.run_id)
        raise
    return stack


def attach(client: docker.DockerClient, project: Project, run_id: str | None) -> Stack:
    """Use a stack that is already running (left by `crucible up`) instead of starting one."""
    return Stack.attach(client, project, run_id)
