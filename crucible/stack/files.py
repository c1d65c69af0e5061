"""Files a service's container gets from the host: bind mounts, secrets and configs.

A secret or config from a host file is bind-mounted read-only at its target (``/run/secrets/NAME``
for secrets), as Compose does; one from a variable or inline content is copied into the created
container before it starts, with its mode. A bind of the short syntax (``./data:/data``) is given to
the engine as a bind string, so that a missing host folder is created, as Compose does.
"""

from __future__ import annotations

import io
import tarfile
import time

from docker.models.containers import Container

from crucible.stack.compose import FileMount, Service


def binds(service: Service) -> list[str]:
    """The engine's bind strings (``host:container:options``) of a service: short-syntax binds and file secrets."""
    out = []
    for mount in service.mounts:
        if mount.kind == "bind" and mount.create_host_path:
            options = ["ro" if mount.read_only else "rw"] + [o for o in (mount.propagation, mount.selinux) if o]
            out.append(f"{mount.source}:{mount.target}:{','.join(options)}")
    out += [f"{f.file}:{f.target}:ro" for f in service.files if f.file is not None]
    return out


def copy_into(container: Container, mounts: tuple[FileMount, ...]) -> None:
    """Copy secrets and configs that have no host file into a created container (before it starts)."""
    inline = [m for m in mounts if m.file is None and m.content is not None]
    if inline:
        container.put_archive("/", archive(inline))


def archive(mounts: list[FileMount]) -> bytes:
    """A tar archive holding each file at its target path (and the folders above it), readable by anyone."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folders: set[str] = set()
        for mount in mounts:
            parts = mount.target.strip("/").split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    folders.add(folder)
                    info = tarfile.TarInfo(folder)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
                    tar.addfile(info)
            data = mount.content.encode("utf-8")
            info = tarfile.TarInfo("/".join(parts))
            info.size, info.mode, info.mtime = len(data), mount.mode, now
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
