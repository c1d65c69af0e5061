"""A typed model of the Compose subset Crucible supports, and its loader.

Everything is checked here, before anything starts: a file that is not YAML, a key
outside the subset, or a reference to a missing service raises ``ComposeError``
naming the file, the line, the service and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crucible.errors import ComposeError

TOP_LEVEL_KEYS = {"name", "services", "version"}
SERVICE_KEYS = {
    "image", "build", "command", "environment", "ports", "depends_on",
    "healthcheck", "labels", "tmpfs",
}
BUILD_KEYS = {"context", "dockerfile", "args"}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "disable"}
DEPENDS_ON_KEYS = {"condition", "required", "restart"}
CONDITIONS = {"service_started", "service_healthy"}
PORT_KEYS = {"target", "published", "protocol", "host_ip"}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class Build:
    """How to build a service's image."""

    context: Path
    dockerfile: str = "Dockerfile"
    args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Port:
    """A container port to publish on 127.0.0.1 (random host port unless ``host`` is set)."""

    container: int
    protocol: str = "tcp"
    host: int | None = None

    @property
    def key(self) -> str:
        """The engine's name for this port, e.g. ``8000/tcp``."""
        return f"{self.container}/{self.protocol}"


@dataclass(frozen=True)
class Healthcheck:
    """A readiness command run inside the container; exit code 0 means ready."""

    test: tuple[str, ...]
    interval: float = 1.0
    timeout: float = 5.0
    retries: int = 30
    start_period: float = 0.0

    @property
    def budget(self) -> float:
        """Seconds to wait before declaring the service unhealthy."""
        return self.start_period + self.retries * max(self.interval, 0.5) + self.timeout

    def command(self) -> list[str]:
        """The command to exec, in the form the engine's exec API takes."""
        kind, *rest = self.test
        if kind == "CMD-SHELL":
            return ["/bin/sh", "-c", rest[0]]
        return list(rest)


@dataclass(frozen=True)
class Service:
    """One service of the stack."""

    name: str
    image: str
    build: Build | None = None
    command: tuple[str, ...] | str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    depends_on: dict[str, str] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tmpfs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    """A whole stack: its name, where it came from, its services."""

    name: str
    path: Path
    services: dict[str, Service]

    def levels(self) -> list[list[str]]:
        """Services grouped by dependency depth: each level needs only earlier ones."""
        depth: dict[str, int] = {}

        def visit(name: str, trail: tuple[str, ...]) -> int:
            if name in trail:
                cycle = " -> ".join(trail[trail.index(name):] + (name,))
                raise ComposeError(f"{self.path}: services depend on each other in a cycle: {cycle}")
            if name not in depth:
                deps = self.services[name].depends_on
                depth[name] = 1 + max((visit(d, trail + (name,)) for d in deps), default=-1)
            return depth[name]

        for name in self.services:
            visit(name, ())
        levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name in self.services:
            levels[depth[name]].append(name)
        return levels


class _Lines:
    """Line numbers of every key in a YAML document, by path."""

    def __init__(self, text: str):
        self.by_path: dict[tuple[str, ...], int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (str(key.value),)
                self.by_path[child] = key.start_mark.line + 1
                self._walk(value, child)

    def of(self, path: tuple[str, ...]) -> int | None:
        """The line of the deepest known prefix of ``path``."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.by_path:
                return self.by_path[path[:end]]
        return None


class _Reader:
    """Turns the loaded YAML into the typed model, naming file, line and key on error."""

    def __init__(self, path: Path, text: str, env: dict[str, str]):
        self.path = path
        self.lines = _Lines(text)
        self.env = env

    def fail(self, where: tuple[str, ...], message: str, hint: str = "") -> ComposeError:
        """Build an error that names the file, line, service and key."""
        line = self.lines.of(where)
        location = f"{self.path}:{line}" if line else str(self.path)
        subject = ""
        if len(where) >= 2 and where[0] == "services":
            subject = f" service '{where[1]}'"
            if len(where) > 2:
                subject += f", key '{'.'.join(where[2:])}'"
        elif where:
            subject = f" key '{'.'.join(where)}'"
        text = f"{location}:{subject}: {message}"
        return ComposeError(text + (f"\n  hint: {hint}" if hint else ""))

    def interpolate(self, value: Any, where: tuple[str, ...]) -> Any:
        """Replace ${VAR}, ${VAR:-default} and $VAR from the environment, as Compose does."""
        if isinstance(value, dict):
            return {k: self.interpolate(v, where + (str(k),)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.interpolate(v, where) for v in value]
        if not isinstance(value, str):
            return value

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            expr = match.group("braced") if match.group("braced") is not None else match.group("plain")
            parsed = _split(expr)
            if parsed is None:
                raise self.fail(where, f"cannot read variable reference '${{{expr}}}'")
            name, sep, default = parsed
            current = self.env.get(name)
            if sep in (":?", "?") and (current is None or (sep == ":?" and current == "")):
                raise self.fail(where, f"variable '{name}' is required: {default or 'it is not set'}",
                                f"export {name}=... before running")
            if sep == ":-" and not current:
                return default
            if sep == "-" and current is None:
                return default
            return current or ""

        return _VARIABLE.sub(substitute, value)

    def only(self, mapping: dict, allowed: set[str], where: tuple[str, ...], what: str) -> None:
        """Refuse keys outside the supported subset."""
        for key in mapping:
            if key not in allowed and not str(key).startswith("x-"):
                raise self.fail(
                    where + (str(key),),
                    f"'{key}' is not supported in {what}",
                    f"Crucible supports: {', '.join(sorted(allowed))} (see README, 'Compose subset')",
                )

    def mapping(self, value: Any, where: tuple[str, ...]) -> dict:
        """Require a YAML mapping."""
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def project(self, data: Any, override: str | None, default: str) -> Project:
        """Read the whole document."""
        if not isinstance(data, dict):
            raise self.fail((), "the file must be a YAML mapping with a 'services' key")
        self.only(data, TOP_LEVEL_KEYS, (), "the top level")
        services = data.get("services")
        if not services:
            raise self.fail(("services",), "no services are defined")
        services = self.mapping(services, ("services",))
        name = str(override or data.get("name") or default)
        if not _NAME.match(name):
            raise self.fail(("name",), f"'{name}' is not a valid project name",
                            "use lowercase letters, digits, '-', '_' and '.'")
        model = {str(k): self.service(str(k), v, name) for k, v in services.items()}
        for svc in model.values():
            for dep in svc.depends_on:
                if dep not in model:
                    raise self.fail(("services", svc.name, "depends_on", dep),
                                    f"depends on '{dep}', which is not a service in this file",
                                    f"defined services: {', '.join(sorted(model))}")
        project = Project(name=name, path=self.path, services=model)
        project.levels()
        return project

    def service(self, name: str, raw: Any, project: str) -> Service:
        """Read one service."""
        where = ("services", name)
        if not _NAME.match(name):
            raise self.fail(where, f"'{name}' is not a valid service name")
        raw = self.interpolate(self.mapping(raw or {}, where), where)
        self.only(raw, SERVICE_KEYS, where, "a service")
        build = self.build(raw["build"], where + ("build",)) if "build" in raw else None
        image = raw.get("image") or (f"{project}-{name}" if build else None)
        if not image:
            raise self.fail(where, "has neither 'image' nor 'build'", "add one of them")
        return Service(
            name=name,
            image=str(image),
            build=build,
            command=self.command(raw.get("command"), where + ("command",)),
            environment=self.pairs(raw.get("environment"), where + ("environment",)),
            ports=tuple(self.port(p, where + ("ports",)) for p in self.seq(raw.get("ports"), where + ("ports",))),
            depends_on=self.depends_on(raw.get("depends_on"), where + ("depends_on",)),
            healthcheck=self.healthcheck(raw.get("healthcheck"), where + ("healthcheck",)),
            labels=self.pairs(raw.get("labels"), where + ("labels",)),
            tmpfs=tuple(str(t) for t in self.seq(raw.get("tmpfs"), where + ("tmpfs",))),
        )

    def seq(self, value: Any, where: tuple[str, ...]) -> list:
        """Accept a list, a single string, or nothing."""
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def build(self, value: Any, where: tuple[str, ...]) -> Build:
        """Read ``build`` in its short (a path) or long form."""
        if isinstance(value, str):
            value = {"context": value}
        value = self.mapping(value, where)
        self.only(value, BUILD_KEYS, where, "'build'")
        context = (self.path.parent / str(value.get("context", "."))).resolve()
        dockerfile = str(value.get("dockerfile", "Dockerfile"))
        if not context.is_dir():
            raise self.fail(where + ("context",), f"build context '{context}' is not a directory")
        if not (context / dockerfile).is_file():
            raise self.fail(where + ("dockerfile",), f"'{context / dockerfile}' does not exist")
        return Build(context=context, dockerfile=dockerfile,
                     args=self.pairs(value.get("args"), where + ("args",)))

    def command(self, value: Any, where: tuple[str, ...]) -> tuple[str, ...] | str | None:
        """Read ``command`` as a string (shell words) or a list."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        raise self.fail(where, "expected a string or a list")

    def pairs(self, value: Any, where: tuple[str, ...]) -> dict[str, str]:
        """Read a mapping or a list of KEY=VALUE strings."""
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): "" if v is None else _scalar(v) for k, v in value.items()}
        if isinstance(value, list):
            out = {}
            for item in value:
                key, _, val = str(item).partition("=")
                out[key] = val
            return out
        raise self.fail(where, "expected a mapping or a list of KEY=VALUE")

    def port(self, value: Any, where: tuple[str, ...]) -> Port:
        """Read a port in short ("8000", "8080:8000", "127.0.0.1::8000/tcp") or long form."""
        if isinstance(value, dict):
            self.only(value, PORT_KEYS, where, "a port")
            try:
                return Port(int(value["target"]), str(value.get("protocol", "tcp")),
                            int(value["published"]) if value.get("published") else None)
            except (KeyError, ValueError, TypeError):
                raise self.fail(where, f"port {value!r} needs an integer 'target'") from None
        text = str(value)
        spec, _, protocol = text.partition("/")
        parts = spec.rsplit(":", 2)
        try:
            container = int(parts[-1])
            host = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        except ValueError:
            raise self.fail(where, f"cannot read port '{text}'",
                            "write CONTAINER_PORT (e.g. \"8000\") for a random host port") from None
        if protocol not in ("", "tcp", "udp"):
            raise self.fail(where, f"port '{text}' has unknown protocol '{protocol}'")
        return Port(container, protocol or "tcp", host)

    def depends_on(self, value: Any, where: tuple[str, ...]) -> dict[str, str]:
        """Read ``depends_on`` as a list of names or a mapping with conditions."""
        if value is None:
            return {}
        if isinstance(value, list):
            return {str(name): "service_started" for name in value}
        out = {}
        for dep, spec in self.mapping(value, where).items():
            spec = self.mapping(spec or {}, where + (str(dep),))
            self.only(spec, DEPENDS_ON_KEYS, where + (str(dep),), "'depends_on'")
            condition = spec.get("condition", "service_started")
            if condition not in CONDITIONS:
                raise self.fail(where + (str(dep), "condition"), f"condition '{condition}' is not supported",
                                f"use one of: {', '.join(sorted(CONDITIONS))}")
            out[str(dep)] = condition
        return out

    def healthcheck(self, value: Any, where: tuple[str, ...]) -> Healthcheck | None:
        """Read ``healthcheck``; ``disable: true`` or test NONE mean none."""
        if value is None:
            return None
        value = self.mapping(value, where)
        self.only(value, HEALTHCHECK_KEYS, where, "'healthcheck'")
        if value.get("disable"):
            return None
        test = value.get("test")
        if isinstance(test, str):
            test = ["CMD-SHELL", test]
        if not isinstance(test, list) or not test or test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise self.fail(where + ("test",), "expected a string or a list starting with CMD or CMD-SHELL")
        if test[0] == "NONE":
            return None
        if len(test) < 2:
            raise self.fail(where + ("test",), "has no command after " + test[0])
        try:
            retries = int(value.get("retries", 30))
        except (TypeError, ValueError):
            raise self.fail(where + ("retries",), "expected an integer") from None
        return Healthcheck(
            test=tuple(str(t) for t in test),
            interval=self.duration(value.get("interval", "1s"), where + ("interval",)),
            timeout=self.duration(value.get("timeout", "5s"), where + ("timeout",)),
            retries=retries,
            start_period=self.duration(value.get("start_period", "0s"), where + ("start_period",)),
        )

    def duration(self, value: Any, where: tuple[str, ...]) -> float:
        """Read a Compose duration such as ``1m30s`` or ``500ms`` into seconds."""
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise self.fail(where, f"cannot read duration '{text}'", "write e.g. 500ms, 2s or 1m30s")
        return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def _split(expr: str) -> tuple[str, str, str] | None:
    """Split a ${...} expression into name, operator and default (None if unreadable)."""
    match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?)(.*))?$", expr, re.S)
    if not match:
        return None
    return match.group(1), match.group(2) or "", match.group(3) or ""


def _scalar(value: Any) -> str:
    """Render a YAML scalar the way Compose passes it to a container."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def default_name(path: Path, env: dict[str, str]) -> str:
    """The project name Compose would use: $COMPOSE_PROJECT_NAME, else the compose file's folder name."""
    raw = env.get("COMPOSE_PROJECT_NAME") or path.resolve().parent.name
    return re.sub(r"[^a-z0-9_-]", "", raw.lower()).lstrip("_-") or "default"


def load(paths: str | Path | list[Path], env: dict[str, str] | None = None, name: str | None = None,
         profiles: list[str] | tuple[str, ...] = ()) -> Project:
    """Load and check a stack's compose file(s); raise ``ComposeError`` naming what is wrong.

    ``name`` overrides the project name (else the file's ``name:``, else the folder's name).
    """
    files = [Path(p) for p in paths] if isinstance(paths, (list, tuple)) else [Path(paths)]
    if len(files) != 1:
        raise ComposeError(f"{', '.join(map(str, files))}: merging several compose files is not supported yet")
    path = files[0].resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComposeError(f"{path}: cannot read the compose file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ComposeError(f"{where}: not valid YAML: {problem}") from None
    env = dict(os.environ if env is None else env)
    reader = _Reader(path, text, env)
    return reader.project(data, name, default_name(path, env))
