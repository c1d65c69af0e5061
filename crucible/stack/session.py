"""One run's set-up and tear-down: settings -> compose model -> engine -> images -> stack."""

from __future__ import annotations

import difflib
import logging
from dataclasses import replace

import docker

from crucible import signals
from crucible.errors import SettingsError
from crucible.settings import Settings
from crucible.errors import StartupError
from crucible.stack import compose, engine, fingerprint, images, running
from crucible.stack.compose import Project
from crucible.stack.running import Stack
from crucible.timings import Timings

log = logging.getLogger(__name__)


def load_project(settings: Settings) -> Project:
    """The stack the settings name, checked (nothing is started), with the images the settings put in place."""
    project = compose.load(settings.compose_files, name=settings["project"], profiles=settings["profiles"])
    images = {name: str(table["image"]) for name, table in settings["services"].items()
              if isinstance(table, dict) and table.get("image")}
    for name in images:
        if name not in project.services:
            close = difflib.get_close_matches(name, list(project.services), n=1)
            raise SettingsError(f"{settings.where(f'services.{name}.image')}: the stack has no service '{name}'"
                                + (f"; did you mean '{close[0]}'?" if close else "") +
                                f" Its services: {', '.join(sorted(project.services))}.")
    return with_images(project, images)


def with_images(project: Project, images: dict[str, str]) -> Project:
    """The project with some services running a given image instead of theirs (their build is skipped)."""
    if not images:
        return project
    services = {name: replace(service, image=images[name], build=None) if name in images else service
                for name, service in project.services.items()}
    return replace(project, services=services)


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


def kept(client: docker.DockerClient, project: Project) -> str | None:
    """The id of a stack of the project that `crucible up` left running, if there is one."""
    found = [run_id for run_id, owner in running.runs(client, project.name).items() if owner == running.KEEP]
    return found[0] if found else None


def attach(client: docker.DockerClient, project: Project, run_id: str | None, refresh: bool = False,
           check_fresh: bool = True) -> Stack:
    """Use a stack that is already running (left by `crucible up`) instead of starting one.

    Says which services are stale (their definition, build inputs or image changed since they started);
    with ``refresh`` rebuilds their images and restarts only those. ``check_fresh=False`` skips that (a worker:
    the run's coordinator checked before any worker started).
    """
    stack = Stack.attach(client, project, run_id)
    if check_fresh and stack.owner == running.KEEP:  # a run's own stack is never stale
        _check_fresh(client, project, stack, refresh)
    missing = sorted(set(project.services) - set(stack.running))
    if missing:
        raise StartupError(f"Run {stack.run_id} of '{project.name}' has no running container for: "
                           f"{', '.join(missing)}. Run `crucible up --refresh` to start them.")
    return stack


def _check_fresh(client: docker.DockerClient, project: Project, stack: Stack, refresh: bool) -> None:
    """Name a kept stack's stale services; with ``refresh`` rebuild their images and restart only those."""
    containers = stack.containers()
    stale = fingerprint.stale(client, project, containers)
    if stale and refresh:
        log.info("Refreshing %d stale service(s) of run %s:\n%s", len(stale), stack.run_id,
                 "\n".join(f"  {item}" for item in stale))
        for item in stale:
            if not item.gone and project.services[item.service].build:
                images.build(client, project.services[item.service])
        stack.refresh({item.service for item in stale}, containers)
    elif stale:
        log.warning("The kept stack (run %s) is stale: it is not what the project would start now, so it would "
                    "test old code:\n%s\n  Rebuild and restart only these: `crucible up --refresh` (or run with "
                    "-D refresh=1).", stack.run_id, "\n".join(f"  {item}" for item in stale))


def open_stack(project: Project, attach_to: str | None, refresh: bool, timings: Timings,
               check_fresh: bool = True) -> tuple[docker.DockerClient, dict[str, str], Stack, bool]:
    """The run's stack: the kept one ``attach_to`` names (``kept`` or a run id), else a new one.

    Returns the client, the image ids, the stack, and whether this run owns it (and removes it at the end).
    """
    if attach_to:
        client, image_ids = connect(project, timings)
        stack = attach(client, project, None if attach_to == "kept" else attach_to, refresh=refresh,
                       check_fresh=check_fresh)
        log.info("Attached to run %s of '%s' (it stays up)", stack.run_id, project.name)
        return client, image_ids, stack, False
    client, image_ids = prepare(project, timings)
    return client, image_ids, start(client, project, timings), True


def close_stack(stack: Stack, owned: bool, timings: Timings) -> None:
    """Remove the run's stack if the run owns it (signals held, so a second Ctrl-C cannot cut it short)."""
    if owned:
        with timings.phase("teardown"), signals.held():
            removed = stack.down()
        log.info("Removed %d containers/networks/volumes of run %s", removed, stack.run_id)
