"""What a merged compose document means: Crucible's own checks after the schema's, and the typed model.

Every check records a problem and reading goes on, so one pass finds every problem of the stack.
A key the schema already found wrong is not checked again.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from crucible.stack.compose import support
from crucible.stack.compose.canonical import is_url
from crucible.stack.compose.documents import read_env_file
from crucible.stack.compose.model import STARTED, Build, Healthcheck, Hook, Project, Service
from crucible.stack.compose.networking import Networking
from crucible.stack.compose.ports import Ports
from crucible.stack.compose.source import Node, Seq
from crucible.stack.compose.storage import Storage
from crucible.stack.compose.values import scalar

_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SERVICE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_RESTART = re.compile(r"^(?:no|always|unless-stopped|on-failure(?::\d+)?)$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*" \
          r"[a-zA-Z0-9]))*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?"
                    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")


def image_problem(text: str) -> str | None:
    """Why ``text`` is not a valid image reference (None if it is one)."""
    first = text.split("/", 1)[0] if "/" in text else ""
    registry = "." in first or ":" in first or first == "localhost" or first.startswith("[")
    if _IMAGE.match(text) and (registry or first == first.lower()):
        return None
    if _IMAGE.match(text.lower()):
        return f"image '{text}' is not a valid image reference: repository names must be lowercase"
    return f"image '{text}' is not a valid image reference"


class Reader(Ports, Storage, Networking):
    """Reads a merged, canonical compose document into a Project, recording every problem and notice."""

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
            return tuple(scalar(v) for v in value)
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
        return Healthcheck(test=tuple(scalar(t) for t in test), **timing)

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

    def working_dir(self, svc: Node, path: tuple) -> str | None:
        """The container's working folder (absolute, as the engine requires)."""
        value = svc.get("working_dir")
        if value is not None and not str(value).startswith("/"):
            self.problem(svc, "working_dir", path + ("working_dir",), f"working_dir '{value}' is not an absolute "
                         "path", "write an absolute path in the container, e.g. /app")
            return None
        return value

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
