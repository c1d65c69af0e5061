"""What a merged compose document means: Crucible's own checks after the schema's, and the typed model.

Every check records a problem and reading goes on, so one pass finds every problem of the stack.
A key the schema already found wrong is not checked again.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from crucible.stack.compose import support
from crucible.stack.compose.canonical import is_url
from crucible.stack.compose.documents import read_env_file
from crucible.stack.compose.model import (COMPLETED, STARTED, Attachment, Build, FileMount, Healthcheck, Hook, Mount,
                                          Network, Port, Project, Service, Volume)
from crucible.stack.compose.problems import Findings
from crucible.stack.compose.source import Node, Seq

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SERVICE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_RESTART = re.compile(r"^(?:no|always|unless-stopped|on-failure(?::\d+)?)$")
_TRUE, _FALSE = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0"}
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*" \
          r"[a-zA-Z0-9]))*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?"
                    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")
PROTOCOLS = ("tcp", "udp", "sctp")
SECRETS_DIR = "/run/secrets"


def image_problem(text: str) -> str | None:
    """Why ``text`` is not a valid image reference (None if it is one)."""
    if _IMAGE.match(text) and len(text.split("@")[0].rsplit(":", 1)[0]) <= 255:
        return None
    if _IMAGE.match(text.lower()):
        return f"image '{text}' is not a valid image reference: repository names must be lowercase"
    return f"image '{text}' is not a valid image reference"


def _scalar(value: Any) -> str:
    """A YAML scalar as the text Compose passes to a container."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Reader:
    """Reads a merged, canonical compose document into a Project, recording every problem and notice."""

    def __init__(self, doc: Node, env: dict[str, str], findings: Findings):
        self.doc = doc
        self.env = env
        self.findings = findings

    # -- helpers ---------------------------------------------------------------------------------

    def problem(self, parent: Any, key: Any, path: tuple, message: str, hint: str = "") -> None:
        """Record a problem at ``parent[key]``."""
        loc = parent.loc(key) if isinstance(parent, (Node, Seq)) else None
        self.findings.problem(loc, path, message, hint)

    def notice(self, parent: Any, key: Any, path: tuple, message: str) -> None:
        """Record a notice at ``parent[key]``."""
        loc = parent.loc(key) if isinstance(parent, (Node, Seq)) else None
        self.findings.notice(loc, path, message)

    def checked(self, path: tuple) -> bool:
        """True if the schema (or an earlier check) already found a problem there."""
        return self.findings.has_problem_at(path)

    def boolean(self, parent: Node, key: str, path: tuple, default: bool = False) -> bool:
        """A yes/no value (Compose also accepts the words true/false, yes/no, on/off, 1/0)."""
        value = parent.get(key, default)
        if isinstance(value, bool) or self.checked(path + (key,)):
            return value if isinstance(value, bool) else default
        if str(value).lower() in _TRUE | _FALSE:
            return str(value).lower() in _TRUE
        self.problem(parent, key, path + (key,), f"expected true or false, got {value!r}")
        return default

    def integer(self, parent: Node, key: str, path: tuple, default: int | None = None) -> int | None:
        """A whole number (also written as text)."""
        value = parent.get(key, default)
        if value is None or isinstance(value, int) and not isinstance(value, bool):
            return value
        if self.checked(path + (key,)):
            return default
        try:
            return int(str(value), 0)
        except ValueError:
            self.problem(parent, key, path + (key,), f"expected a whole number, got {value!r}")
            return default

    def duration(self, parent: Node, key: str, path: tuple, default: str | None) -> float | None:
        """A Compose duration such as ``1m30s`` or ``500ms``, in seconds."""
        value = parent.get(key, default)
        if value is None:
            return None
        if self.checked(path + (key,)):
            return _seconds(default) if default else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        text = str(value).strip()
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            self.problem(parent, key, path + (key,), f"cannot read duration '{text}'", "write e.g. 500ms, 2s or 1m30s")
            return _seconds(default) if default else None
        return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)

    def strings(self, value: Any, parent: Any, key: Any, path: tuple, from_env: bool = False) -> dict[str, str]:
        """A mapping (or list of KEY=VALUE) as text; an entry without a value comes from the environment."""
        if isinstance(value, Seq):
            value = Node({k: v or "" for k, _, v in (str(item).partition("=") for item in value)}, value.at)
        if not isinstance(value, Node):
            return {}
        out = {}
        for name, item in value.items():
            if not name:
                self.problem(value, name, path + (key,), "an entry has no name", "write NAME: value")
            elif item is None and from_env:
                if self.env.get(name) is not None:
                    out[name] = self.env[name]
            elif isinstance(item, (Node, Seq)):
                self.problem(value, name, path + (key, name), f"the value of '{name}' is a mapping or a list; values "
                             f"here must be text", "quote it if the text is meant to look like one")
            else:
                out[name] = "" if item is None else _scalar(item)
        return out

    def texts(self, value: Any) -> list[str]:
        """A list of texts (a single text is a list of one)."""
        if value is None:
            return []
        if isinstance(value, (str, int, float)):
            return [str(value)]
        return [str(v) for v in value] if isinstance(value, list) else []

    # -- the project -----------------------------------------------------------------------------

    def project(self, files: list[Path], override: str | None, default: str, profiles: list[str]) -> Project | None:
        """The whole stack, or None when it cannot be read at all (the problems say why)."""
        doc = self.doc
        for key in doc:
            if key in support.TOP_REFUSED:
                self.problem(doc, key, (key,), f"'{key}' is not supported: {support.TOP_REFUSED[key]}", "remove it")
            elif key in support.TOP_IGNORED:
                self.notice(doc, key, (key,), f"'{key}' is ignored: {support.TOP_IGNORED[key]}")
        services = doc.get("services")
        if not isinstance(services, Node) or not services:
            if not self.checked(("services",)):
                self.problem(doc, "services", ("services",), "no services are defined",
                             "describe at least one service under 'services:'")
            return None
        name = str(override or doc.get("name") or default)
        if not _PROJECT_NAME.match(name):
            self.problem(doc, "name", ("name",), f"'{name}' is not a valid project name",
                         "use lowercase letters, digits, '-', '_' and '.'")
        enabled, disabled = self.profiles(services, profiles)
        model = {}
        for svc_name in enabled:
            svc = services[svc_name]
            if isinstance(svc, Node):
                found = self.service(svc_name, svc, name)
                if found is not None:
                    model[svc_name] = found
        model = self.dependencies(model, services, disabled)
        networks = self.networks(model)
        volumes = self.volumes(model)
        self.cycles(model, services)
        return Project(name=name, path=files[0], services=model, files=tuple(files), networks=networks,
                       volumes=volumes, notices=tuple(self.findings.notices))

    def profiles(self, services: Node, active: list[str]) -> tuple[list[str], dict[str, list[str]]]:
        """The services to start, and the others with the profiles that would enable them."""
        chosen = set(active) or {p.strip() for p in self.env.get("COMPOSE_PROFILES", "").split(",") if p.strip()}
        enabled, disabled = [], {}
        for name, svc in services.items():
            wanted = self.texts(svc.get("profiles")) if isinstance(svc, Node) else []
            if not wanted or "*" in chosen or chosen & set(wanted):
                enabled.append(name)
            else:
                disabled[name] = wanted
        return enabled, disabled

    # -- one service -----------------------------------------------------------------------------

    def service(self, name: str, svc: Node, project: str) -> Service | None:
        """One service, or None when it is not started (scale 0)."""
        path = ("services", name)
        if not _SERVICE_NAME.match(name):
            self.problem(self.doc["services"], name, path, f"'{name}' is not a valid service name",
                         "use letters, digits, '.', '_' and '-'")
        for key in svc:
            if key in support.REFUSED:
                self.problem(svc, key, path + (key,), f"'{key}' is not supported: {support.REFUSED[key]}",
                             "remove it")
            elif key in support.IGNORED:
                self.notice(svc, key, path + (key,), f"'{key}' is ignored: {support.IGNORED[key]}")
        if self.replicas(svc, path) == 0:
            self.notice(svc, "deploy" if "deploy" in svc else "scale", path, "not started: it is scaled to 0")
            return None
        build = self.build(svc, path) if "build" in svc and not self.checked(path + ("build",)) else None
        network_mode = self.network_mode(svc, path)
        return Service(
            name=name,
            image=self.image(svc, path, project, "build" in svc),
            build=build,
            command=self.command(svc, "command", path),
            entrypoint=self.command(svc, "entrypoint", path),
            environment=self.environment(svc, path),
            ports=self.ports(svc, path, network_mode),
            expose=self.expose(svc, path),
            depends_on=self.depends_on(svc, path),
            healthcheck=self.healthcheck(svc, path),
            labels=self.labels(svc, path),
            tmpfs=tuple(self.texts(svc.get("tmpfs"))),
            mounts=self.mounts(svc, path),
            files=self.files(svc, path, "secrets") + self.files(svc, path, "configs"),
            networks={} if network_mode else self.attachments(svc, path),
            network_mode=network_mode,
            links=self.links(svc, path),
            volumes_from=self.volumes_from(svc, path),
            working_dir=self.working_dir(svc, path),
            user=None if svc.get("user") is None else str(svc["user"]),
            hostname=svc.get("hostname"),
            domainname=svc.get("domainname"),
            extra_hosts=self.extra_hosts(svc.get("extra_hosts"), svc, path),
            restart=self.restart(svc, path),
            stop_signal=svc.get("stop_signal"),
            stop_grace_period=self.duration(svc, "stop_grace_period", path, None),
            tty=self.boolean(svc, "tty", path),
            stdin_open=self.boolean(svc, "stdin_open", path),
            mac_address=svc.get("mac_address"),
            post_start=self.hooks(svc, "post_start", path),
            pre_stop=self.hooks(svc, "pre_stop", path),
            host_options=self.host_options(svc, path),
        )

    def replicas(self, svc: Node, path: tuple) -> int:
        """How many containers the file asks for (scale, deploy.replicas); more than one gets a notice."""
        deploy = svc.get("deploy") if isinstance(svc.get("deploy"), Node) else Node()
        for key in deploy:
            if key in support.DEPLOY_IGNORED:
                self.notice(deploy, key, path + ("deploy", key), f"'deploy.{key}' is ignored: "
                            f"{support.DEPLOY_IGNORED[key]}")
        count = 1
        if "replicas" in deploy:
            count = self.integer(deploy, "replicas", path + ("deploy",), 1)
        if "scale" in svc:
            count = self.integer(svc, "scale", path, 1)
        if count is not None and count > 1:
            self.notice(svc, "scale" if "scale" in svc else "deploy", path,
                        f"one container is started, not {count}: a test run needs one of each service")
        return 1 if count is None else count

    def image(self, svc: Node, path: tuple, project: str, built: bool) -> str:
        """The image to run (with a build: the tag the build gets)."""
        value = svc.get("image")
        if value is None or value == "":
            if not built:
                self.problem(self.doc["services"], path[1], path, "has neither 'image' nor 'build'",
                             "add one of them")
            return f"{project}-{path[1]}"
        text = str(value)
        why = image_problem(text)
        if why and not self.checked(path + ("image",)):
            self.problem(svc, "image", path + ("image",), why, "write [REGISTRY/]NAME[:TAG], e.g. 'postgres:16'")
        return text

    def build(self, svc: Node, path: tuple) -> Build | None:
        """How to build the image, from a local folder."""
        spec, where = svc["build"], path + ("build",)
        if not isinstance(spec, Node):
            return None
        for key in spec:
            if key in support.BUILD_REFUSED:
                self.problem(spec, key, where + (key,), f"'build.{key}' is not supported: "
                             f"{support.BUILD_REFUSED[key]}", "remove it")
            elif key in support.BUILD_IGNORED:
                self.notice(spec, key, where + (key,), f"'build.{key}' is ignored: {support.BUILD_IGNORED[key]}")
        context = str(spec.get("context", "."))
        if is_url(context):
            self.problem(spec, "context", where + ("context",), f"remote build context '{context}' is not "
                         "supported", "clone it and give the local folder as the context")
            return None
        folder = Path(context)
        dockerfile = str(spec.get("dockerfile", "Dockerfile"))
        if not folder.is_dir():
            self.problem(spec, "context", where + ("context",), f"build context '{folder}' is not a directory",
                         "fix the path (relative to the first compose file's folder)")
            return None
        if not (folder / dockerfile).is_file():
            self.problem(spec, "dockerfile" if "dockerfile" in spec else "context", where + ("dockerfile",),
                         f"'{folder / dockerfile}' does not exist", "name the Dockerfile relative to the context")
        return Build(
            context=folder, dockerfile=dockerfile, target=spec.get("target"),
            args=self.strings(spec.get("args"), spec, "args", where, from_env=True),
            labels=self.strings(spec.get("labels"), spec, "labels", where),
            network=spec.get("network"), shm_size=spec.get("shm_size"),
            extra_hosts=dict(h.split(":", 1) for h in self.extra_hosts(spec.get("extra_hosts"), spec, where)),
            no_cache=self.boolean(spec, "no_cache", where),
            cache_from=tuple(self.texts(spec.get("cache_from"))),
        )

    def command(self, svc: Node, key: str, path: tuple) -> tuple[str, ...] | str | None:
        """``command`` or ``entrypoint``: a string (split into words as Compose does) or a list."""
        value = svc.get(key)
        if isinstance(value, list):
            return tuple(_scalar(v) for v in value)
        return None if value is None else str(value)

    def environment(self, svc: Node, path: tuple) -> dict[str, str]:
        """The variables of the container: its env files, then ``environment`` on top."""
        out: dict[str, str] = {}
        files = svc.get("env_file")
        for i, entry in enumerate(files if isinstance(files, Seq) else []):
            values = self.env_file(files, i, entry, path + ("env_file", i))
            out.update({k: v for k, v in values.items() if v is not None})
        if "environment" in svc and not self.checked(path + ("environment",)):
            out.update(self.strings(svc["environment"], svc, "environment", path, from_env=True))
        return out

    def env_file(self, files: Seq, index: int, entry: Any, path: tuple) -> dict[str, str | None]:
        """The variables of one env file (a missing optional one has none)."""
        if not isinstance(entry, Node) or not isinstance(entry.get("path"), str):
            return {}
        file = Path(entry["path"])
        if not file.exists() and not self.boolean(entry, "required", path, True):
            return {}
        return read_env_file(file, self.env, self.findings, files.loc(index), path,
                             raw=entry.get("format") == "raw")

    def labels(self, svc: Node, path: tuple) -> dict[str, str]:
        """The container's labels: label files, then ``labels`` on top."""
        out: dict[str, str] = {}
        files = svc.get("label_file")
        for i, entry in enumerate(files if isinstance(files, Seq) else []):
            out.update({k: v or "" for k, v in self.env_file(files, i, entry, path + ("label_file", i)).items()})
        if not self.checked(path + ("labels",)):
            out.update(self.strings(svc.get("labels"), svc, "labels", path))
        return out

    # -- ports -----------------------------------------------------------------------------------

    def ports(self, svc: Node, path: tuple, network_mode: str | None) -> tuple[Port, ...]:
        """Published ports, each once (the same port written twice, e.g. by two files, counts once)."""
        items = svc.get("ports")
        if not isinstance(items, Seq) or self.checked(path + ("ports",)):
            return ()
        if items and network_mode and network_mode != "bridge":
            self.problem(svc, "ports", path + ("ports",), f"ports cannot be published with network_mode "
                         f"'{network_mode}'", "remove the ports, or the network_mode")
            return ()
        found: dict[tuple, Port] = {}
        for i, item in enumerate(items):
            for port in self.port(items, i, item, path + ("ports", i)):
                found[(port.container, port.protocol, port.host)] = port
        return tuple(found.values())

    def port(self, items: Seq, i: int, item: Any, path: tuple) -> list[Port]:
        """One entry of ``ports`` (a range gives several)."""
        if isinstance(item, Node):
            return self.long_port(items, i, item, path)
        text = str(item)
        spec, _, protocol = text.partition("/")
        if spec.startswith("["):
            address, _, rest = spec[1:].partition("]")
            parts = [address] + rest.lstrip(":").split(":") if rest else [address]
        else:
            parts = spec.rsplit(":", 2)
        container, host = parts[-1], parts[-2] if len(parts) >= 2 else ""
        address = parts[-3] if len(parts) == 3 else ""
        return self.published(items, i, path, text, container, host, address, protocol or "tcp")

    def long_port(self, items: Seq, i: int, item: Node, path: tuple) -> list[Port]:
        """A port in the long form (target, published, host_ip, protocol)."""
        if "target" not in item:
            self.problem(items, i, path, "a port in the long form needs 'target'", "add target: CONTAINER_PORT")
            return []
        published = "" if item.get("published") is None else str(item["published"])
        return self.published(items, i, path, f"target {item['target']}", str(item["target"]), published,
                              str(item.get("host_ip") or ""), str(item.get("protocol") or "tcp"))

    def published(self, items: Seq, i: int, path: tuple, text: str, container: str, host: str, address: str,
                  protocol: str) -> list[Port]:
        """Ports from their parts, each number checked to be 1-65535; always bound to 127.0.0.1."""
        containers = self.port_range(items, i, path, text, container)
        hosts = self.port_range(items, i, path, text, host) if host else []
        if containers is None or hosts is None:
            return []
        if protocol not in PROTOCOLS:
            self.problem(items, i, path, f"port '{text}' has unknown protocol '{protocol}'",
                         f"use one of: {', '.join(PROTOCOLS)}")
            return []
        if address and address not in ("127.0.0.1", "localhost"):
            if not _is_address(address):
                self.problem(items, i, path, f"port '{text}': '{address}' is not an IP address")
                return []
            self.notice(items, i, path, f"published on 127.0.0.1, not {address}: test stacks are reachable from "
                        "this machine only")
        if hosts and len(hosts) != len(containers):
            if len(containers) == 1:
                return [Port(containers[0], protocol, host)]  # the engine picks a free port of the range
            self.problem(items, i, path, f"port '{text}' maps {len(hosts)} host ports to {len(containers)} "
                         "container ports", "give ranges of the same length, or no host port")
            return []
        return [Port(c, protocol, hosts[n] if hosts else None) for n, c in enumerate(containers)]

    def port_range(self, items: Seq, i: int, path: tuple, text: str, part: str) -> list[int] | None:
        """``8000`` or ``8000-8002`` as a list of port numbers, each 1-65535 (None, with a problem, if not)."""
        first, _, last = part.partition("-")
        try:
            start, end = int(first), int(last or first)
        except ValueError:
            self.problem(items, i, path, f"cannot read port '{text}'",
                         "write CONTAINER_PORT (e.g. \"8000\") for a random host port, or HOST:CONTAINER")
            return None
        bad = [n for n in (start, end) if not 1 <= n <= 65535]
        if bad or end < start:
            why = f"{bad[0]} is outside 1-65535" if bad else f"the range {part} runs backwards"
            self.problem(items, i, path, f"port '{text}': {why}", "use port numbers from 1 to 65535")
            return None
        return list(range(start, end + 1))

    def expose(self, svc: Node, path: tuple) -> tuple[str, ...]:
        """Ports the container exposes to the stack's networks without publishing them."""
        items = svc.get("expose")
        if not isinstance(items, Seq) or self.checked(path + ("expose",)):
            return ()
        out = []
        for i, item in enumerate(items):
            spec, _, protocol = str(item).partition("/")
            numbers = self.port_range(items, i, path + ("expose", i), str(item), spec)
            out += [f"{n}/{protocol or 'tcp'}" for n in numbers or []]
        return tuple(dict.fromkeys(out))

    # -- dependencies, readiness -------------------------------------------------------------------

    def depends_on(self, svc: Node, path: tuple) -> dict[str, str]:
        """Services this one waits for, with the condition (checked against the stack later)."""
        value = svc.get("depends_on")
        if not isinstance(value, Node) or self.checked(path + ("depends_on",)):
            return {}
        out = {}
        for dep, spec in value.items():
            if not isinstance(spec, Node):
                continue
            if spec.get("restart"):
                self.notice(spec, "restart", path + ("depends_on", dep, "restart"), "'restart' is ignored: "
                            "Crucible restarts only the service a scenario takes down")
            # "?" marks an optional dependency until dependencies() knows which services run
            out[dep] = str(spec.get("condition", STARTED)) + ("" if self.boolean(spec, "required", path, True)
                                                              else "?")
        return out

    def dependencies(self, model: dict[str, Service], services: Node, disabled: dict[str, list[str]]) -> dict:
        """Check every dependency (explicit and implied) names a service that runs; drop optional missing ones."""
        out = {}
        for name, svc in model.items():
            deps = {}
            implied = {**{s: STARTED for s in svc.links.values()}, **{s: STARTED for s, _ in svc.volumes_from}}
            if svc.network_mode and svc.network_mode.startswith("service:"):
                implied[svc.network_mode.split(":", 1)[1]] = STARTED
            for dep, condition in {**implied, **svc.depends_on}.items():
                required = not condition.endswith("?")
                condition = condition.rstrip("?")
                if dep in model:
                    deps[dep] = condition
                elif required:
                    self.missing(name, dep, services, disabled, model)
                else:
                    self.notice(services[name], "depends_on", ("services", name, "depends_on", dep),
                                f"optional dependency '{dep}' is not in the stack: not waited for")
            out[name] = replace(svc, depends_on=deps)
        return out

    def missing(self, name: str, dep: str, services: Node, disabled: dict[str, list[str]], model: dict) -> None:
        """A problem for a dependency on a service that is not in the stack (or not enabled)."""
        svc = services[name]
        where = ("services", name, "depends_on", dep)
        deps = svc.get("depends_on")
        parent, key = (deps, dep) if isinstance(deps, Node) and dep in deps else (svc, "depends_on")
        if dep in disabled:
            self.problem(parent, key, where, f"depends on '{dep}', which runs only with the profile(s) "
                         f"{', '.join(disabled[dep])}", f"enable one: profiles = [\"{disabled[dep][0]}\"] in the "
                         f"settings (or COMPOSE_PROFILES)")
            return
        close = difflib.get_close_matches(dep, list(model), n=1)
        self.problem(parent, key, where, f"depends on '{dep}', which is not a service in this file",
                     f"did you mean '{close[0]}'?" if close else f"defined services: {', '.join(sorted(model))}")

    def cycles(self, model: dict[str, Service], services: Node) -> None:
        """A problem for services that wait for each other in a circle."""
        state: dict[str, int] = {}

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if name in trail:
                cycle = trail[trail.index(name):] + (name,)
                self.problem(services[cycle[0]], "depends_on", ("services", cycle[0], "depends_on"),
                             f"services depend on each other in a cycle: {' -> '.join(cycle)}",
                             "remove one of the dependencies")
                return
            for dep in model[name].depends_on:
                visit(dep, trail + (name,))
            state[name] = 2

        for name in model:
            visit(name, ())

    def healthcheck(self, svc: Node, path: tuple) -> Healthcheck | None:
        """The readiness command; ``disable: true`` or test NONE mean none."""
        spec, where = svc.get("healthcheck"), path + ("healthcheck",)
        if not isinstance(spec, Node):
            return None
        timing = dict(interval=self.duration(spec, "interval", where, "1s"),
                      timeout=self.duration(spec, "timeout", where, "5s"),
                      retries=self.integer(spec, "retries", where, 30),
                      start_period=self.duration(spec, "start_period", where, "0s"),
                      start_interval=self.duration(spec, "start_interval", where, None))
        if self.boolean(spec, "disable", where) or self.checked(where + ("test",)):
            return None
        test = spec.get("test")
        if isinstance(test, str):
            test = ["CMD-SHELL", test]
        if not isinstance(test, list) or not test or test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            self.problem(spec, "test", where + ("test",), "expected a string or a list starting with CMD or CMD-SHELL",
                         "write test: [\"CMD\", \"pg_isready\"] or test: pg_isready")
            return None
        if test[0] == "NONE":
            return None
        if len(test) < 2:
            self.problem(spec, "test", where + ("test",), f"has no command after {test[0]}")
            return None
        return Healthcheck(test=tuple(_scalar(t) for t in test), **timing)

    def hooks(self, svc: Node, key: str, path: tuple) -> tuple[Hook, ...]:
        """Commands to run in the container after it starts (post_start) or before it is stopped (pre_stop)."""
        items = svc.get(key)
        if not isinstance(items, Seq) or self.checked(path + (key,)):
            return ()
        out = []
        for i, spec in enumerate(items):
            where = path + (key, i)
            if isinstance(spec, Node):
                out.append(Hook(self.command(spec, "command", where), spec.get("user"),
                                self.boolean(spec, "privileged", where), spec.get("working_dir"),
                                self.strings(spec.get("environment"), spec, "environment", where, from_env=True)))
        return tuple(out)

    def restart(self, svc: Node, path: tuple) -> str | None:
        """The restart policy (``restart``, else deploy's restart_policy)."""
        value = svc.get("restart")
        if value is None:
            return self.deploy_restart(svc, path)
        text = str(value)
        if not _RESTART.match(text):
            self.problem(svc, "restart", path + ("restart",), f"restart policy '{text}' is unknown",
                         "use no, always, on-failure[:N] or unless-stopped")
            return None
        return text

    def deploy_restart(self, svc: Node, path: tuple) -> str | None:
        """deploy.restart_policy as the engine's restart policy."""
        deploy = svc.get("deploy")
        policy = deploy.get("restart_policy") if isinstance(deploy, Node) else None
        if not isinstance(policy, Node):
            return None
        condition = policy.get("condition", "any")
        attempts = self.integer(policy, "max_attempts", path + ("deploy", "restart_policy"))
        return {"none": "no", "any": "always"}.get(condition) or (
            f"on-failure:{attempts}" if attempts else "on-failure")

    # -- storage ---------------------------------------------------------------------------------

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
        self.problem(spec, None, top, f"has no content", "give 'file', 'environment'"
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

    def working_dir(self, svc: Node, path: tuple) -> str | None:
        """The container's working folder (absolute, as the engine requires)."""
        value = svc.get("working_dir")
        if value is not None and not str(value).startswith("/"):
            self.problem(svc, "working_dir", path + ("working_dir",), f"working_dir '{value}' is not an absolute "
                         "path", "write an absolute path in the container, e.g. /app")
            return None
        return value

    # -- networking ------------------------------------------------------------------------------

    def network_mode(self, svc: Node, path: tuple) -> str | None:
        """``none``, ``bridge`` or ``service:NAME``; ``host`` and ``container:`` are refused."""
        value = svc.get("network_mode")
        if value is None:
            return None
        text, where = str(value), path + ("network_mode",)
        if "networks" in svc:
            self.problem(svc, "network_mode", where, "network_mode and networks cannot be used together",
                         "keep one of them")
        if text == "host":
            self.problem(svc, "network_mode", where, "network_mode 'host' is not supported: the service would "
                         "listen on every interface of this machine and two runs would collide",
                         "remove it and publish the ports the tests use")
        elif text.startswith("container:"):
            self.problem(svc, "network_mode", where, "a container outside the stack is not supported: a run "
                         "must be self-contained", "use service:NAME")
        elif text in ("none", "bridge") or text.startswith("service:"):
            return text
        else:
            self.problem(svc, "network_mode", where, f"network_mode '{text}' is unknown",
                         "use none, bridge or service:NAME (or join networks with `networks:`)")
        return None

    def attachments(self, svc: Node, path: tuple) -> dict[str, Attachment]:
        """The networks the service joins (``default`` when none are named), highest priority first."""
        value = svc.get("networks")
        if not isinstance(value, Node) or self.checked(path + ("networks",)):
            return {"default": Attachment()}
        declared = self.doc.get("networks") if isinstance(self.doc.get("networks"), Node) else Node()
        ranked = []
        for name, spec in value.items():
            where = path + ("networks", name)
            if name not in declared and name != "default":
                self.problem(value, name, where, f"joins network '{name}', which is not declared under the "
                             "top-level 'networks:'", f"add `networks: {{{name}: {{}}}}` at the top level")
                continue
            spec = spec if isinstance(spec, Node) else Node()
            for key in ("link_local_ips", "mac_address", "driver_opts", "interface_name", "gw_priority"):
                if key in spec:
                    self.notice(spec, key, where + (key,), f"'{key}' is ignored: the engine chooses it")
            aliases = tuple(self.texts(spec.get("aliases")))
            ranked.append((-(self.integer(spec, "priority", where, 0) or 0), len(ranked), name,
                           Attachment(aliases, spec.get("ipv4_address"), spec.get("ipv6_address"))))
        return {name: attachment for _, _, name, attachment in sorted(ranked)}

    def links(self, svc: Node, path: tuple) -> dict[str, str]:
        """Legacy links: alias -> service (each linked service is also waited for)."""
        out = {}
        for item in svc.get("links") or []:
            service, _, alias = str(item).partition(":")
            out[alias or service] = service
        return out

    def extra_hosts(self, value: Any, parent: Node, path: tuple) -> tuple[str, ...]:
        """Extra /etc/hosts entries as ``host:address`` (``host-gateway`` is the engine's own address)."""
        if not isinstance(value, Node):
            return ()
        out = []
        for host, addresses in value.items():
            for address in addresses if isinstance(addresses, list) else [addresses]:
                address = str(address).strip("[]")
                if address != "host-gateway" and not _is_address(address):
                    self.problem(value, host, path + ("extra_hosts", host), f"'{address}' is not an IP address",
                                 "write HOST:ADDRESS, e.g. db.local:10.0.0.5, or host-gateway")
                    continue
                out.append(f"{host}:{address}")
        return tuple(out)

    def networks(self, model: dict[str, Service]) -> dict[str, Network]:
        """The networks the services join, each read from the top-level 'networks:'."""
        declared = self.doc.get("networks") if isinstance(self.doc.get("networks"), Node) else Node()
        used = list(dict.fromkeys(n for svc in model.values() for n in svc.networks))
        return {name: self.network(name, declared.get(name), declared) for name in used}

    def network(self, name: str, spec: Any, declared: Node) -> Network:
        """One network, created for each run: a bridge network labelled with the run."""
        where = ("networks", name)
        if not isinstance(spec, Node) or self.checked(where):
            return Network(name)
        driver = str(spec.get("driver") or "bridge")
        if driver != "bridge":
            self.notice(spec, "driver", where + ("driver",), f"created as a bridge network, not '{driver}': one "
                        "engine runs the whole stack")
        for key, why in (("name", "networks are named <project>-<run>-<network> so that runs do not collide"),
                         ("external", "it is created for the run, so that the stack is self-contained"),
                         ("driver_opts", "driver options could make two runs collide"),
                         ("attachable", "only the stack's services join it"),
                         ("enable_ipv4", "networks always have IPv4")):
            if spec.get(key) is not None and spec.get(key) is not False:
                self.notice(spec, key, where + (key,), f"'{key}' is ignored: {why}")
        ipam = spec.get("ipam") if isinstance(spec.get("ipam"), Node) else Node()
        pools = tuple({k: str(v) for k, v in pool.items() if k in ("subnet", "ip_range", "gateway")}
                      for pool in ipam.get("config") or [] if isinstance(pool, Node))
        if pools:
            self.notice(spec, "ipam", where + ("ipam",), "fixed subnets are honoured: two runs of this stack "
                        "cannot run on one engine at the same time")
        return Network(name, "bridge", self.boolean(spec, "internal", where), self.boolean(spec, "enable_ipv6", where),
                       self.strings(spec.get("labels"), spec, "labels", where), pools)

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

    # -- options passed to the engine --------------------------------------------------------------

    def host_options(self, svc: Node, path: tuple) -> dict[str, Any]:
        """Engine options Compose passes through (cap_add, init, ulimits ...), in the engine's terms."""
        out: dict[str, Any] = {}
        for key, option in support.HOST_OPTIONS.items():
            if key not in svc or self.checked(path + (key,)):
                continue
            value = svc[key]
            if key in ("privileged", "init", "read_only"):
                value = self.boolean(svc, key, path)
            elif key in ("sysctls", "storage_opt"):
                value = self.strings(value, svc, key, path)
            elif key == "ulimits":
                value = self.ulimits(value, path)
            elif key == "devices":
                value = [item if isinstance(item, str) else ":".join(
                    str(item[k]) for k in ("source", "target", "permissions") if k in item) for item in value]
            elif key == "oom_score_adj":
                value = self.integer(svc, key, path)
            elif key in ("ipc", "pid") and str(value).startswith(("service:", "container:")):
                self.problem(svc, key, path + (key,), f"sharing the {key} namespace of another container is not "
                             "supported", "remove it, or use 'shareable'/'host'")
                continue
            elif isinstance(value, list):
                value = [str(v) for v in value]
            out[option] = value
        return out

    def ulimits(self, value: Any, path: tuple) -> dict[str, tuple[int, int]]:
        """ulimits as name -> (soft, hard)."""
        out = {}
        for name, spec in (value.items() if isinstance(value, Node) else []):
            if isinstance(spec, Node):
                soft = self.integer(spec, "soft", path + ("ulimits", name), 0)
                hard = self.integer(spec, "hard", path + ("ulimits", name), 0)
            else:
                soft = hard = self.integer(value, name, path + ("ulimits",), 0)
            out[name] = (soft, hard)
        return out


def _seconds(text: str) -> float:
    """A default duration in seconds."""
    return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION.findall(text))


def _is_address(text: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


