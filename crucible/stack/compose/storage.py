"""Storage: volumes, binds and tmpfs mounts of services, the stack's named volumes, secrets and configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crucible.stack.compose.model import FileMount, Mount, Service, Volume
from crucible.stack.compose.source import Node, Seq
from crucible.stack.compose.values import Values

SECRETS_DIR = "/run/secrets"


class Storage(Values):
    """Reads ``volumes``, ``volumes_from``, ``secrets`` and ``configs``, of services and of the stack."""

    def mounts(self, svc: Node, path: tuple) -> tuple[Mount, ...]:
        """Volumes, binds and tmpfs mounts, one per target (a later one replaces an earlier one)."""
        items = svc.get("volumes")
        if not isinstance(items, Seq):
            return ()
        found: dict[str, Mount] = {}
        for i, item in enumerate(items):
            where = path + ("volumes", i)
            if isinstance(item, Node) and not self.checked(where):
                mount = self.mount(items, i, item, where)
                if mount is not None:
                    found[mount.target] = mount
        return tuple(found.values())

    def mount(self, items: Seq, i: int, spec: Node, path: tuple) -> Mount | None:
        """One mount in the long form."""
        kind, target, source = spec.get("type"), str(spec.get("target", "")), spec.get("source")
        if not target.startswith("/"):
            self.problem(items, i, path, f"mount target '{target}' is not an absolute path in the container",
                         "write an absolute path, e.g. /var/lib/data")
            return None
        if kind not in ("volume", "bind", "tmpfs"):
            self.problem(items, i, path, f"'{kind}' mounts are not supported", "use a volume, a bind or a tmpfs")
            return None
        read_only = self.boolean(spec, "read_only", path)
        if kind == "tmpfs":
            options = spec.get("tmpfs") if isinstance(spec.get("tmpfs"), Node) else Node()
            return Mount("tmpfs", target, tmpfs_size=options.get("size"), tmpfs_mode=options.get("mode"))
        if kind == "volume":
            return self.volume_mount(items, i, spec, path, target, source, read_only)
        return self.bind_mount(items, i, spec, path, target, str(source or ""), read_only)

    def volume_mount(self, items: Seq, i: int, spec: Node, path: tuple, target: str, source: Any,
                     read_only: bool) -> Mount | None:
        """A named volume (declared at the top level) or an anonymous one."""
        declared = self.doc.get("volumes") if isinstance(self.doc.get("volumes"), Node) else {}
        if source and source not in declared:
            self.problem(items, i, path, f"uses volume '{source}', which is not declared under the top-level "
                         "'volumes:'", f"add `volumes: {{{source}: {{}}}}` at the top level, or write a path "
                         f"(./{source}) for a folder of this machine")
            return None
        options = spec.get("volume") if isinstance(spec.get("volume"), Node) else Node()
        if options.get("subpath"):
            self.problem(options, "subpath", path + ("volume", "subpath"), "volume subpaths are not supported",
                         "mount the whole volume")
            return None
        return Mount("volume", target, source or None, read_only,
                     nocopy=self.boolean(options, "nocopy", path + ("volume",)))

    def bind_mount(self, items: Seq, i: int, spec: Node, path: tuple, target: str, source: str,
                   read_only: bool) -> Mount | None:
        """A folder or file of this machine."""
        if not source:
            self.problem(items, i, path, "a bind mount needs a source path", "write source: ./folder")
            return None
        options = spec.get("bind") if isinstance(spec.get("bind"), Node) else Node()
        create = self.boolean(options, "create_host_path", path + ("bind",), False)
        if not Path(source).exists():
            if not create:
                self.problem(items, i, path, f"bind source '{source}' does not exist",
                             "create it, or fix the path (relative to the first compose file's folder)")
                return None
            self.notice(items, i, path, f"bind source '{source}' does not exist: the engine creates an empty "
                        "folder there, as Compose does")
        return Mount("bind", target, source, read_only, create_host_path=create,
                     propagation=options.get("propagation"), selinux=options.get("selinux"))

    def volumes_from(self, svc: Node, path: tuple) -> tuple[tuple[str, str], ...]:
        """Services whose volumes this one mounts too."""
        out = []
        for i, item in enumerate(svc.get("volumes_from") or []):
            name, _, mode = str(item).partition(":")
            if name == "container":
                self.problem(svc["volumes_from"], i, path + ("volumes_from", i), "volumes of a container outside "
                             "the stack are not supported: a run must be self-contained", "name a service")
                continue
            out.append((name.removeprefix("service:") if name == "service" else name, mode or "rw"))
        return tuple(out)

    def files(self, svc: Node, path: tuple, kind: str) -> tuple[FileMount, ...]:
        """Secrets (at /run/secrets/NAME) or configs (at /NAME) put into the container read-only."""
        items = svc.get(kind)
        if not isinstance(items, Seq) or self.checked(path + (kind,)):
            return ()
        declared = self.doc.get(kind) if isinstance(self.doc.get(kind), Node) else Node()
        found: dict[str, FileMount] = {}
        for i, ref in enumerate(items):
            where = path + (kind, i)
            source = ref.get("source") if isinstance(ref, Node) else None
            if source not in declared:
                self.problem(items, i, where, f"uses {kind[:-1]} '{source}', which is not declared under the "
                             f"top-level '{kind}:'", f"declare it: {kind}: {{{source}: {{file: ./{source}.txt}}}}")
                continue
            mount = self.file_mount(kind, source, declared, ref, items, i, where)
            if mount is not None:
                found[mount.target] = mount
        return tuple(found.values())

    def file_mount(self, kind: str, source: str, declared: Node, ref: Node, items: Seq, i: int,
                   where: tuple) -> FileMount | None:
        """One secret or config: from a file, a variable, or inline content."""
        spec = declared[source]
        top = (kind, source)
        if not isinstance(spec, Node) or self.checked(top):
            return None
        target = str(ref.get("target") or source)
        if not target.startswith("/"):
            target = f"{SECRETS_DIR}/{target}" if kind == "secrets" else f"/{target}"
        for key in ("uid", "gid"):
            if key in ref:
                self.notice(ref, key, where + (key,), f"'{key}' is ignored: the file keeps its owner")
        mode = self.mode(ref, where)
        if spec.get("external") or "driver" in spec or "template_driver" in spec:
            key = "external" if spec.get("external") else "driver" if "driver" in spec else "template_driver"
            self.problem(spec, key, top + (key,), f"swarm {kind} ('{key}') are not supported",
                         "give the content with 'file' or 'environment'")
            return None
        if "file" in spec:
            file = Path(spec["file"])
            if not file.is_file():
                self.problem(spec, "file", top + ("file",), f"'{file}' does not exist",
                             "create it, or fix the path (relative to the first compose file's folder)")
                return None
            if "mode" in ref:
                self.notice(ref, "mode", where + ("mode",), "'mode' is ignored for a file: it is mounted as it is")
            return FileMount(source, target, file=file)
        if "environment" in spec:
            value = self.env.get(str(spec["environment"]))
            if value is None:
                self.problem(spec, "environment", top + ("environment",),
                             f"variable {spec['environment']} is not set", f"export {spec['environment']}=...")
                return None
            return FileMount(source, target, content=value, mode=mode)
        if "content" in spec and kind == "configs":
            return FileMount(source, target, content=str(spec["content"]), mode=mode)
        self.problem(spec, None, top, "has no content", "give 'file', 'environment'"
                     + (" or 'content'" if kind == "configs" else ""))
        return None

    def mode(self, ref: Node, where: tuple) -> int:
        """A file mode written as a number or as octal text ("0440")."""
        value = ref.get("mode", 0o444)
        if isinstance(value, int):
            return value
        try:
            return int(str(value), 8)
        except ValueError:
            self.problem(ref, "mode", where + ("mode",), f"cannot read mode '{value}'", "write it in octal, e.g. 0440")
            return 0o444

    def volumes(self, model: dict[str, Service]) -> dict[str, Volume]:
        """The named volumes the services mount, each read from the top-level 'volumes:'."""
        declared = self.doc.get("volumes") if isinstance(self.doc.get("volumes"), Node) else Node()
        used = dict.fromkeys(m.source for svc in model.values() for m in svc.mounts
                             if m.kind == "volume" and m.source)
        return {name: self.volume(name, declared.get(name)) for name in used}

    def volume(self, name: str, spec: Any) -> Volume:
        """One named volume: per run unless external."""
        where = ("volumes", name)
        if not isinstance(spec, Node) or self.checked(where):
            return Volume(name)
        external = spec.get("external")
        if isinstance(external, Node):
            return Volume(name, external=str(external.get("name") or spec.get("name") or name))
        if external is True or str(external).lower() == "true":
            return Volume(name, external=str(spec.get("name") or name))
        if spec.get("name"):
            self.notice(spec, "name", where + ("name",), "'name' is ignored: volumes are named "
                        "<project>-<run>-<volume> so that runs do not collide")
        driver = str(spec.get("driver") or "local")
        if driver != "local":
            self.notice(spec, "driver", where + ("driver",), f"created with the local driver, not '{driver}'")
        opts = spec.get("driver_opts") if driver == "local" and isinstance(spec.get("driver_opts"), Node) else {}
        return Volume(name, "local", {k: str(v) for k, v in opts.items()},
                      self.strings(spec.get("labels"), spec, "labels", where))
