"""A broken variant of the stack: a defect's patch applied to a temporary copy of the build contexts it touches,
and the images of those services built from the copy under a tag of their own.

Only services whose build context holds a changed file are built, with the engine's layer cache;
a service whose variant image comes out identical to its unbroken image (its Dockerfile never
copies the changed file) keeps the unbroken image.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from crucible.selfcheck.catalogue import CatalogueError, Defect, patched
from crucible.stack import images
from crucible.stack.compose import Project, Service
from crucible.vocabulary.catalogue import shown

log = logging.getLogger(__name__)

_TAG_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Variant:
    """The images a broken variant runs instead of the unbroken ones (service -> image), and what it built."""

    defect: Defect
    images: dict[str, str] = field(default_factory=dict)
    built: list[str] = field(default_factory=list)


def touched_services(project: Project, defect: Defect, root: Path) -> list[Service]:
    """The services whose build context holds a file the defect changes; CatalogueError if there is none."""
    found = []
    for service in project.services.values():
        if service.build and any(_inside(root / path, service.build.context) for path in defect.files):
            found.append(service)
    if not found:
        builds = ", ".join(f"{s.name} ({shown(str(s.build.context), root.resolve())})"
                           for s in project.services.values() if s.build)
        raise CatalogueError(f"{defect.source}: the diff changes {', '.join(defect.files)}, which no service builds "
                             f"from: a defect changes the source of a service the stack builds"
                             f"{': ' + builds if builds else ' (and no service of this stack has a build section)'}.")
    return found


def image_tag(image: str, defect: Defect) -> str:
    """The variant's tag of a service image: ``crucible/orders:dev`` -> ``crucible/orders:dev-defect-refund-twice``."""
    repo, tag = image, "latest"
    if ":" in image.rsplit("/", 1)[-1]:
        repo, tag = image.rsplit(":", 1)
    suffix = _TAG_CHARS.sub("-", f"{tag}-{defect.kind}-{defect.id}").strip("-.")
    return f"{repo}:{suffix[:128]}"


def build(client: docker.DockerClient, project: Project, defect: Defect, root: Path,
          unbroken: dict[str, str]) -> Variant:
    """Build the defect's variant images (service -> image id of the unbroken stack given); the Variant to run."""
    services = touched_services(project, defect, root)
    variant = Variant(defect)
    with tempfile.TemporaryDirectory(prefix="crucible-variant-") as tmp:
        copies = _patched_contexts(services, defect, root, Path(tmp))
        for service in services:
            tag = image_tag(service.image, defect)
            spec = replace(service.build, context=copies[service.build.context])
            image_id = images.build(client, replace(service, image=tag, build=spec))
            if image_id == unbroken.get(service.name):
                remove_image(client, tag)  # the patch does not reach this image
            else:
                variant.images[service.name] = tag
                variant.built.append(service.name)
    if not variant.images:
        raise CatalogueError(f"{defect.source}: the patch changes {', '.join(defect.files)}, but the images of "
                             f"{', '.join(s.name for s in services)} come out the same as the unbroken ones: no "
                             f"Dockerfile copies the changed files into an image.")
    return variant


def _patched_contexts(services: list[Service], defect: Defect, root: Path, tmp: Path) -> dict[Path, Path]:
    """A copy of each build context the services use, with the defect applied; original context -> copy."""
    copies: dict[Path, Path] = {}
    for number, context in enumerate(sorted({s.build.context for s in services}), 1):
        copy = tmp / f"context-{number}"
        shutil.copytree(context, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        for change in defect.changes:
            target = root / change.path
            if not _inside(target, context):
                continue
            text = patched(change, root, defect.source)
            destination = copy / target.resolve().relative_to(context.resolve())
            if text is None:
                destination.unlink(missing_ok=True)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_text(text, encoding="utf-8")
                if target.exists():
                    shutil.copymode(target, destination)
        copies[context] = copy
    return copies


def remove(client: docker.DockerClient, variant: Variant) -> None:
    """Remove the images a variant built (its tags only; layers shared with other images stay)."""
    for tag in variant.images.values():
        remove_image(client, tag)


def remove_image(client: docker.DockerClient, tag: str) -> None:
    """Remove one image tag of ours, quietly when it is gone or still in use."""
    try:
        client.images.remove(tag, noprune=False)
    except ImageNotFound:
        pass
    except APIError as exc:
        log.warning("could not remove the variant image %s: %s", tag, exc.explanation or exc)


def _inside(path: Path, folder: Path) -> bool:
    """True if path is folder or below it."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
