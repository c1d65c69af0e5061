"""One compose file made ready to merge: read, interpolated, checked against the schema, in canonical
form, its ``extends`` and ``include`` resolved. Also the ``.env`` and ``env_file`` files Compose reads.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from dotenv.parser import parse_stream

from crucible.stack.compose import schema
from crucible.stack.compose.canonical import Canonical, absolute
from crucible.stack.compose.interpolation import InterpolationError, interpolate, substitute
from crucible.stack.compose.merge import merge, merge_documents, without_resets
from crucible.stack.compose.problems import Findings, Loc
from crucible.stack.compose.source import Node, decode, like, read

INCLUDED_KINDS = ("services", "networks", "volumes", "secrets", "configs")


def read_env_file(path: Path, env: dict[str, str], findings: Findings, loc: Loc | None, where: tuple,
                  raw: bool = False) -> dict[str, str | None]:
    """The variables of a dotenv file (``KEY=VALUE``, quotes, comments, ``export``), interpolated as Compose does.

    A line ``KEY`` without a value takes the variable from ``env`` (None if it is not set there).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        findings.problem(loc, where, f"cannot read env file '{path}': {exc.strerror}",
                         "create it, fix the path (relative to the compose file), or mark it `required: false`")
        return {}
    text = decode(data, path, findings)
    if text is None:
        return {}
    if raw:
        return {k: v for k, _, v in (line.partition("=") for line in text.splitlines() if "=" in line)}
    values: dict[str, str | None] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = Loc(path, binding.original.line)
        if binding.error:
            findings.problem(line, (), f"cannot read this line of env file: {binding.original.string.strip()!r}",
                             "write NAME=VALUE")
            continue
        if binding.key is None:
            continue
        if binding.value is None:
            values[binding.key] = env.get(binding.key)
            continue
        literal = binding.original.string.split("=", 1)[-1].lstrip().startswith("'")
        try:
            values[binding.key] = binding.value if literal else substitute(
                binding.value, lambda name: values.get(name) if name in values else env.get(name), lambda name: None)
        except InterpolationError as exc:
            findings.problem(line, (), str(exc), exc.hint)
    return values


def project_env(folder: Path, environ: dict[str, str], findings: Findings) -> dict[str, str]:
    """The variables compose files are interpolated with: the ``.env`` file of the project's folder under ``environ``."""
    dotenv = folder / ".env"
    if not dotenv.is_file():
        return dict(environ)
    values = read_env_file(dotenv, environ, findings, Loc(dotenv), ())
    return {**{k: v for k, v in values.items() if v is not None}, **environ}


class Documents:
    """Loads compose files into canonical, merged-ready trees (each file once)."""

    def __init__(self, env: dict[str, str], findings: Findings):
        self.env = env
        self.findings = findings
        self.loading: list[Path] = []

    def load(self, path: Path, base: Path) -> Node | None:
        """One file: read, interpolated, shape-checked, canonical (paths against ``base``), extends and include done."""
        if path in self.loading:
            chain = " -> ".join(str(p) for p in self.loading + [path])
            self.findings.problem(Loc(path), (), f"files include or extend each other in a cycle: {chain}")
            return None
        tree = read(path, self.findings)
        if tree is None:
            return None
        self.loading.append(path)
        try:
            tree = interpolate(tree, self.env, self.findings)
            schema.validate(without_resets(tree), self.findings)
            tree = Canonical(base, self.findings).document(tree)
            tree = self.extends(tree, path)
            return self.include(tree, base)
        finally:
            self.loading.pop()

    def extends(self, doc: Node, path: Path) -> Node:
        """Every service that ``extends`` another replaced by the other merged with its own settings."""
        services = doc.get("services")
        if not isinstance(services, Node):
            return doc
        done: dict[str, Any] = {}
        for name in services:
            self._extended(services, name, done, ())
        return like(doc, {**doc, "services": like(services, {n: done.get(n, s) for n, s in services.items()})})

    def _extended(self, services: Node, name: str, done: dict, trail: tuple) -> Any:
        """One service with its ``extends`` resolved (``done`` caches resolved services of this document)."""
        if name in done:
            return done[name]
        svc = services[name]
        spec = svc.get("extends") if isinstance(svc, Node) else None
        if not isinstance(spec, Node) or not isinstance(spec.get("service"), str):
            return svc
        where = ("services", name, "extends")
        if name in trail:
            self.findings.problem(svc.loc("extends"), where, f"services extend each other in a cycle: "
                                  f"{' -> '.join(trail + (name,))}")
            return svc
        base_name = spec["service"]
        if isinstance(spec.get("file"), str):
            other = self.load(Path(spec["file"]), Path(spec["file"]).parent)
            pool = other.get("services") if isinstance(other, Node) else None
            base = pool.get(base_name) if isinstance(pool, Node) else None
        else:
            base = self._extended(services, base_name, done, trail + (name,)) if base_name in services else None
        if not isinstance(base, Node):
            where_from = spec.get("file", "this file")
            self.findings.problem(spec.loc("service"), where, f"extends service '{base_name}', which is not in "
                                  f"{where_from}", "name a service defined there")
            return svc
        own = like(svc, {k: v for k, v in svc.items() if k != "extends"})
        done[name] = merge(like(base, {k: v for k, v in base.items() if k != "extends"}), own)
        return done[name]

    def include(self, doc: Node, base: Path) -> Node:
        """The services, networks, volumes, secrets and configs of ``include``d files added to the document."""
        entries = doc.get("include")
        if not entries:
            return doc
        out = like(doc, {k: v for k, v in doc.items() if k != "include"})
        for i, entry in enumerate(entries):
            paths = [entry] if isinstance(entry, str) else entry.get("path", []) if isinstance(entry, Node) else []
            paths = [paths] if isinstance(paths, str) else list(paths)
            if not paths:
                continue
            files = [Path(absolute(p, base)) for p in paths]
            folder = Path(absolute(entry["project_directory"], base)) if isinstance(entry, Node) and \
                "project_directory" in entry else files[0].parent
            included = Documents(self.included_env(entry, base, folder, entries.loc(i), i), self.findings)
            included.loading = self.loading
            trees = [t for t in (included.load(f, folder) for f in files) if t is not None]
            if not trees:
                continue
            added = trees[0]
            for tree in trees[1:]:
                added = merge_documents(added, tree)
            self._add(out, added, entries.loc(i))
        return out

    def included_env(self, entry: Any, base: Path, folder: Path, loc: Loc | None, index: int) -> dict[str, str]:
        """The variables an included project is interpolated with: its ``env_file``s (else its folder's .env)
        under the environment."""
        names = entry.get("env_file") if isinstance(entry, Node) else None
        if not names:
            return project_env(folder, self.env, self.findings)
        values: dict[str, str] = {}
        for name in [names] if isinstance(names, str) else names:
            found = read_env_file(Path(absolute(name, base)), self.env, self.findings, loc, ("include", index))
            values.update({k: v for k, v in found.items() if v is not None})
        return {**values, **self.env}

    def _add(self, doc: Node, added: Node, loc: Loc | None) -> None:
        """Add an included document's resources to ``doc``; the same name in both is a problem."""
        for kind in INCLUDED_KINDS:
            if not isinstance(added.get(kind), Node):
                continue
            mine = doc.get(kind) if isinstance(doc.get(kind), Node) else Node(at=loc)
            combined = like(mine, dict(mine))
            for name, value in added[kind].items():
                if name in mine:
                    self.findings.problem(mine.loc(name), (kind, name), f"'{name}' is defined both here and in an "
                                          f"included file ({added[kind].loc(name)})", "rename one of them")
                    continue
                combined[name] = value
                combined.where[name] = added[kind].loc(name)
            doc[kind] = combined
            doc.where.setdefault(kind, loc)
