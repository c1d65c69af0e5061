"""Compose's many ways of writing one thing, brought to one form before files are merged.

A list of ``KEY=VALUE`` becomes a mapping, ``depends_on: [db]`` gets its condition, a short volume
``./data:/data:ro`` becomes the long form, and every relative path becomes absolute against the
folder it is relative to. Merging several files then only has to merge mappings and append lists,
as Compose does. Locations are kept, so problems found later still name the line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crucible.stack.compose.problems import Findings
from crucible.stack.compose.source import Node, Seq, like

MAPPING_KEYS = ("environment", "labels", "annotations", "sysctls")
BUILD_MAPPING_KEYS = ("args", "labels")
LIST_KEYS = ("tmpfs", "dns", "dns_search")
PROPAGATIONS = {"shared", "slave", "private", "rshared", "rslave", "rprivate"}
MODES = {"ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated"} | PROPAGATIONS


def is_url(text: str) -> bool:
    """True for a remote build context (git or HTTP), which has no local folder."""
    return "://" in text or text.startswith(("git@", "github.com/"))


def absolute(text: str, base: Path) -> str:
    """A path from a compose file made absolute: ``~`` is the home folder, relative is against ``base``."""
    expanded = os.path.expanduser(text)
    return os.path.normpath(expanded if os.path.isabs(expanded) else base / expanded)


class Canonical:
    """Brings one compose document to canonical form; relative paths are against ``base``."""

    def __init__(self, base: Path, findings: Findings):
        self.base = base
        self.findings = findings

    def document(self, doc: Node) -> Node:
        """The whole document in canonical form."""
        out = like(doc, dict(doc))
        services = doc.get("services")
        if isinstance(services, Node):
            out["services"] = like(services, {name: self.service(svc, ("services", name))
                                              if isinstance(svc, Node) else svc
                                              for name, svc in services.items()})
        for kind in ("secrets", "configs"):
            if isinstance(doc.get(kind), Node):
                out[kind] = like(doc[kind], {name: self.file_source(spec) for name, spec in doc[kind].items()})
        for kind in ("volumes", "networks"):
            if isinstance(doc.get(kind), Node):
                out[kind] = like(doc[kind], {name: Node(at=doc[kind].loc(name)) if spec is None else spec
                                             for name, spec in doc[kind].items()})
        return out

    def service(self, svc: Node, path: tuple) -> Node:
        """One service in canonical form."""
        out = like(svc, dict(svc))
        for key in MAPPING_KEYS:
            if key in svc:
                out[key] = self.mapping(svc, key, path, from_env=key == "environment")
        if "extra_hosts" in svc:
            out["extra_hosts"] = self.mapping(svc, "extra_hosts", path, separators=("=", ":"))
        for key in LIST_KEYS:
            if isinstance(svc.get(key), str):
                out[key] = Seq([svc[key]], svc.loc(key), [svc.loc(key)])
        if "build" in svc:
            out["build"] = self.build(svc, path)
        if "depends_on" in svc:
            out["depends_on"] = self.depends_on(svc["depends_on"], svc.loc("depends_on"))
        if isinstance(svc.get("networks"), Seq):
            nets = svc["networks"]
            out["networks"] = Node({str(n): None for n in nets}, nets.at,
                                   {str(n): nets.loc(i) for i, n in enumerate(nets)})
        if "env_file" in svc:
            out["env_file"] = self.env_files(svc, "env_file")
        if "label_file" in svc:
            out["label_file"] = self.env_files(svc, "label_file")
        if isinstance(svc.get("volumes"), Seq):
            out["volumes"] = like(svc["volumes"], [self.volume(v, svc["volumes"].loc(i), path + ("volumes", i))
                                                   for i, v in enumerate(svc["volumes"])])
        for kind in ("secrets", "configs"):
            if isinstance(svc.get(kind), Seq):
                out[kind] = like(svc[kind], [Node({"source": v}, svc[kind].loc(i)) if isinstance(v, str) else v
                                             for i, v in enumerate(svc[kind])])
        if "extends" in svc:
            out["extends"] = self.extends(svc)
        return out

    def mapping(self, parent: Node, key: str, path: tuple, from_env: bool = False,
                separators: tuple[str, ...] = ("=",)) -> Any:
        """A mapping, or a list of ``KEY=VALUE``, as a mapping; ``KEY`` alone is None (``from_env``: taken from the
        environment later) or an empty value."""
        value = parent[key]
        if not isinstance(value, Seq):
            return value
        out = Node(at=value.at)
        for i, item in enumerate(value):
            text = str(item)
            cut = min((text.find(s) for s in separators if s in text), default=-1)
            name, val = (text[:cut], text[cut + 1:]) if cut >= 0 else (text, None)
            if not name.strip():
                self.findings.problem(value.loc(i), path + (key, i), f"entry '{text}' has no variable name",
                                      "write NAME=VALUE")
                continue
            out[name] = val if from_env or val is not None else ""
            out.where[name] = value.loc(i)
        return out

    def build(self, svc: Node, path: tuple) -> Any:
        """``build`` as a mapping with an absolute context; its lists of KEY=VALUE as mappings."""
        build = svc["build"]
        if isinstance(build, str):
            build = Node({"context": build}, svc.loc("build"), {"context": svc.loc("build")})
        if not isinstance(build, Node):
            return build
        out = like(build, dict(build))
        context = build.get("context", ".")
        if isinstance(context, str) and not is_url(context):
            out["context"] = absolute(context, self.base)
            out.where.setdefault("context", build.at)
        for key in BUILD_MAPPING_KEYS:
            if key in build:
                out[key] = self.mapping(build, key, path + ("build",), from_env=key == "args")
        if "extra_hosts" in build:
            out["extra_hosts"] = self.mapping(build, "extra_hosts", path + ("build",), separators=("=", ":"))
        return out

    def depends_on(self, value: Any, at) -> Any:
        """``depends_on`` as a mapping of service -> {condition, required}."""
        if isinstance(value, Seq):
            return Node({str(name): Node({"condition": "service_started", "required": True}, value.loc(i))
                         for i, name in enumerate(value)}, value.at,
                        {str(name): value.loc(i) for i, name in enumerate(value)})
        if isinstance(value, Node):
            return like(value, {name: like(spec, {"condition": "service_started", "required": True, **spec})
                                if isinstance(spec, Node) else spec for name, spec in value.items()})
        return value

    def env_files(self, svc: Node, key: str) -> Any:
        """``env_file`` (or ``label_file``) as a list of {path, required, format} with absolute paths."""
        value = svc[key]
        items = Seq([value], svc.loc(key), [svc.loc(key)]) if isinstance(value, str) else value
        if not isinstance(items, Seq):
            return value
        out = []
        for i, item in enumerate(items):
            entry = Node({"path": item}, items.loc(i)) if isinstance(item, str) else item
            if isinstance(entry, Node) and isinstance(entry.get("path"), str):
                entry = like(entry, {"required": True, **entry, "path": absolute(entry["path"], self.base)})
            out.append(entry)
        return like(items, out)

    def volume(self, value: Any, at, path: tuple) -> Any:
        """A service's volume in the long form, bind sources absolute."""
        if isinstance(value, Node):
            out = like(value, dict(value))
            if value.get("type") == "bind" and isinstance(value.get("source"), str) and value["source"]:
                out["source"] = absolute(value["source"], self.base)
            return out
        if not isinstance(value, str):
            return value
        return self.short_volume(value, at, path)

    def short_volume(self, text: str, at, path: tuple) -> Any:
        """``[SOURCE:]TARGET[:MODE]`` as the long form."""
        parts = text.split(":")
        if len(parts) == 1:
            return Node({"type": "volume", "target": text}, at)
        if len(parts) > 3:
            self.findings.problem(at, path, f"cannot read volume '{text}'", "write SOURCE:TARGET[:MODE]")
            return text
        source, target, modes = parts[0], parts[1], parts[2].split(",") if len(parts) == 3 else []
        if not source:
            self.findings.problem(at, path, f"volume '{text}' has an empty source (an unset variable?)",
                                  "name a volume or a host path before the ':'")
            return text
        unknown = [m for m in modes if m not in MODES]
        if unknown:
            self.findings.problem(at, path, f"volume '{text}' has unknown mode '{unknown[0]}'",
                                  f"use: {', '.join(sorted(MODES))}")
            return text
        bind = source.startswith((".", "/", "~"))
        entry = Node({"type": "bind" if bind else "volume", "source": absolute(source, self.base) if bind else source,
                      "target": target, "read_only": "ro" in modes}, at)
        propagation = [m for m in modes if m in PROPAGATIONS]
        selinux = [m for m in modes if m in ("z", "Z")]
        if bind:
            entry["bind"] = Node({"create_host_path": True, **({"propagation": propagation[0]} if propagation else {}),
                                  **({"selinux": selinux[0]} if selinux else {})}, at)
        elif "nocopy" in modes:
            entry["volume"] = Node({"nocopy": True}, at)
        return entry

    def file_source(self, spec: Any) -> Any:
        """A top-level secret or config with an absolute ``file``."""
        if isinstance(spec, Node) and isinstance(spec.get("file"), str):
            return like(spec, {**spec, "file": absolute(spec["file"], self.base)})
        return spec

    def extends(self, svc: Node) -> Any:
        """``extends`` as {service, file} with an absolute file."""
        value = svc["extends"]
        if isinstance(value, str):
            return Node({"service": value}, svc.loc("extends"))
        if isinstance(value, Node) and isinstance(value.get("file"), str):
            return like(value, {**value, "file": absolute(value["file"], self.base)})
        return value
